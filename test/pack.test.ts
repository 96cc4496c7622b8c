// The published package, as a user gets it: `npm pack` (with a prebuilt binary made by the prebuild
// scripts, packaging this checkout's build instead of compiling again), `npm install <tarball>` into a fresh
// empty project, then `require('torchnode')`, `import('torchnode')`, a forward pass checked against
// PyTorch, and the types under TypeScript. Also: a prebuild made for another LibTorch is not used, and
// the prebuild does not depend on where its build machine had LibTorch.
//
// The install resolves the package's dependencies from the npm cache when they are there
// (--prefer-offline) and from the registry when not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { referencePython } from './helpers/python';

const REPO = path.resolve(__dirname, '..');
const PLATFORM_DIR = `${process.platform}-${process.arch}`;

// A nested npm must not take the outer `npm test`'s settings (local prefix, lifecycle, build-from-source).
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|registry|userconfig)$/i.test(k)) continue;
    if (k === 'TORCHNODE_BUILD_FROM_SOURCE' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts, env: opts.env ?? cleanEnv() });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), out, error: r.error };
}

function runOk(cmd: string, args: string[], opts: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}) {
  const r = run(cmd, args, opts);
  expect(r.error, `${cmd} ${args.join(' ')}`).toBeUndefined();
  expect(r.status, `${cmd} ${args.join(' ')}:\n${r.out}`).toBe(0);
  return r;
}

// The forward pass run in the installed package, and the same model in Python's PyTorch.
const MODEL_JS = `
torch.manualSeed(0);
const { nn } = torch;
const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Tanh(), new nn.Flatten(), new nn.Linear(8, 3)).eval();
const x = torch.arange(32, { dtype: 'float32' }).view(2, 1, 4, 4).div(32);
const y = torch.noGrad(() => m.forward(x));
console.log(JSON.stringify({ shape: y.shape, values: y.toArray(), isTensor: y instanceof torch.Tensor }));`;
const MODEL_PY = `
import json, torch
from torch import nn
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(8, 3)).eval()
x = torch.arange(32, dtype=torch.float32).view(2, 1, 4, 4) / 32
with torch.no_grad():
    print(json.dumps(m(x).tolist()))`;

// What the tarball may hold: the compiled package, the sources and scripts a source build needs, prebuilds.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^CMakeLists\.txt$/,
  /^dist\/.+\.(js|d\.ts)$/,
  /^native\/([a-z0-9_]+\/)?[a-z0-9_]+\.(cc|h)$/,
  // gloo's headers (with their licence and provenance), which a source build of native/distributed_gloo.cc needs
  /^native\/third_party\/gloo\/(LICENSE|README\.md|gloo\/([a-z_]+\/)?[a-z_]+\.h)$/,
  /^scripts\/(install|libtorch|build-native)\.js$/,
  /^scripts\/gen\/saved-attrs\.js$/, // the build generates native/'s saved-field table with it
  /^prebuilds\/[a-z0-9]+-[a-z0-9+]+\/torchnode\.(node|json)$/,
];

let tmp = '';
let project = '';
let installed = '';
let tarFiles: string[] = [];
let installOutput = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-pack-'));
  // 1. A copy of this checkout's package sources, with dist/ compiled from the current lib/.
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'CMakeLists.txt', 'native', 'scripts']) {
    fs.cpSync(path.join(REPO, f), path.join(stage, f), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  runOk(process.execPath, [
    path.join(REPO, 'node_modules/typescript/bin/tsc'),
    '-p',
    path.join(REPO, 'tsconfig.json'),
    '--outDir',
    path.join(stage, 'dist'),
  ]);
  // 2. `npm run prebuild` there, packaging this checkout's addon instead of compiling it again.
  const built = fs.existsSync(path.join(REPO, 'build/Release/torchnode.node'))
    ? path.join(REPO, 'build/Release')
    : path.join(REPO, 'prebuilds', PLATFORM_DIR); // after an `npm run prebuild` here, the build is there
  runOk(process.execPath, [path.join(stage, 'scripts/prebuild.js')], { cwd: stage, env: cleanEnv({ TORCHNODE_PREBUILD_FROM: built }) });
  // 3. npm pack (the package's own `prepare` would compile dist/ again: already done).
  const packed = runOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: stage });
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarFiles = info[0].files.map((f) => f.path).sort();
  // 4. A fresh, empty project installs the tarball.
  project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-test', version: '1.0.0', private: true }));
  const install = runOk('npm', ['install', path.join(tmp, info[0].filename), '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
    cwd: project,
    timeout: 110_000,
  });
  installOutput = install.out;
  installed = path.join(project, 'node_modules', 'torchnode');
}, 170_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships what an install needs and nothing else', () => {
    const unexpected = tarFiles.filter((f) => !ALLOWED.some((re) => re.test(f)));
    expect(unexpected).toEqual([]);
    for (const f of [
      'package.json',
      'README.md',
      'CMakeLists.txt',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/index.js',
      'dist/core/native.js',
      'scripts/install.js',
      'scripts/libtorch.js',
      'scripts/build-native.js',
      'scripts/gen/saved-attrs.js',
      `prebuilds/${PLATFORM_DIR}/torchnode.node`,
      `prebuilds/${PLATFORM_DIR}/torchnode.json`,
    ]) {
      expect(tarFiles, f).toContain(f);
    }
    // every native source, so that an install for another LibTorch can build from source
    const sources = fs
      .readdirSync(path.join(REPO, 'native'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(cc|h)$/.test(f))
      .map((f) => `native/${f.split(path.sep).join('/')}`);
    expect(sources.length).toBeGreaterThan(10);
    expect(tarFiles).toEqual(expect.arrayContaining(sources));
    // every compiled module of lib/, with its declarations
    const libModules = fs
      .readdirSync(path.join(REPO, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.split(path.sep).join('/').replace(/\.ts$/, ''));
    for (const m of libModules) expect(tarFiles).toEqual(expect.arrayContaining([`dist/${m}.js`, `dist/${m}.d.ts`]));
  });
});

describe('installed from the tarball into an empty project', () => {
  it('npm install takes the prebuilt binary and compiles nothing', () => {
    expect(installOutput).toMatch(new RegExp(`torchnode: using the prebuilt binary prebuilds/${PLATFORM_DIR}/torchnode.node \\(LibTorch 2\\.\\d+`));
    expect(installOutput).toMatch(/nothing to compile/);
    expect(installOutput).not.toMatch(/building against|building from source/);
    expect(fs.existsSync(path.join(installed, 'build/Release/torchnode.node'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'build/CMakeCache.txt'))).toBe(false);
  });

  it("require('torchnode') and import('torchnode') run a forward pass with PyTorch's numbers", () => {
    const python = referencePython();
    const py = runOk(python.command, ['-c', MODEL_PY], { env: python.env });
    const expected = JSON.parse(py.stdout) as number[][];
    const cjs = runOk(process.execPath, ['-e', `const torch = require('torchnode');${MODEL_JS}`], { cwd: project });
    const esm = runOk(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import * as torch from 'torchnode'; import { Tensor, nn as named } from 'torchnode';
       if (typeof Tensor !== 'function' || typeof named.Linear !== 'function') throw new Error('named exports missing');${MODEL_JS}`,
      ],
      { cwd: project },
    );
    for (const r of [cjs, esm]) {
      expect(r.stderr).toBe('');
      const got = JSON.parse(r.stdout) as { shape: number[]; values: number[][]; isTensor: boolean };
      expect(got.shape).toEqual([2, 3]);
      expect(got.isTensor).toBe(true);
      got.values.flat().forEach((v, i) => expect(v).toBeCloseTo(expected.flat()[i], 6));
    }
    // and it is the installed copy that ran, with its prebuild
    const where = runOk(
      process.execPath,
      [
        '-e',
        `console.log(require.resolve('torchnode'), require('node-gyp-build').path(require('path').dirname(require.resolve('torchnode/package.json'))))`,
      ],
      { cwd: project },
    );
    expect(where.stdout).toContain(path.join(installed, 'dist', 'index.js'));
    expect(where.stdout).toContain(path.join(installed, 'prebuilds', PLATFORM_DIR, 'torchnode.node'));
  });

  it('TypeScript finds the types (CommonJS and ESM, strict, declarations checked too)', () => {
    const code = `import * as torch from 'torchnode';
const x: torch.Tensor = torch.ones([2, 3]);
const y = new torch.nn.Linear(3, 2).forward(x);
const shape: number[] = y.shape;
// @ts-expect-error shape is number[]: a type that were any would make this line an error of its own
const wrong: string = y.shape;
export { shape, wrong };
`;
    fs.writeFileSync(path.join(project, 'use.ts'), code);
    fs.writeFileSync(path.join(project, 'use.mts'), code);
    const tsc = run(
      process.execPath,
      [
        path.join(REPO, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--typeRoots',
        path.join(REPO, 'node_modules/@types'),
        '--types',
        'node',
        'use.ts',
        'use.mts',
      ],
      { cwd: project },
    );
    expect(tsc.out).toBe('');
    expect(tsc.status).toBe(0);
  });

  it("the prebuild loads LibTorch found here, not the build machine's (its rpath pointed elsewhere)", () => {
    const addon = path.join(installed, 'prebuilds', PLATFORM_DIR, 'torchnode.node');
    const original = fs.readFileSync(addon);
    const rpath = /RUNPATH\)\s+Library runpath: \[([^\]]+)\]/.exec(runOk('readelf', ['-d', addon]).stdout)?.[1];
    expect(rpath, 'the addon has an rpath (to the LibTorch it was built against)').toBeTruthy();
    // Overwrite the rpath in the file (same length, NUL-padded): the build machine's LibTorch is "gone".
    const at = original.indexOf(Buffer.from(`${rpath}\0`));
    expect(at).toBeGreaterThan(0);
    const moved = Buffer.from(original);
    moved.fill(0, at, at + rpath!.length);
    moved.write('/nonexistent/lib', at);
    try {
      fs.writeFileSync(addon, moved);
      expect(runOk('readelf', ['-d', addon]).stdout).toContain('[/nonexistent/lib]');
      const r = runOk(
        process.execPath,
        ['-e', `const torch = require('torchnode'); console.log(String(torch.ones(2, 2).matmul(torch.ones(2, 1))))`],
        { cwd: project },
      );
      expect(r.stdout.trim()).toBe('tensor([[2.],\n        [2.]])');
    } finally {
      fs.writeFileSync(addon, original);
    }
  });

  it('a prebuild made for another LibTorch is not used: the install builds from source, the loader refuses it', () => {
    const recordFile = path.join(installed, 'prebuilds', PLATFORM_DIR, 'torchnode.json');
    const original = fs.readFileSync(recordFile, 'utf8');
    const record = JSON.parse(original) as { torchVersion: string };
    const other = record.torchVersion.replace(/^(\d+)\.(\d+)/, (_, a: string, b: string) => `${a}.${Number(b) + 1}`);
    try {
      fs.writeFileSync(recordFile, JSON.stringify({ ...record, torchVersion: other }));
      const dry = runOk(process.execPath, ['scripts/install.js', '--dry-run'], { cwd: installed });
      expect(dry.stdout).toContain(
        `not using the prebuilt binary prebuilds/${PLATFORM_DIR}/torchnode.node: it was built against ` +
          `LibTorch ${other}, not ${record.torchVersion}`,
      );
      expect(dry.stdout).toMatch(/building from source/);
      const load = run(process.execPath, ['-e', `try { require('torchnode') } catch (e) { console.log(e.name + ': ' + e.message) }`], {
        cwd: project,
      });
      expect(load.stdout).toMatch(
        new RegExp(`TorchError: torchnode: the prebuilt binary .* cannot run here: it was built against LibTorch ${other.replace(/[.+]/g, '\\$&')}`),
      );
      expect(load.stdout).toMatch(/npm rebuild torchnode/);
    } finally {
      fs.writeFileSync(recordFile, original);
    }
    // and the matching one is taken again
    expect(runOk(process.execPath, ['scripts/install.js', '--dry-run'], { cwd: installed }).stdout).toMatch(/using the prebuilt binary/);
  });
});
