#!/usr/bin/env node
'use strict';
// A node-gyp stand-in for prebuildify, which knows node-gyp only (`npm run prebuild` passes this file as
// `--node-gyp`). prebuildify calls `<this> rebuild --target=… --arch=… --release|--debug`, then takes the
// first .node in build/Release (or build/Debug), strips it and moves it to prebuilds/<platform>-<arch>/.
// Here `rebuild` builds with cmake-js through scripts/build-native.js (a Node-API build does not depend on
// the --target Node version), and writes the record of the LibTorch it was built against next to where
// the prebuild goes: prebuilds/<platform>-<arch>/torchnode.json. `npm install` (scripts/install.js) and
// the loader (lib/core/native.ts) take the prebuild only when that record's LibTorch is the one found there.
//
// TORCHNODE_PREBUILD_FROM=<dir> packages an addon already built (its torchnode.node and torchnode.json,
// e.g. build/Release of CI's `npm ci`) instead of compiling it again.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ADDON = 'torchnode.node';
const RECORD = 'torchnode.json';

/** The record a prebuild carries: what the loader and install compare with the LibTorch found. */
function prebuildRecord(buildRecord, platform, arch) {
  return {
    torchVersion: buildRecord.torchVersion,
    cuda: buildRecord.cuda,
    cudaVersion: buildRecord.cudaVersion ?? null,
    cxx11Abi: buildRecord.cxx11Abi ?? null,
    platform,
    arch,
    napiVersion: 8,
    prebuild: true,
    builtAgainst: buildRecord.root,
    builtAt: new Date().toISOString(),
  };
}

function main(argv) {
  const cwd = process.cwd();
  if (argv[0] !== 'rebuild') {
    console.error(`prebuild-gyp: only "rebuild" is supported (got ${argv.join(' ')})`);
    process.exit(1);
  }
  const debug = argv.includes('--debug');
  const archArg = argv.find((a) => a.startsWith('--arch='));
  const platform = process.env.PREBUILD_PLATFORM || process.platform;
  const arch = (archArg && archArg.slice('--arch='.length)) || process.env.PREBUILD_ARCH || process.arch;
  if (platform !== process.platform || arch !== process.arch) {
    console.error(`prebuild-gyp: cannot cross-compile (asked for ${platform}-${arch} on ${process.platform}-${process.arch})`);
    process.exit(1);
  }
  const outDir = path.join(cwd, 'build', debug ? 'Debug' : 'Release');
  const from = process.env.TORCHNODE_PREBUILD_FROM;
  if (from) {
    for (const f of [ADDON, RECORD]) {
      if (!fs.existsSync(path.resolve(cwd, from, f))) {
        console.error(`prebuild-gyp: TORCHNODE_PREBUILD_FROM=${from} has no ${f} (build it first: npm run build:native)`);
        process.exit(1);
      }
    }
    fs.mkdirSync(outDir, { recursive: true });
    if (path.resolve(cwd, from) !== outDir) {
      for (const f of [ADDON, RECORD]) fs.copyFileSync(path.join(from, f), path.join(outDir, f));
    }
    console.log(`prebuild-gyp: packaging ${path.join(from, ADDON)} (no compile)`);
  } else {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'build-native.js'), ...(debug ? ['--debug'] : [])], {
      cwd,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status || 1);
  }
  const built = JSON.parse(fs.readFileSync(path.join(outDir, RECORD), 'utf8'));
  const dest = path.join(cwd, 'prebuilds', `${platform}-${arch}`);
  fs.mkdirSync(dest, { recursive: true });
  // One prebuild per platform-arch folder: drop what an earlier prebuild for another LibTorch left there.
  for (const f of fs.readdirSync(dest)) if (f.endsWith('.node')) fs.rmSync(path.join(dest, f));
  fs.writeFileSync(path.join(dest, RECORD), JSON.stringify(prebuildRecord(built, platform, arch), null, 2) + '\n');
  // prebuildify moves the .node out of build/; the build record left behind would describe nothing.
  fs.rmSync(path.join(outDir, RECORD));
  console.log(
    `prebuild-gyp: ${path.relative(cwd, dest)}/ is for LibTorch ${built.torchVersion} (${built.cuda ? 'CUDA ' + built.cudaVersion : 'CPU only'})`,
  );
}

module.exports = { prebuildRecord };

if (require.main === module) main(process.argv.slice(2));
