// Ctrl-C. The Trainer (a library) takes the first SIGINT of a fit() as stop() and never ends the process;
// the torchnode CLI owns its process: a first Ctrl-C stops and saves, a second exits with status 130.
// Each child signals itself at known steps: the first SIGINT at step 2.2, the second at the step after the
// stop took effect (Trainer.prototype.stop is wrapped to see it), so no test waits on a clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { REPO, startChild } from './helpers/child';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-sigint-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Prints each step, sends the first SIGINT at step 2.2 and, when `twice`, a second after stop() was called.
const SIGNALS = (twice: boolean) => `
  const { Trainer } = torch.train;
  let stopped = false, second = false;
  const stop = Trainer.prototype.stop;
  Trainer.prototype.stop = function () { stopped = true; return stop.call(this); };
  const emit = Trainer.prototype.emit;
  Trainer.prototype.emit = function (name, s, ...rest) {
    if (name === 'step') {
      process.stdout.write('step ' + s.epoch + '.' + s.step + '\\n');
      if (s.epoch === 2 && s.step === 2) process.kill(process.pid, 'SIGINT');
      else if (${twice} && stopped && !second) { second = true; process.kill(process.pid, 'SIGINT'); }
    }
    return emit.call(this, name, s, ...rest);
  };
`;

// Where interrupted.pt says the run stopped. The first SIGINT is taken at the event loop's next look at
// its signals: after step 2.2's or a step later, so the stop comes after step 2.3 or later, in epoch 2.
const stoppedAt = (out: string) => (torch.load(path.join(out, 'interrupted.pt')) as { interrupted: unknown }).interrupted;

function library(out: string, opts: { twice: boolean; appListener: boolean }) {
  return startChild(`${SIGNALS(opts.twice)}
    // The program's own listener, when there is one, keeps the process until it has had both signals.
    let heard = 0, both = ${opts.appListener ? 'null' : 'Promise.resolve()'};
    ${
      opts.appListener
        ? `const alive = setInterval(() => {}, 1000); // a signal handler alone does not keep a process
    both = new Promise((done) => process.on('SIGINT', () => {
      process.stdout.write('app SIGINT\\n');
      if (++heard === 2) done(clearInterval(alive));
    }));`
        : ''
    }
    torch.manualSeed(0);
    const model = new torch.nn.Sequential(new torch.nn.Flatten(), new torch.nn.Linear(64, 4));
    const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05 });
    const X = torch.randn(64, 1, 8, 8), Y = torch.randint(0, 4, [64]);
    const batches = { length: 8, *[Symbol.iterator]() { for (let i = 0; i < 64; i += 8) yield [X.narrow(0, i, 8), Y.narrow(0, i, 8)]; } };
    const trainer = new torch.train.Trainer({ model, optimizer, device: 'cpu', outDir: ${JSON.stringify(out)}, progress: false, offThread: false });
    trainer.fit(batches, { epochs: 1000 }).then((h) => both.then(() => process.stdout.write('done ' + h.length + '\\n')));
  `);
}

describe('the Trainer and SIGINT (handleSigint: true, the default)', () => {
  it("a second SIGINT is not the Trainer's: with no other listener, Node's default ends the process (killed by SIGINT, no process.exit)", async () => {
    const out = path.join(dir, 'lib-twice');
    const r = await library(out, { twice: true, appListener: false });
    expect(r.stderr).toMatch(/stopping after this step and saving a checkpoint \(Ctrl-C again to abort\)/);
    expect([r.status, r.signal], r.stderr).toEqual([null, 'SIGINT']);
    expect(r.stdout).not.toMatch(/done/);
    expect(r.stdout).toMatch(/step 2\.[3-7]\n$/); // killed at the step that saw the stop, before saving it
  }, 60_000);

  it("with a program's own SIGINT listener, both go to it and fit() ends normally after the first", async () => {
    const out = path.join(dir, 'lib-app');
    const r = await library(out, { twice: true, appListener: true });
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.stdout.match(/app SIGINT/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/done 1\n/);
    expect(r.stderr).toMatch(/stopping after this step and saving a checkpoint\n/); // no "Ctrl-C again": that is the program's call
    expect(stoppedAt(out)).toEqual({ epoch: 2, step: expect.toSatisfy((n: number) => n >= 3 && n < 8) });
  }, 60_000);
});

describe('the torchnode CLI and Ctrl-C', () => {
  const cli = (out: string, twice: boolean) =>
    startChild(
      `${SIGNALS(twice)}
    require(${JSON.stringify(path.join(REPO, 'lib', 'cli', 'index.ts'))})
      .main(['train', '--dataset', 'synthetic', '--width', '8', '--reduction', '4', '--epochs', '4', '--batch-size', '32', '--device', 'cpu',
        '--no-off-thread', '--out', ${JSON.stringify(out)}])
      .then((code) => { process.stdout.write('exit ' + code + '\\n'); process.exitCode = code; });
  `,
      { timeoutMs: 120_000 },
    );

  it('the first Ctrl-C stops after the current step and saves; the command ends normally', async () => {
    const out = path.join(dir, 'cli-once');
    const r = await cli(out, false);
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.stdout).toMatch(/exit 0\n$/);
    expect(r.stderr).toMatch(/stopping after this step and saving a checkpoint \(Ctrl-C again to abort\)/);
    expect((torch.load(path.join(out, 'checkpoint.pt')) as { epoch: number }).epoch).toBe(1);
    expect(stoppedAt(out)).toEqual({ epoch: 2, step: expect.toSatisfy((n: number) => n >= 3 && n < 8) });
  }, 120_000);

  it('a second Ctrl-C ends the command at once with status 130', async () => {
    const out = path.join(dir, 'cli-twice');
    const r = await cli(out, true);
    expect([r.status, r.signal], r.stdout + r.stderr).toEqual([130, null]);
    expect(r.stdout).not.toMatch(/exit \d/);
  }, 120_000);
});

it("no library code ends the process: process.exit is the CLI's alone", () => {
  const lib = path.join(REPO, 'lib');
  const files = (fs.readdirSync(lib, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(100);
  const exits = files.filter((f) => /\bprocess\.(exit|abort|reallyExit)\(/.test(fs.readFileSync(path.join(lib, f), 'utf8')));
  expect(exits).toEqual([path.join('cli', 'index.ts')]);
});
