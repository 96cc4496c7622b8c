'use strict';
// Builds native/ against the LibTorch that scripts/libtorch.js finds, with cmake-js, and records which
// LibTorch that was next to the addon (build/Release/torchnode.json) for the runtime loader's check.
// Usage: node scripts/build-native.js [--debug]

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch, summary, PROJECT_ROOT } = require('./libtorch');

function fail(message) {
  console.error(`\ntorchnode: ${message}\n`);
  process.exit(1);
}

function main() {
  let lt;
  try {
    lt = findLibTorch({ install: true, log: console.log });
  } catch (e) {
    fail(e.message);
  }
  console.log(`torchnode: building against ${summary(lt)}`);

  if (spawnSync('cmake', ['--version']).error) {
    fail('cmake was not found on PATH; install it (e.g. apt-get install cmake) and run npm install again.');
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const debug = process.argv.includes('--debug');
  const args = [
    cmakeJs, 'build', '--directory', PROJECT_ROOT, '--log-level', 'warn',
    `--CDTORCH_INCLUDE_DIRS=${lt.includeDirs.join(';')}`,
    `--CDTORCH_LIB_DIR=${lt.libDir}`,
    `--CDTORCH_CUDA=${lt.cuda ? 'ON' : 'OFF'}`,
    `--CDTORCH_CXX11_ABI=${lt.cxx11Abi}`,
  ];
  if (debug) args.push('--debug');
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: PROJECT_ROOT });
  if (r.status !== 0) {
    fail(
      `the native build failed against ${summary(lt)} (the compiler's messages are above).\n` +
        'If that LibTorch is damaged or not the one you meant, set LIBTORCH to an unpacked LibTorch folder ' +
        'or TORCHNODE_PYTHON to a python whose PyTorch you want, and run npm install again.',
    );
  }
  const outDir = path.join(PROJECT_ROOT, 'build', debug ? 'Debug' : 'Release');
  const info = { torchVersion: lt.version, root: lt.root, cuda: lt.cuda, cudaVersion: lt.cudaVersion, builtAt: new Date().toISOString() };
  fs.writeFileSync(path.join(outDir, 'torchnode.json'), JSON.stringify(info, null, 2) + '\n');
  console.log(`torchnode: built ${path.relative(PROJECT_ROOT, path.join(outDir, 'torchnode.node'))} in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
    `(LibTorch ${lt.version}, ${lt.cuda ? 'CUDA ' + lt.cudaVersion : 'CPU only'})`);
}

main();
