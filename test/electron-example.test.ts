// examples/electron without Electron (its binary cannot be downloaded here, so the window is not run):
// the example's training worker, started in a worker thread the way main.js starts it (train-cli.js), trains
// real steps and posts its progress; a stop request (the window's Stop button; SIGINT for the CLI) ends it
// after the current step. `require('torchnode')` in the worker resolves to this checkout, compiled fresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');
const EXAMPLE = path.join(REPO, 'examples', 'electron');

interface Message {
  type: string;
  [key: string]: unknown;
}

let nodePath = '';

beforeAll(() => {
  // NODE_PATH/torchnode: this checkout's package.json and scripts, with dist/ compiled from the current lib/.
  nodePath = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-electron-'));
  const pkg = path.join(nodePath, 'torchnode');
  fs.mkdirSync(pkg);
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(pkg, 'package.json'));
  for (const d of ['scripts', 'node_modules']) fs.symlinkSync(path.join(REPO, d), path.join(pkg, d), 'dir');
  const tsc = spawnSync(
    process.execPath,
    [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO, 'tsconfig.json'), '--outDir', path.join(pkg, 'dist')],
    { encoding: 'utf8' },
  );
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
});

afterAll(() => {
  if (nodePath) fs.rmSync(nodePath, { recursive: true, force: true });
});

/** Runs train-cli.js; `onMessage` sees each message as it comes (and may signal the child). */
function runCli(args: string[], onMessage: (m: Message, child: ReturnType<typeof spawn>) => void = () => {}) {
  return new Promise<{ code: number | null; messages: Message[]; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(EXAMPLE, 'train-cli.js'), ...args], {
      cwd: EXAMPLE,
      env: { ...process.env, NODE_PATH: nodePath },
    });
    const messages: Message[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const m = JSON.parse(buffered.slice(0, nl)) as Message;
        buffered = buffered.slice(nl + 1);
        messages.push(m);
        onMessage(m, child);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, messages, stderr }));
  });
}

describe('examples/electron: the training worker under plain Node', () => {
  it('trains in a worker thread and posts start, a message per step, done', async () => {
    const { code, messages, stderr } = await runCli(['3']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(messages.map((m) => m.type)).toEqual(['start', 'step', 'step', 'step', 'done']);
    const [start, ...rest] = messages;
    expect(start).toMatchObject({ device: expect.stringMatching(/^(cpu|cuda)/), epochs: 2 });
    expect(start.parameters).toBeGreaterThan(100_000);
    expect(start.stepsPerEpoch).toBeGreaterThan(3);
    const steps = rest.filter((m) => m.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const s of steps) {
      expect(s).toMatchObject({ epoch: 1, steps: start.stepsPerEpoch, lr: 0.05 });
      // ten classes from random weights: cross-entropy near ln(10) = 2.30
      expect(s.batchLoss as number).toBeGreaterThan(1.5);
      expect(s.batchLoss as number).toBeLessThan(4);
      expect(s.accuracy as number).toBeGreaterThanOrEqual(0);
      expect(s.accuracy as number).toBeLessThanOrEqual(1);
    }
    expect(messages.at(-1)).toMatchObject({ type: 'done', stopped: true, history: [] });
  });

  it('a stop request ends training after the current step', async () => {
    let signalled = false;
    const { code, messages } = await runCli([], (m, child) => {
      if (m.type === 'step' && !signalled) {
        signalled = true;
        child.kill('SIGINT'); // train-cli.js forwards it as {type:'stop'}, as the window's Stop button does
      }
    });
    expect(code).toBe(0);
    const steps = messages.filter((m) => m.type === 'step');
    const start = messages[0];
    expect(steps.length).toBeGreaterThanOrEqual(1);
    expect(steps.length).toBeLessThan(start.stepsPerEpoch as number);
    expect(messages.at(-1)).toMatchObject({ type: 'done', stopped: true });
  });
});
