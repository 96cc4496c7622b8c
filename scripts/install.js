'use strict';
// `npm install` entry. Finds LibTorch (scripts/libtorch.js); when the package carries a prebuilt binary
// for this platform (prebuilds/<platform>-<arch>/torchnode.node, made by `npm run prebuild`) whose record
// (torchnode.json next to it) names that same LibTorch, it uses it and compiles nothing; otherwise it
// builds native/ from source against the LibTorch found (scripts/build-native.js). It says which it did.
//
//   TORCHNODE_BUILD_FROM_SOURCE=1 (or npm install --build-from-source)  always build from source
//   node scripts/install.js --dry-run                                    print the decision, change nothing

const fs = require('fs');
const path = require('path');
const { findLibTorch, summary, mismatch, prebuildDir, PROJECT_ROOT } = require('./libtorch');

/** What the install chose for a prebuild: lib/core/native.ts reads it to find the same LibTorch without a search. */
const CHOICE_FILE = path.join(PROJECT_ROOT, 'build', 'prebuild.json');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function rel(p) {
  return path.relative(PROJECT_ROOT, p) || '.';
}

/** { use: 'prebuild' | 'source', why, lt? }: the whole decision, without side effects (but the LibTorch search). */
function decide({ log = () => {} } = {}) {
  const dir = prebuildDir();
  const addon = path.join(dir, 'torchnode.node');
  const record = readJson(path.join(dir, 'torchnode.json'));
  if (process.env.TORCHNODE_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true') {
    return { use: 'source', why: 'building from source as asked (TORCHNODE_BUILD_FROM_SOURCE / --build-from-source)' };
  }
  if (!fs.existsSync(addon))
    return { use: 'source', why: `no prebuilt binary for ${process.platform}-${process.arch} in this package; building from source` };
  if (!record) return { use: 'source', why: `${rel(addon)} has no torchnode.json saying which LibTorch it is for; building from source` };
  const lt = findLibTorch({ install: true, log });
  const why = mismatch(record, lt);
  if (why) {
    return { use: 'source', lt, why: `not using the prebuilt binary ${rel(addon)}: ${why} (found ${summary(lt)}); building from source` };
  }
  return {
    use: 'prebuild',
    lt,
    addon,
    why:
      `using the prebuilt binary ${rel(addon)} (LibTorch ${record.torchVersion}, ${record.cuda ? 'CUDA ' + record.cudaVersion : 'CPU only'}): ` +
      `it matches ${summary(lt)}; nothing to compile`,
  };
}

function main() {
  let d;
  try {
    d = decide({ log: console.log });
  } catch (e) {
    console.error(`\ntorchnode: ${e.message}\n`);
    process.exit(1);
  }
  console.log(`torchnode: ${d.why}`);
  if (process.argv.includes('--dry-run')) return;
  if (d.use === 'source') {
    fs.rmSync(CHOICE_FILE, { force: true });
    require('./build-native').build(d.lt);
    return;
  }
  // node-gyp-build prefers build/Release over prebuilds/: a source build left for another LibTorch would win.
  const stale = path.join(PROJECT_ROOT, 'build', 'Release', 'torchnode.node');
  if (fs.existsSync(stale)) {
    const built = readJson(path.join(path.dirname(stale), 'torchnode.json'));
    if (!built || mismatch(built, d.lt)) {
      fs.rmSync(stale);
      console.log(`torchnode: removed ${rel(stale)}, an earlier source build for LibTorch ${built ? built.torchVersion : '(unknown)'}`);
    }
  }
  fs.mkdirSync(path.dirname(CHOICE_FILE), { recursive: true });
  const { root, version, source } = d.lt;
  fs.writeFileSync(CHOICE_FILE, JSON.stringify({ prebuild: rel(d.addon), torchVersion: version, root, source }, null, 2) + '\n');
}

module.exports = { decide, CHOICE_FILE };

if (require.main === module) main();
