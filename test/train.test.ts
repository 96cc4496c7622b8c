// The Trainer: the seeds' loop, gradient accumulation, history files and chart, events, stop, and
// checkpoints: Python reads them, resume continues bit-identically, and a kill mid-write leaves the
// previous checkpoint loadable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { referencePython } from './helpers/python';
import { PyTorch } from './helpers/pytorch';
import { startChild } from './helpers/child';
import { learningCurveSvg } from '../lib/train/chart';

const { nn, optim } = torch;
let py: PyTorch;
let dir: string;
beforeAll(async () => {
  py = await PyTorch.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-train-'));
}, 60_000);
afterAll(() => {
  py?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

torch.manualSeed(11);
const X = torch.randn(64, 1, 8, 8);
const Y = torch.randint(0, 4, [64]);

/** Batches of (X, Y), shuffled each epoch with torch's RNG (so the RNG state matters for resume). */
function batches(batchSize: number, shuffle: boolean) {
  const n = X.shape[0];
  return {
    length: Math.ceil(n / batchSize),
    *[Symbol.iterator](): Iterator<[torch.Tensor, torch.Tensor]> {
      const order = shuffle ? torch.scope(() => torch.rand([n]).argsort().toArray() as number[]) : [...Array(n).keys()];
      for (let i = 0; i < n; i += batchSize) {
        const idx = order.slice(i, i + batchSize);
        yield [X.index(idx), Y.index(idx)];
      }
    },
  };
}

class TinyNet extends nn.Module {
  declare conv: torch.nn.Conv2d;
  declare bn: torch.nn.BatchNorm2d;
  declare drop: torch.nn.Dropout;
  declare fc: torch.nn.Linear;
  constructor() {
    super();
    this.conv = new nn.Conv2d(1, 4, 3, { padding: 1 });
    this.bn = new nn.BatchNorm2d(4);
    this.drop = new nn.Dropout(0.2);
    this.fc = new nn.Linear(4 * 8 * 8, 4);
  }
  forward(x: torch.Tensor): torch.Tensor {
    return this.fc(this.drop(this.bn(this.conv(x)).relu().flatten(1)));
  }
}

function setup(outDir: string | null, extra: Partial<torch.train.TrainerOptions> = {}) {
  const model = new TinyNet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
  const trainer = new torch.train.Trainer({ model, optimizer, scheduler, device: 'cpu', outDir, progress: false, handleSigint: false, ...extra });
  return { model, optimizer, scheduler, trainer };
}

describe('Trainer', () => {
  it("fit over an array of [input, target] pairs runs every epoch and leaves the caller's tensors alone", async () => {
    const { trainer, model } = setup(null);
    const pairs: [torch.Tensor, torch.Tensor][] = [
      [X.narrow(0, 0, 32).clone(), Y.narrow(0, 0, 32).clone()],
      [X.narrow(0, 32, 32).clone(), Y.narrow(0, 32, 32).clone()],
    ];
    const history = await trainer.fit(pairs, { epochs: 3, testData: pairs });
    expect(history).toHaveLength(3);
    pairs.forEach(([x, y], i) => {
      expect(x.equal(X.narrow(0, i * 32, 32))).toBe(true);
      expect(y.equal(Y.narrow(0, i * 32, 32))).toBe(true);
    });
    expect(model(pairs[0][0]).shape).toEqual([32, 4]);
  });

  it('gradient accumulation over 4 batches equals one step on their concatenation (seed 000)', async () => {
    const lin = () => {
      const m = new nn.Linear(64, 4);
      torch.noGrad(() => {
        m.weight.fill_(0.01);
        m.bias!.zero_();
      });
      return m;
    };
    const flat = X.flatten(1);
    const a = lin();
    const ta = new torch.train.Trainer({
      model: a,
      optimizer: new optim.SGD(a.parameters(), { lr: 0.1 }),
      device: 'cpu',
      accumulate: 4,
      progress: false,
      handleSigint: false,
    });
    const quarters = {
      length: 4,
      *[Symbol.iterator]() {
        for (let i = 0; i < 64; i += 16) yield [flat.narrow(0, i, 16), Y.narrow(0, i, 16)] as [torch.Tensor, torch.Tensor];
      },
    };
    await ta.fit(quarters, { epochs: 1 });
    const b = lin();
    const tb = new torch.train.Trainer({
      model: b,
      optimizer: new optim.SGD(b.parameters(), { lr: 0.1 }),
      device: 'cpu',
      progress: false,
      handleSigint: false,
    });
    await tb.fit(
      {
        length: 1,
        *[Symbol.iterator]() {
          yield [flat.clone(), Y.clone()] as [torch.Tensor, torch.Tensor];
        },
      },
      { epochs: 1 },
    );
    expect(a.weight.allclose(b.weight, { rtol: 1e-5, atol: 1e-7 })).toBe(true);
    expect(a.bias!.allclose(b.bias!, { rtol: 1e-5, atol: 1e-7 })).toBe(true);
    expect(a.weight.equal(lin().weight)).toBe(false); // it did train
  });

  it('fit: history, events, files (JSON, CSV, SVG, HTML) and a checkpoint Python’s torch.load reads', async () => {
    const out = path.join(dir, 'run1');
    torch.manualSeed(1);
    const { trainer } = setup(out);
    const steps: torch.train.StepEvent[] = [];
    const epochs: torch.train.EpochRecord[] = [];
    trainer.on('step', (s: torch.train.StepEvent) => steps.push(s));
    trainer.on('epoch', (e: torch.train.EpochRecord) => epochs.push(e));
    const history = await trainer.fit(batches(16, true), { epochs: 3, testData: batches(32, false) });
    expect(history).toHaveLength(3);
    expect(epochs).toEqual(history);
    expect(steps).toHaveLength(12);
    expect(steps[3]).toMatchObject({ epoch: 1, step: 4, steps: 4 });
    expect(history.map((h) => h.lr)).toEqual([0.05, 0.05, 0.025]); // StepLR(2, 0.5) stepped per epoch
    for (const h of history) {
      expect(h.trainAccuracy).toBeGreaterThanOrEqual(0);
      expect(h.trainAccuracy).toBeLessThanOrEqual(1);
      expect(h.testAccuracy).not.toBeNull();
      expect(Number.isFinite(h.trainLoss)).toBe(true);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'))).toEqual(history);
    const csv = fs.readFileSync(path.join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,lr,trainLoss,trainAccuracy,testLoss,testAccuracy,seconds,imagesPerSecond');
    expect(csv).toHaveLength(4);
    const svg = fs.readFileSync(path.join(out, 'curve.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect((svg.match(/<path /g) ?? []).length).toBe(4); // train/test × accuracy/loss
    expect(fs.readFileSync(path.join(out, 'curve.html'), 'utf8')).toContain('<svg');
    const ref = await py.run<{
      keys: string[];
      epoch: number;
      n: number;
      group: Record<string, unknown>;
    }>(`ck = torch.load(${JSON.stringify(path.join(out, 'checkpoint.pt'))})
out = {'keys': sorted(ck.keys()), 'epoch': ck['epoch'], 'n': len(ck['model']), 'group': ck['optimizer']['param_groups'][0]}`);
    expect(ref.keys).toEqual(['epoch', 'history', 'model', 'optimizer', 'rng_state', 'scaler', 'scheduler']);
    expect(ref.epoch).toBe(3);
    expect(ref.n).toBe(9); // conv weight/bias, bn weight/bias/running_mean/running_var/num_batches_tracked, fc weight/bias
  });

  it('resume continues to bit-identical parameters on CPU', async () => {
    const run = async (epochs: number, out: string, resume: string | null, seed: number) => {
      torch.manualSeed(seed);
      const s = setup(out);
      await s.trainer.fit(batches(16, true), { epochs, resume });
      return s.model;
    };
    const full = await run(4, path.join(dir, 'full'), null, 5);
    await run(2, path.join(dir, 'half'), null, 5);
    const resumed = await run(4, path.join(dir, 'half'), path.join(dir, 'half'), 99); // another seed: the checkpoint's RNG wins
    for (const [k, v] of Object.entries(full.stateDict())) expect(resumed.stateDict()[k].equal(v), k).toBe(true);
  });

  it('stop() ends fit after the current step; checkpoint.pt stays at the last complete epoch, so resume is bit-identical', async () => {
    const out = path.join(dir, 'stopped');
    torch.manualSeed(2);
    const { trainer } = setup(out);
    trainer.on('step', (s: torch.train.StepEvent) => {
      if (s.epoch === 2 && s.step === 2) trainer.stop();
    });
    const history = await trainer.fit(batches(16, true), { epochs: 5 });
    expect(history).toHaveLength(1);
    const ck = torch.load(path.join(out, 'checkpoint.pt')) as { epoch: number; interrupted?: unknown };
    expect(ck.epoch).toBe(1);
    expect(ck.interrupted).toBeUndefined();
    // The stopped epoch's own state is kept apart.
    const cut = torch.load(path.join(out, 'interrupted.pt')) as { epoch: number; interrupted: unknown; model: Record<string, torch.Tensor> };
    expect([cut.epoch, cut.interrupted]).toEqual([1, { epoch: 2, step: 2 }]);
    expect(cut.model['fc.weight'].equal(trainer.model.stateDict()['fc.weight'])).toBe(true);
    // Resuming the run equals a run never stopped; a complete epoch then removes interrupted.pt.
    const resumed = setup(out);
    await resumed.trainer.fit(batches(16, true), { epochs: 3, resume: out });
    torch.manualSeed(2);
    const straight = setup(null);
    await straight.trainer.fit(batches(16, true), { epochs: 3 });
    for (const [k, v] of Object.entries(straight.model.stateDict())) expect(resumed.model.stateDict()[k].equal(v), k).toBe(true);
    expect(fs.existsSync(path.join(out, 'interrupted.pt'))).toBe(false);
  });

  it('the learning curve is drawn for any losses: huge and nearly equal, flat, or one epoch', () => {
    const rec = (epoch: number, trainLoss: number, testLoss: number | null) => ({
      epoch,
      lr: 0.1,
      trainLoss,
      trainAccuracy: 0.5,
      testLoss,
      testAccuracy: 0.5,
      seconds: 1,
      imagesPerSecond: 1,
    });
    const cases = [
      [rec(1, 1e12, 1e12 + 2 ** -8 * 2), rec(2, 1e12, 1e12)], // a few floats apart: ticks once stepped forever
      [rec(1, 1e8, 1e8 + 2 ** -26)],
      [rec(1, 2.3, 2.3), rec(2, 2.3, 2.3)],
      [rec(1, 0, null)],
      [rec(1, 1e300, -1e300)],
    ];
    for (const history of cases) {
      const svg = learningCurveSvg(history);
      expect(svg).toMatch(/^<svg/);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it("a new run in a folder drops an earlier run's checkpoints, so a stop in its first epoch leaves nothing to resume by mistake", async () => {
    const out = path.join(dir, 'reused');
    torch.manualSeed(4);
    await setup(out).trainer.fit(batches(16, true), { epochs: 1 });
    expect(fs.existsSync(path.join(out, 'checkpoint.pt'))).toBe(true);
    const { trainer } = setup(out);
    trainer.on('step', (s: torch.train.StepEvent) => {
      if (s.step === 2) trainer.stop();
    });
    await trainer.fit(batches(16, true), { epochs: 3 });
    expect(fs.existsSync(path.join(out, 'checkpoint.pt'))).toBe(false);
    expect((torch.load(path.join(out, 'interrupted.pt')) as { epoch: number }).epoch).toBe(0);
    await expect(setup(out).trainer.fit(batches(16, true), { epochs: 2, resume: out })).rejects.toThrow(/no checkpoint\.pt.*interrupted\.pt/);
  });

  it('resume is bit-identical with a DataLoader that has its own seed (its generator is in the checkpoint)', async () => {
    const ds = new torch.data.TensorDataset(X, Y);
    const loader = () => new torch.data.DataLoader(ds, { batchSize: 16, shuffle: true, seed: 1 });
    const run = async (epochs: number, out: string | null, resume: string | null) => {
      torch.manualSeed(3);
      const s = setup(out);
      await s.trainer.fit(loader(), { epochs, resume });
      return s.model;
    };
    const straight = await run(3, null, null);
    const out = path.join(dir, 'seeded-loader');
    await run(1, out, null);
    const resumed = await run(3, out, out); // a new loader: its generator starts from the seed again
    for (const [k, v] of Object.entries(straight.stateDict())) expect(resumed.stateDict()[k].equal(v), k).toBe(true);
  });

  it('a DistributedSampler gets its epoch from the Trainer also without distributed: a new order each epoch', async () => {
    const ds = new torch.data.TensorDataset(X, Y);
    const sampler = new torch.data.DistributedSampler(ds, { numReplicas: 1, rank: 0, shuffle: true, seed: 4 });
    const orders: number[][] = [];
    const seen = {
      length: 4,
      async *[Symbol.asyncIterator]() {
        orders.push([...sampler]);
        yield* new torch.data.DataLoader(ds, { batchSize: 16, sampler });
      },
      sampler,
    };
    const { trainer } = setup(null);
    await trainer.fit(seen as unknown as torch.train.Batches, { epochs: 3 });
    expect(sampler.epoch).toBe(2);
    expect(new Set(orders.map(String)).size).toBe(3);
  });

  it('SIGINT stops after the current step, saves, and the process exits normally', async () => {
    const out = path.join(dir, 'sigint');
    const result = await startChild(
      `
      torch.manualSeed(0);
      const model = torch.models.seResNet18({ stem: 'cifar', inChannels: 1, numClasses: 4, width: 8, se: { reduction: 4 } });
      const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05 });
      const X = torch.randn(64, 1, 16, 16), Y = torch.randint(0, 4, [64]);
      const batches = { length: 8, *[Symbol.iterator]() { for (let i = 0; i < 64; i += 8) yield [X.narrow(0, i, 8), Y.narrow(0, i, 8)]; } };
      const trainer = new torch.train.Trainer({ model, optimizer, device: 'cpu', outDir: ${JSON.stringify(out)}, progress: false });
      trainer.on('step', (s) => process.stdout.write('step ' + s.epoch + '.' + s.step + '\\n'));
      trainer.fit(batches, { epochs: 1000 }).then((h) => process.stdout.write('done ' + h.length + '\\n'));
    `,
      {
        onSpawn: (child) => {
          let sent = false;
          child.stdout!.on('data', (d: Buffer) => {
            // interrupt in the middle of the second epoch
            if (!sent && d.toString().includes('step 2.3')) {
              sent = true;
              child.kill('SIGINT');
            }
          });
        },
      },
    );
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/stopping after this step and saving a checkpoint/);
    const lines = result.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).toBe('done 1'); // epoch 1 finished, epoch 2 was cut short
    expect(lines.filter((l) => l.startsWith('step 2.')).length).toBeLessThan(8);
    const ck = torch.load(path.join(out, 'checkpoint.pt')) as { epoch: number; history: unknown[] };
    expect(ck.epoch).toBe(1);
    expect(ck.history).toHaveLength(1);
  }, 120_000);

  it('a kill while checkpoints are being written leaves a loadable checkpoint', async () => {
    const out = path.join(dir, 'killed');
    fs.mkdirSync(out, { recursive: true });
    const dist = path.resolve(__dirname, '../dist/index.js');
    expect(fs.existsSync(dist), 'dist/ is built by npm install (prepare)').toBe(true);
    const file = path.join(out, 'checkpoint.pt');
    // A child that writes seResNet18-sized checkpoints to the same path as fast as it can.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `
      const torch = require(${JSON.stringify(dist)});
      const sd = torch.models.seResNet18({ numClasses: 10 }).stateDict();
      let i = 0;
      for (;;) { torch.save({ model: sd, epoch: i++ }, ${JSON.stringify(file)}); if (i === 1) process.stdout.write('first\\n'); }
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 700));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ck = torch.load(file) as { model: Record<string, torch.Tensor>; epoch: number };
    expect(Object.keys(ck.model)).toHaveLength(154);
    expect(ck.epoch).toBeGreaterThanOrEqual(0);
    const python = referencePython();
    const check = spawnSync(python.command, ['-c', `import torch; ck = torch.load(${JSON.stringify(file)}); print(len(ck['model']))`], {
      encoding: 'utf8',
      env: python.env,
    });
    expect(check.stdout.trim(), check.stderr).toBe('154');
  }, 60_000);

  it('temporaries of writers killed mid-save are removed by the next save to that path, and by a new run', async () => {
    const out = path.join(dir, 'leftovers');
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, 'big.pt');
    const dist = path.resolve(__dirname, '../dist/index.js');
    const temps = () =>
      fs
        .readdirSync(out)
        .filter((f) => f.includes('.tmp-'))
        .sort();
    // 50 MB saves killed at random moments, until one was killed mid-write.
    for (let kill = 0; kill < 20 && temps().length === 0; kill++) {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `
        const torch = require(${JSON.stringify(dist)});
        const big = torch.zeros([13_000_000]);
        process.stdout.write('ready\\n');
        for (;;) torch.save({ big }, ${JSON.stringify(file)});
      `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const left = temps();
    expect(left.length, 'a kill mid-save leaves a temporary (20 tries)').toBeGreaterThan(0);
    // One of a live process (the test runner's parent) and one of another file stay.
    const live = `big.pt.tmp-${process.ppid}-7`;
    const other = `other.pt.tmp-${left[0].split('.tmp-')[1]}`;
    fs.writeFileSync(path.join(out, live), 'x');
    fs.writeFileSync(path.join(out, other), 'x');
    torch.save({ small: torch.ones(2) }, file);
    expect(temps()).toEqual([live, other].sort());
    expect((torch.load(file) as { small: torch.Tensor }).small.toArray()).toEqual([1, 1]);
    // A new run in the folder removes every dead writer's temporary there.
    const { trainer } = setup(out);
    await trainer.fit(batches(32, false), { epochs: 1 });
    expect(temps()).toEqual([live]);
  }, 120_000);

  it('bad arguments are clear errors', async () => {
    const { model, optimizer } = setup(null);
    expect(() => new torch.train.Trainer({ model: {} as torch.nn.Module<[torch.Tensor], torch.Tensor>, optimizer })).toThrow(
      /model must be an nn.Module/,
    );
    expect(() => new torch.train.Trainer({ model, optimizer: {} as never })).toThrow(/optimizer must be/);
    expect(() => new torch.train.Trainer({ model, optimizer, accumulate: 0 })).toThrow(/accumulate/);
    const t = new torch.train.Trainer({ model, optimizer, device: 'cpu', progress: false, handleSigint: false });
    await expect(t.fit(batches(16, false), { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(t.fit(batches(16, false), { epochs: 1, resume: path.join(dir, 'nope.pt') })).rejects.toThrow(/nope\.pt/);
  });
});
