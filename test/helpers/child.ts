/**
 * Running the current lib/ in a child node process, so a test can observe what would kill or leak in
 * a process (an abort, RSS, GC) without taking the test runner down. lib/*.ts is compiled to CommonJS
 * once per test file with the project's own `typescript` (ts.transpileModule) and handed to the child
 * on stdin: the child's require hook for '.ts' serves these sources, so it loads the current lib/ (not
 * a possibly stale dist/) in ~0.2 s and nothing is written to disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { beforeAll } from 'vitest';

export const REPO = path.resolve(__dirname, '../..');

/** A TCP port free on loopback now (for a rendezvous). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let compiledLib: Record<string, string> | null = null;
function libSources(): Record<string, string> {
  if (compiledLib) return compiledLib;
  const ts = createRequire(path.join(REPO, 'package.json'))('typescript') as typeof import('typescript');
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        out[file] = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
          fileName: file,
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
      }
    }
  };
  walk(path.join(REPO, 'lib'));
  return (compiledLib = out);
}

/** Defines `torch` in the child: the current lib/'s `entry` (a path under lib/), loaded first. */
export const childPrelude = (entry = 'index.ts') => `
const compiled = JSON.parse(require('fs').readFileSync(0, 'utf8'));
require.extensions['.ts'] = (m, filename) => {
  if (!(filename in compiled)) throw new Error('no compiled source for ' + filename);
  m._compile(compiled[filename], filename);
};
const torch = require(${JSON.stringify(path.join(REPO, 'lib', entry))});
`;
export const CHILD_PRELUDE = childPrelude();

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Runs the prelude (lib/index.ts, or `entry`, as `torch`) + script in `node [nodeArgs] -e`. */
export function startChild(
  script: string,
  opts: { nodeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv; entry?: string; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '-e', childPrelude(opts.entry) + script], {
      cwd: REPO,
      timeout: opts.timeoutMs ?? 120_000,
      env: { ...process.env, ...opts.env },
    });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => resolve({ status: null, signal: null, stdout, stderr, error }));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that dies early closes its stdin
    child.stdin.end(JSON.stringify(libSources()));
  });
}

/**
 * Named child bodies that all start together in beforeAll and run while the in-process tests do; each
 * test awaits its own with run(key). `wrap` turns a body into the script (e.g. adds helpers).
 * Each child computes on one thread: several LibTorch processes whose OpenMP threads spin-wait for each
 * other on a 2-core machine ran 24× slower than one alone (3 × 300 seResNet18 steps: 200 s against 8 s),
 * enough to pass CI's child timeout.
 */
export function childPool(wrap: (body: string) => string, opts: { nodeArgs?: string[]; timeoutMs?: number } = {}) {
  const bodies = new Map<string, string>();
  const started = new Map<string, Promise<ChildResult>>();
  const run = (key: string): Promise<ChildResult> => {
    let p = started.get(key);
    if (!p) {
      p = startChild(wrap(bodies.get(key)!), { ...opts, env: { OMP_NUM_THREADS: '1' } });
      started.set(key, p);
    }
    return p;
  };
  beforeAll(() => {
    for (const key of bodies.keys()) void run(key);
  });
  return { bodies, run };
}
