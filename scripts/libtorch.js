'use strict';
// LibTorch discovery, shared by the build (scripts/build-native.js) and the runtime loader (lib/core/native.ts).
// Order: $LIBTORCH (an unpacked LibTorch folder), the PyTorch of $TORCHNODE_PYTHON or python3, then a
// PyTorch that `npm install` put into the project-local folder .libtorch/ with pip.
// Nothing here imports torch in Python: finding the package and reading its version.py is enough,
// and costs a python start-up (~30 ms) instead of an `import torch` (~1.5 s).

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const PROJECT_ROOT = path.resolve(__dirname, '..');
const LOCAL_DIR = path.join(PROJECT_ROOT, '.libtorch');
// What the pip fallback installs: the CPU build CI uses; override for another one.
const DEFAULT_PIP_SPEC = process.env.TORCHNODE_TORCH_SPEC || 'torch==2.13.*';

class LibTorchNotFound extends Error {}

function readIf(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

// The version of a LibTorch folder: version.py (a Python install), build-version (a LibTorch zip),
// or the TORCH_VERSION_* macros of its headers.
function readVersion(root) {
  const py = readIf(path.join(root, 'version.py'));
  const fromPy = py && /__version__\s*=\s*'([^']+)'/.exec(py);
  if (fromPy) return fromPy[1];
  const bv = readIf(path.join(root, 'build-version'));
  if (bv && bv.trim()) return bv.trim();
  for (const rel of ['include/torch/headeronly/version.h', 'include/torch/csrc/api/include/torch/version.h']) {
    const h = readIf(path.join(root, rel));
    if (!h) continue;
    const part = (n) => (new RegExp(`#define TORCH_VERSION_${n} (\\d+)`).exec(h) || [])[1];
    if (part('MAJOR')) return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  }
  return null;
}

function readCudaVersion(root, libDir) {
  const py = readIf(path.join(root, 'version.py'));
  const m = py && /^cuda(?::[^=]*)?=\s*'([^']+)'/m.exec(py);
  if (m) return m[1];
  return fs.existsSync(path.join(libDir, 'libtorch_cuda.so')) ? 'unknown' : null;
}

// Since 2.7 every official LibTorch uses the C++11 ABI; TorchConfig.cmake says so for older ones.
function readCxx11Abi(root) {
  const cfg = readIf(path.join(root, 'share/cmake/Torch/TorchConfig.cmake')) || '';
  const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(cfg);
  return m ? Number(m[1]) : 1;
}

// Describes a LibTorch folder (an unpacked LibTorch or site-packages/torch), or null if it is not one.
function describe(root, source) {
  const includeDir = path.join(root, 'include');
  const libDir = path.join(root, 'lib');
  if (!fs.existsSync(path.join(includeDir, 'ATen', 'ATen.h'))) return null;
  if (!fs.existsSync(path.join(libDir, 'libtorch_cpu.so')) && !fs.existsSync(path.join(libDir, 'libtorch_cpu.dylib'))) {
    return null;
  }
  const cudaVersion = readCudaVersion(root, libDir);
  return {
    root,
    source,
    version: readVersion(root) || 'unknown',
    cuda: cudaVersion !== null,
    cudaVersion,
    cxx11Abi: readCxx11Abi(root),
    includeDirs: [includeDir, path.join(includeDir, 'torch', 'csrc', 'api', 'include')],
    libDir,
  };
}

function pythonExecutable() {
  return process.env.TORCHNODE_PYTHON || 'python3';
}

// The torch package folder of a Python, found without importing torch.
function torchDirOfPython(python, extraPath) {
  const code = 'import importlib.util as u; s = u.find_spec("torch"); print(s.submodule_search_locations[0] if s else "")';
  const env = { ...process.env };
  if (extraPath) env.PYTHONPATH = extraPath + (env.PYTHONPATH ? path.delimiter + env.PYTHONPATH : '');
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', env, timeout: 30000 });
  if (r.error || r.status !== 0) return null;
  const dir = r.stdout.trim();
  return dir || null;
}

function fromEnv() {
  const dir = process.env.LIBTORCH;
  if (!dir) return null;
  const found = describe(path.resolve(dir), 'LIBTORCH');
  if (!found) {
    throw new LibTorchNotFound(
      `LIBTORCH=${dir} is not a LibTorch folder (expected include/ATen/ATen.h and lib/libtorch_cpu.so there). ` +
        'Point it at an unpacked LibTorch, or unset it to use the PyTorch of python3.',
    );
  }
  return found;
}

function fromPython() {
  const python = pythonExecutable();
  const dir = torchDirOfPython(python);
  return dir ? describe(dir, `${python} (PyTorch)`) : null;
}

// A .libtorch/ made by an older install holds torch without its dependencies (pip --no-deps).
function localIsComplete() {
  return fs.existsSync(path.join(LOCAL_DIR, 'typing_extensions.py'));
}

function fromLocal({ install = false, log = () => {} } = {}) {
  const dir = path.join(LOCAL_DIR, 'torch');
  if (!fs.existsSync(dir)) return null;
  if (install && !localIsComplete()) {
    log(`torchnode: ${LOCAL_DIR} lacks the packages PyTorch imports; adding them with pip`);
    pipInstallLocal(['--upgrade']);
  }
  return describe(dir, '.libtorch (pip, project-local)');
}

// With its dependencies (typing_extensions, sympy, filelock…): the tests run this PyTorch in Python as
// their reference (scripts/python.js), and a python3 without them could not import it.
function pipInstallLocal(extra = []) {
  const args = ['-m', 'pip', 'install', '--retries', '0', '--target', LOCAL_DIR, ...extra, DEFAULT_PIP_SPEC];
  const r = spawnSync(pythonExecutable(), args, { stdio: 'inherit' });
  return !r.error && r.status === 0;
}

function installLocal(log) {
  log(`torchnode: no LibTorch found; installing ${DEFAULT_PIP_SPEC} into ${LOCAL_DIR} with pip`);
  return pipInstallLocal() ? fromLocal() : null;
}

const HOW_TO_FIX =
  'torchnode needs LibTorch. Either:\n' +
  '  - set LIBTORCH to an unpacked LibTorch folder (https://pytorch.org, "LibTorch" download), or\n' +
  "  - install PyTorch for python3:  python3 -m pip install 'torch==2.13.*'  (or set TORCHNODE_PYTHON to a python that has it),\n" +
  'then run npm install (or npm rebuild torchnode) again.';

/**
 * Finds LibTorch. `install: true` (the build) may fall back to pip into .libtorch/; the runtime never installs.
 * Returns a description or throws LibTorchNotFound with one message saying what to do.
 */
function findLibTorch({ install = false, log = () => {} } = {}) {
  const found = fromEnv() || fromPython() || fromLocal({ install, log }) || (install ? installLocal(log) : null);
  if (!found) throw new LibTorchNotFound(HOW_TO_FIX);
  return found;
}

function summary(lt) {
  const cuda = lt.cuda ? `CUDA ${lt.cudaVersion}` : 'CPU only';
  return `LibTorch ${lt.version} (${cuda}) at ${lt.root}, found through ${lt.source}`;
}

// The oldest LibTorch the sources build against: native/cuda.cc's memory statistics use the
// at::accelerator API of 2.9. (Tested: 2.11 with CUDA, 2.13 and 2.14.)
const MIN_VERSION = [2, 9];

/** Why `lt` is too old to build against (a message saying what to do), or null. An unknown version passes. */
function tooOld(lt) {
  const m = /^(\d+)\.(\d+)/.exec(lt.version);
  if (!m) return null;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1])) return null;
  return (
    `torchnode needs LibTorch ${MIN_VERSION.join('.')} or newer, and found ${summary(lt)}.\n` +
    "Install a newer PyTorch for python3 (python3 -m pip install 'torch==2.13.*'), or set TORCHNODE_PYTHON to a python " +
    'that has one, or LIBTORCH to a newer unpacked LibTorch; then run npm install again.'
  );
}

/**
 * Why an addon built as `record` (a build's or a prebuild's torchnode.json) cannot run with the LibTorch
 * `lt`, or null when it can: the same version (its local part names the flavour: +cpu, +cu128), the same
 * CUDA-ness and, where both are known, the same C++ ABI.
 */
function mismatch(record, lt) {
  if (record.torchVersion !== lt.version) return `it was built against LibTorch ${record.torchVersion}, not ${lt.version}`;
  if (Boolean(record.cuda) !== Boolean(lt.cuda)) {
    return `it was built ${record.cuda ? 'with' : 'without'} CUDA, and this LibTorch is ${lt.cuda ? 'a CUDA' : 'a CPU-only'} one`;
  }
  if (record.cxx11Abi != null && lt.cxx11Abi != null && record.cxx11Abi !== lt.cxx11Abi) {
    return `it was built with _GLIBCXX_USE_CXX11_ABI=${record.cxx11Abi}, and this LibTorch uses ${lt.cxx11Abi}`;
  }
  return null;
}

/** Where the prebuilt binary for this machine lives in the package. */
function prebuildDir(platform = process.platform, arch = process.arch) {
  return path.join(PROJECT_ROOT, 'prebuilds', `${platform}-${arch}`);
}

module.exports = {
  findLibTorch,
  pythonExecutable,
  torchDirOfPython,
  localIsComplete,
  LOCAL_DIR,
  describe,
  readVersion,
  summary,
  tooOld,
  mismatch,
  prebuildDir,
  LibTorchNotFound,
  PROJECT_ROOT,
};

if (require.main === module) {
  try {
    const lt = findLibTorch({ install: process.argv.includes('--install'), log: console.error });
    console.log(process.argv.includes('--json') ? JSON.stringify(lt, null, 2) : summary(lt));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
