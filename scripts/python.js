'use strict';
// The Python PyTorch that tests, reference generators and benchmarks compare with, found in the order
// scripts/libtorch.js finds LibTorch, so that it is the same PyTorch the addon was built against:
//   1. $TORCHNODE_PYTHON, or python3, when it has a torch package (found without importing it, as the
//      build finds it);
//   2. that python with the project-local .libtorch/ (where `npm install` put PyTorch with pip) on PYTHONPATH.
// With LIBTORCH (an unpacked LibTorch, which has no Python) the reference is still one of these.
// `node scripts/python.js` prints what it found (--json for the whole record); `node scripts/python.js --
// ARGS…` runs that Python with ARGS.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { pythonExecutable, torchDirOfPython, localIsComplete, LOCAL_DIR, PROJECT_ROOT } = require('./libtorch');

class ReferencePythonNotFound extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReferencePythonNotFound';
  }
}

function withPythonPath(dir, env = process.env) {
  return { ...env, PYTHONPATH: dir + (env.PYTHONPATH ? path.delimiter + env.PYTHONPATH : '') };
}

let cached = null;

/**
 * { command, env, torchDir, source }: spawn `command` with `env` (it carries PYTHONPATH where needed) to
 * run Python with the reference PyTorch. Throws ReferencePythonNotFound, whose message says what to do.
 * `packages`: Python packages some tests compare with besides torch (safetensors, …); those the Python
 * lacks are installed with pip into the project-local .reference/<name>/ the first time, and put on
 * PYTHONPATH.
 */
function findReferencePython({ packages = [] } = {}) {
  const base = findTorchPython();
  if (packages.length === 0) return base;
  const dirs = packages.map((name) => ensurePackage(base, name));
  return { ...base, env: withPythonPath(dirs.join(path.delimiter), base.env), source: `${base.source} with ${packages.join(', ')}` };
}

const EXTRAS_DIR = path.join(PROJECT_ROOT, '.reference');
// What pip installs for a package name, and the module it imports as: torchvision pinned to the release
// that goes with torch 2.13 (only its pure-Python parts are used: its compiled ops are a CUDA build).
const PACKAGES = {
  safetensors: { pip: 'safetensors', module: 'safetensors' },
  torchvision: { pip: 'torchvision==0.28.*', module: 'torchvision' },
  pillow: { pip: 'pillow', module: 'PIL' },
  numpy: { pip: 'numpy', module: 'numpy' },
};

function importable(python, env, module) {
  const code = `import importlib.util as u, sys; sys.exit(0 if u.find_spec(${JSON.stringify(module)}) else 1)`;
  return spawnSync(python.command, ['-c', code], { env, timeout: 30000 }).status === 0;
}

// The folder to put on PYTHONPATH for `name` ('' when the Python has it already). Installed into a
// temporary folder and renamed into place, so test files that ask at once do not see a half install.
function ensurePackage(python, name) {
  const known = PACKAGES[name];
  if (!known) throw new Error(`scripts/python.js: no reference package '${name}' (known: ${Object.keys(PACKAGES).join(', ')})`);
  const dir = path.join(EXTRAS_DIR, name);
  if (importable(python, withPythonPath(dir, python.env), known.module)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync(python.command, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--no-deps', '--target', tmp, known.pip], {
    env: python.env,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new ReferencePythonNotFound(
      `the tests compare with Python's ${name} too, and pip could not install it into ${dir}:\n` +
        `${(r.stderr || r.error || '').toString().trim().split('\n').slice(-3).join('\n')}\n` +
        `Install it for ${python.command} (python3 -m pip install ${name}), or let pip reach a package index.`,
    );
  }
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // Another test file installed it meanwhile, or a broken folder is in the way: keep a working one.
    if (importable(python, withPythonPath(dir, python.env), known.module)) {
      fs.rmSync(tmp, { recursive: true, force: true });
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
    }
  }
  return dir;
}

function findTorchPython() {
  if (cached) return cached;
  const command = pythonExecutable();
  const own = torchDirOfPython(command);
  if (own) {
    cached = { command, env: { ...process.env }, torchDir: own, source: `${command} (its own PyTorch)` };
    return cached;
  }
  const local = torchDirOfPython(command, LOCAL_DIR);
  if (local && localIsComplete()) {
    cached = { command, env: withPythonPath(LOCAL_DIR), torchDir: local, source: `${command} with ${LOCAL_DIR} (npm install's PyTorch)` };
    return cached;
  }
  const ran = spawnSync(command, ['--version'], { encoding: 'utf8' });
  const which = ran.error ? `there is no ${command} to run (${ran.error.code || ran.error.message})` : `${command} has no PyTorch`;
  const local_ = local
    ? `${LOCAL_DIR} holds PyTorch without its dependencies (an older npm install): remove it and run npm install again`
    : `there is no ${LOCAL_DIR} (npm install puts PyTorch there when it finds none)`;
  throw new ReferencePythonNotFound(
    `torchnode's tests compare with Python's PyTorch and found none: ${which}, and ${local_}.\n` +
      'Fix it with one of:\n' +
      '  - npm install   (with no PyTorch found, it installs one into .libtorch/ for the build and the tests), or\n' +
      "  - python3 -m pip install 'torch==2.13.*', or\n" +
      '  - TORCHNODE_PYTHON=/path/to/python, a python that has PyTorch.',
  );
}

module.exports = { findReferencePython, ReferencePythonNotFound };

if (require.main === module) {
  try {
    const py = findReferencePython();
    const dash = process.argv.indexOf('--');
    if (dash >= 0) {
      const r = spawnSync(py.command, process.argv.slice(dash + 1), { env: py.env, stdio: 'inherit' });
      process.exit(r.status === null ? 1 : r.status);
    }
    const { env, ...shown } = py;
    console.log(
      process.argv.includes('--json') ? JSON.stringify({ ...shown, PYTHONPATH: env.PYTHONPATH || null }, null, 2) : `${py.source}: ${py.torchDir}`,
    );
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
