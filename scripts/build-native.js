'use strict';
// Builds native/ against the LibTorch that scripts/libtorch.js finds, with cmake-js, and records which
// LibTorch that was next to the addon (build/Release/torchnode.json) for the runtime loader's check.
// Usage: node scripts/build-native.js [--debug]

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch, summary, tooOld, PROJECT_ROOT } = require('./libtorch');

function fail(message) {
  console.error(`\ntorchnode: ${message}\n`);
  process.exit(1);
}

/** Builds against `lt` (default: what scripts/libtorch.js finds, installing PyTorch with pip if nothing is). */
function main(lt) {
  if (!lt) {
    try {
      lt = findLibTorch({ install: true, log: console.log });
    } catch (e) {
      fail(e.message);
    }
  }
  const old = tooOld(lt);
  if (old) fail(old);
  console.log(`torchnode: building against ${summary(lt)}`);

  if (spawnSync('cmake', ['--version']).error) {
    fail('cmake was not found on PATH; install it (e.g. apt-get install cmake) and run npm install again.');
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const debug = process.argv.includes('--debug');
  const defines = {
    TORCH_INCLUDE_DIRS: lt.includeDirs.join(';'),
    TORCH_LIB_DIR: lt.libDir,
    TORCH_CUDA: lt.cuda ? 'ON' : 'OFF',
    TORCH_CXX11_ABI: String(lt.cxx11Abi),
  };
  const cmakeArgs = (command) => [
    cmakeJs,
    command,
    '--directory',
    PROJECT_ROOT,
    '--log-level',
    'warn',
    ...Object.entries(defines).map(([k, v]) => `--CD${k}=${v}`),
    ...(debug ? ['--debug'] : []),
  ];
  const started = Date.now();
  // `cmake-js build` configures only a fresh build folder: another LibTorch than the configured one
  // needs a configure first, or the addon would still link the old one.
  const cache = (() => {
    try {
      return fs.readFileSync(path.join(PROJECT_ROOT, 'build', 'CMakeCache.txt'), 'utf8');
    } catch {
      return null;
    }
  })();
  const stale = cache && Object.entries(defines).some(([k, v]) => !cache.includes(`\n${k}:UNINITIALIZED=${v}\n`));
  let r = stale ? spawnSync(process.execPath, cmakeArgs('configure'), { stdio: 'inherit', cwd: PROJECT_ROOT }) : { status: 0 };
  if (r.status === 0) r = spawnSync(process.execPath, cmakeArgs('build'), { stdio: 'inherit', cwd: PROJECT_ROOT });
  if (r.status !== 0) {
    fail(
      `the native build failed against ${summary(lt)} (the compiler's messages are above).\n` +
        'If that LibTorch is damaged or not the one you meant, set LIBTORCH to an unpacked LibTorch folder ' +
        'or TORCHNODE_PYTHON to a python whose PyTorch you want, and run npm install again.',
    );
  }
  const outDir = path.join(PROJECT_ROOT, 'build', debug ? 'Debug' : 'Release');
  const info = {
    torchVersion: lt.version,
    root: lt.root,
    cuda: lt.cuda,
    cudaVersion: lt.cudaVersion,
    cxx11Abi: lt.cxx11Abi,
    builtAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(outDir, 'torchnode.json'), JSON.stringify(info, null, 2) + '\n');
  console.log(
    `torchnode: built ${path.relative(PROJECT_ROOT, path.join(outDir, 'torchnode.node'))} in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
      `(LibTorch ${lt.version}, ${lt.cuda ? 'CUDA ' + lt.cudaVersion : 'CPU only'})`,
  );
}

module.exports = { build: main };

if (require.main === module) main();
