// LibTorch discovery (scripts/libtorch.js), the loader's version check (lib/core/native.ts), and the package's
// CommonJS and ESM entry points, each run in a child process as a user would.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');

const libtorch = require('../scripts/libtorch.js');

/** A folder that looks like a LibTorch of the given version (headers and libraries are empty files). */
function fakeLibTorch(version: string, cuda = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-libtorch-'));
  fs.mkdirSync(path.join(dir, 'include/ATen'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'include/ATen/ATen.h'), '');
  fs.writeFileSync(path.join(dir, 'lib/libtorch_cpu.so'), '');
  if (cuda) fs.writeFileSync(path.join(dir, 'lib/libtorch_cuda.so'), '');
  fs.writeFileSync(path.join(dir, 'build-version'), `${version}\n`);
  return dir;
}

function node(code: string, env: Record<string, string | undefined> = {}, args: string[] = []) {
  return spawnSync(process.execPath, [...args, '-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('LibTorch discovery', () => {
  it("finds a LibTorch (python3's PyTorch, or .libtorch/) and reports version, path and CUDA", () => {
    const r = spawnSync(process.execPath, ['scripts/libtorch.js', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, LIBTORCH: '' } });
    expect(r.status, r.stderr).toBe(0);
    const lt = JSON.parse(r.stdout);
    expect(lt.version).toMatch(/^2\.\d+\.\d+/);
    expect(fs.existsSync(path.join(lt.root, 'include/ATen/ATen.h'))).toBe(true);
    expect(typeof lt.cuda).toBe('boolean');
  });

  it('LIBTORCH comes first, with version from build-version and CUDA from libtorch_cuda', () => {
    const dir = fakeLibTorch('2.11.0+cu130', true);
    const prev = process.env.LIBTORCH;
    process.env.LIBTORCH = dir;
    try {
      const lt = libtorch.findLibTorch();
      expect(lt).toMatchObject({ root: dir, source: 'LIBTORCH', version: '2.11.0+cu130', cuda: true });
      expect(libtorch.summary(lt)).toContain('LibTorch 2.11.0+cu130');
    } finally {
      if (prev === undefined) delete process.env.LIBTORCH;
      else process.env.LIBTORCH = prev;
    }
  });

  it('a LibTorch older than the sources need stops the build with one message, before cmake', () => {
    const dir = fakeLibTorch('2.5.1+cpu', false);
    const r = spawnSync(process.execPath, ['scripts/build-native.js'], { cwd: root, encoding: 'utf8', env: { ...process.env, LIBTORCH: dir } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/torchnode needs LibTorch 2\.9 or newer, and found LibTorch 2\.5\.1\+cpu \(CPU only\) at .*LIBTORCH/);
    expect(r.stdout).not.toMatch(/building against/);
    expect(libtorch.tooOld({ ...libtorch.describe(dir, 'test'), version: '2.9.0+cu128' })).toBeNull();
    expect(libtorch.tooOld({ ...libtorch.describe(dir, 'test'), version: '3.0.0' })).toBeNull();
    expect(libtorch.tooOld({ ...libtorch.describe(dir, 'test'), version: 'unknown' })).toBeNull();
  });

  it('a LIBTORCH that is not a LibTorch folder is one clear message', () => {
    const r = spawnSync(process.execPath, ['scripts/libtorch.js'], { cwd: root, encoding: 'utf8', env: { ...process.env, LIBTORCH: os.tmpdir() } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/LIBTORCH=.* is not a LibTorch folder/);
  });

  it('nothing found (no LIBTORCH, a python without torch, no .libtorch) says what to do', () => {
    const tmp = projectWithout();
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `
      const lt = require('./scripts/libtorch.js');
      try { lt.findLibTorch({ install: false }); console.log('FOUND'); } catch (e) { console.log(e.message); }`,
      ],
      { cwd: tmp, encoding: 'utf8', env: { ...process.env, LIBTORCH: '', TORCHNODE_PYTHON: '/nonexistent/python' } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/torchnode needs LibTorch/);
    expect(r.stdout).toMatch(/LIBTORCH/);
    expect(r.stdout).toMatch(/pip install/);
  });
});

/** A copy of scripts/ in a fresh folder: a project root with no .libtorch/ (or the one a test makes). */
const madeRoots: string[] = [];
afterAll(() => madeRoots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function projectWithout(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-root-'));
  madeRoots.push(tmp);
  fs.mkdirSync(path.join(tmp, 'scripts'));
  for (const f of ['libtorch.js', 'python.js']) fs.copyFileSync(path.join(root, 'scripts', f), path.join(tmp, 'scripts', f));
  return tmp;
}

/** A python3 that does not see the site-packages (and so no PyTorch installed there): python3 -S. */
function pythonWithoutTorch(dir: string): string {
  const file = path.join(dir, 'bare-python');
  fs.writeFileSync(file, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
  return file;
}

function findReference(tmp: string, python: string) {
  const r = spawnSync(process.execPath, ['scripts/python.js', '--json'], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, TORCHNODE_PYTHON: python },
  });
  return { status: r.status, out: r.stdout + r.stderr, json: r.status === 0 ? JSON.parse(r.stdout) : null };
}

describe('the reference Python PyTorch (scripts/python.js)', () => {
  it('is the PyTorch the addon was built against', () => {
    const r = spawnSync(process.execPath, ['scripts/python.js', '--', '-c', 'import torch; print(torch.__version__)'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const built = JSON.parse(fs.readFileSync(path.join(root, 'build/Release/torchnode.json'), 'utf8')) as { torchVersion: string };
    expect(r.stdout.trim()).toBe(built.torchVersion);
  });

  it("falls back to python3 with npm install's .libtorch/ on PYTHONPATH when python3 has no PyTorch", () => {
    const tmp = projectWithout();
    fs.mkdirSync(path.join(tmp, '.libtorch/torch'), { recursive: true });
    fs.writeFileSync(path.join(tmp, '.libtorch/torch/__init__.py'), '');
    fs.writeFileSync(path.join(tmp, '.libtorch/typing_extensions.py'), '');
    const python = pythonWithoutTorch(tmp);
    const r = findReference(tmp, python);
    expect(r.status, r.out).toBe(0);
    expect(r.json).toMatchObject({ command: python, torchDir: path.join(tmp, '.libtorch/torch') });
    expect(r.json.PYTHONPATH.split(path.delimiter)[0]).toBe(path.join(tmp, '.libtorch'));
    expect(r.json.source).toMatch(/\.libtorch \(npm install's PyTorch\)/);
  });

  it('none at all is one message saying what to do', () => {
    const tmp = projectWithout();
    const r = findReference(tmp, pythonWithoutTorch(tmp));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/tests compare with Python's PyTorch and found none: .*bare-python has no PyTorch, and there is no .*\.libtorch/);
    expect(r.out).toMatch(/npm install/);
    expect(r.out).toMatch(/pip install 'torch==2\.13\.\*'/);
    expect(r.out).toMatch(/TORCHNODE_PYTHON/);
    expect(findReference(tmp, '/nonexistent/python').out).toMatch(/there is no \/nonexistent\/python to run/);
  });

  it('a .libtorch/ from an older install, without the packages torch imports, is named as such', () => {
    const tmp = projectWithout();
    fs.mkdirSync(path.join(tmp, '.libtorch/torch'), { recursive: true });
    fs.writeFileSync(path.join(tmp, '.libtorch/torch/__init__.py'), '');
    const r = findReference(tmp, pythonWithoutTorch(tmp));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/holds PyTorch without its dependencies .*remove it and run npm install again/);
  });
});

describe('loader', () => {
  it('refuses a LibTorch of another version at run time, naming both', () => {
    const dir = fakeLibTorch('9.9.9');
    const r = node(`try { require('./lib/core/native.ts') } catch (e) { console.log(e.name + ': ' + e.message) }`, { LIBTORCH: dir }, [
      '--experimental-strip-types',
      '--no-warnings',
    ]);
    const out = r.stdout + r.stderr;
    if (/strip-types|ERR_UNKNOWN_FILE_EXTENSION/.test(out)) {
      // Node 20 cannot run .ts directly: use the compiled package (npm install builds dist/).
      const r2 = node(`try { require('./dist/core/native.js') } catch (e) { console.log(e.name + ': ' + e.message) }`, { LIBTORCH: dir });
      expect(r2.stdout).toMatch(/TorchError: torchnode was built against LibTorch 2\.\d+\.\d+\S* .* but finds LibTorch 9\.9\.9/);
      expect(r2.stdout).toMatch(/npm rebuild torchnode/);
      return;
    }
    expect(out).toMatch(/but finds LibTorch 9\.9\.9/);
  });
});

describe('package entry points', () => {
  it('require("torchnode") and import * as torch from "torchnode" both work', () => {
    expect(fs.existsSync(path.join(root, 'dist/index.js')), 'dist/ is built by npm install (prepare)').toBe(true);
    const cjs = node(`const torch = require('torchnode'); console.log(String(torch.ones(2).add(1)))`);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe('tensor([2., 2.])');
    const esm = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import * as torch from 'torchnode'; import { Tensor } from 'torchnode';
       const t = torch.arange(3); console.log(t instanceof Tensor, String(t.mul(2)), typeof torch.autograd.grad)`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('true tensor([0, 2, 4]) function');
  });
});
