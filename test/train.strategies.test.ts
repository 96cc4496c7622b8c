// The Trainer's step strategies and its Checkpointer. STEP_TABLE (lib/train/strategy.ts) picks one strategy
// per combination of options or refuses it with an error naming them; the Trainer runs what was picked (and
// AMP modifies the eager step). The Checkpointer saves atomically and resumes to bit-identical training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { chooseStep, STEP_TABLE, type StepOptions, type StepPlan } from '../lib/train/strategy';
import { Checkpointer } from '../lib/train/checkpoint';

const { nn, optim, train } = torch;
const hasCuda = torch.cuda.isAvailable();
// A test's name says when it was skipped, and why.
const onCuda = (what: string) => (hasCuda ? what : `${what} (skipped: this machine has no CUDA)`);
const withoutCuda = (what: string) => (hasCuda ? `${what} (skipped: this machine has CUDA)` : what);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-strategies-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base: StepOptions = {
  device: 'cpu',
  amp: false,
  cudaGraph: false,
  offThread: 'auto',
  distributed: false,
  findUnusedParameters: false,
  accumulate: 1,
  uncapturable: null,
};
const eager = (because: string | null = null): StepPlan => ({ kind: 'eager', because });

describe('STEP_TABLE', () => {
  const allowed: [string, Partial<StepOptions>, StepPlan][] = [
    ['the default: off the JS thread, falling back', {}, { kind: 'offThread', insist: false }],
    ['offThread: true insists', { offThread: true }, { kind: 'offThread', insist: true }],
    ['offThread: false', { offThread: false }, eager()],
    ['off-thread on CUDA, distributed, accumulating', { device: 'cuda:1', distributed: true, accumulate: 4 }, { kind: 'offThread', insist: false }],
    ['amp: eager, saying why', { amp: true }, eager('AMP steps run on the JS thread')],
    ['amp with offThread: false: eager, nothing to say', { amp: true, offThread: false }, eager()],
    [
      'findUnusedParameters: eager, saying why',
      { distributed: true, findUnusedParameters: true },
      eager('DistributedDataParallel with findUnusedParameters needs the eager forward'),
    ],
    ['cudaGraph on CUDA', { device: 'cuda', cudaGraph: true }, { kind: 'cudaGraph' }],
    ['cudaGraph takes precedence over offThread: auto', { device: 'cuda:0', cudaGraph: true, offThread: 'auto' }, { kind: 'cudaGraph' }],
    ['cudaGraph with offThread: false', { device: 'cuda', cudaGraph: true, offThread: false }, { kind: 'cudaGraph' }],
  ];
  it.each(allowed)('%s', (_name, options, plan) => {
    expect(chooseStep({ ...base, ...options })).toEqual(plan);
  });

  const refused: [Partial<StepOptions>, RegExp][] = [
    [{ cudaGraph: true }, /^cudaGraph: this training step cannot be captured in a CUDA graph: the device is cpu, not CUDA$/],
    [{ cudaGraph: true, device: 'cuda', accumulate: 2 }, /cudaGraph: .*gradient accumulation/],
    [{ cudaGraph: true, device: 'cuda', amp: true }, /cudaGraph: .*AMP steps are not captured/],
    [
      { cudaGraph: true, device: 'cuda', uncapturable: 'Adam is captured only with capturable: true' },
      /cudaGraph: .*Adam is captured only with capturable: true/,
    ],
    [{ cudaGraph: true, device: 'cuda', offThread: true }, /^cudaGraph and offThread: true cannot be combined/],
    [{ cudaGraph: true, device: 'cuda', distributed: true }, /^Trainer: cudaGraph cannot be combined with distributed/],
    [{ amp: true, offThread: true }, /^offThread: true cannot be combined with amp/],
    [{ distributed: true, findUnusedParameters: true, offThread: true }, /^offThread: true cannot be combined with findUnusedParameters/],
  ];
  it.each(refused)('refuses %o', (options, message) => {
    expect(() => chooseStep({ ...base, ...options })).toThrow(message);
  });

  it('every combination is decided; what it picks holds the rules; a refusal names an option', () => {
    let picked = 0;
    let refusals = 0;
    for (const o of combinations()) {
      const at = JSON.stringify(o);
      let plan: StepPlan;
      try {
        plan = chooseStep(o);
      } catch (e) {
        refusals++;
        expect((e as Error).message, at).toMatch(/cudaGraph|offThread|amp|distributed/);
        continue;
      }
      picked++;
      expect(plan.kind === 'cudaGraph', at).toBe(o.cudaGraph); // asked for and granted, or refused
      if (plan.kind === 'cudaGraph') {
        const { device, amp, accumulate, uncapturable, distributed } = o;
        expect({ device, amp, accumulate, uncapturable, distributed, insists: o.offThread === true }, at).toEqual({
          device: 'cuda',
          amp: false,
          accumulate: 1,
          uncapturable: null,
          distributed: false,
          insists: false,
        });
      }
      if (plan.kind === 'offThread')
        expect({ amp: o.amp, findUnused: o.findUnusedParameters, declined: o.offThread === false }, at).toEqual({
          amp: false,
          findUnused: false,
          declined: false,
        });
      if (plan.kind === 'eager') expect(plan.because === null, at).toBe(o.offThread === false); // an eager step not asked for says why
      if (o.offThread === true) expect(plan.kind, at).toBe('offThread'); // insisting never runs on the JS thread quietly
    }
    expect(picked + refusals).toBe(288);
    expect(picked).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
    expect(STEP_TABLE[STEP_TABLE.length - 1][0]).toEqual({}); // the last row matches everything
  });
});

// Every combination of the columns' values: 2 × 2 × 2 × 3 × 2 × 2 × 2 × 2, less findUnusedParameters without distributed.
function combinations(): StepOptions[] {
  const axes: [keyof StepOptions, unknown[]][] = [
    ['device', ['cpu', 'cuda']],
    ['amp', [false, true]],
    ['cudaGraph', [false, true]],
    ['offThread', [false, true, 'auto']],
    ['distributed', [false, true]],
    ['findUnusedParameters', [false, true]],
    ['accumulate', [1, 3]],
    ['uncapturable', [null, 'only SGD and Adam steps are captured']],
  ];
  let all: Partial<StepOptions>[] = [{}];
  for (const [key, values] of axes) all = all.flatMap((o) => values.map((v) => ({ ...o, [key]: v })));
  return (all as StepOptions[]).filter((o) => o.distributed || !o.findUnusedParameters);
}

// A model whose loss function records the dtype of the logits it is given: float32, or bfloat16 under AMP.
function setup(extra: Partial<torch.train.TrainerOptions> = {}) {
  torch.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const dtypes: string[] = [];
  const lossFn = (o: torch.Tensor, t: torch.Tensor) => {
    dtypes.push(o.dtype);
    return nn.functional.crossEntropy(o, t);
  };
  const trainer = new train.Trainer({
    model,
    optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
    lossFn,
    device: 'cpu',
    progress: false,
    handleSigint: false,
    ...extra,
  });
  return { model, trainer, dtypes };
}
const X = torch.randn([12, 6]);
const Y = torch.randint(0, 3, [12]);
const data = {
  length: 3,
  *[Symbol.iterator]() {
    for (let i = 0; i < 12; i += 4) yield [X.narrow(0, i, 4).clone(), Y.narrow(0, i, 4).clone()] as [torch.Tensor, torch.Tensor];
  },
};

describe('the Trainer runs the strategy the table picked', () => {
  it.each([
    ['offThread: false', { offThread: false }, 'eager', false, []],
    ['the default', {}, 'offThread', true, [{ offThread: true, reason: 'the traced step reproduces the eager step' }]],
    ['amp', { amp: 'bfloat16' }, 'eager', false, [{ offThread: false, reason: 'AMP steps run on the JS thread' }]],
  ] as const)('%s', async (_name, options, kind, offThread, events) => {
    const { trainer } = setup(options as Partial<torch.train.TrainerOptions>);
    expect(trainer.stepPlan.kind).toBe(kind);
    const seen: unknown[] = [];
    const during: boolean[] = [];
    trainer.on('offThread', (e) => seen.push(e));
    trainer.on('step', () => during.push(trainer.stepsOffThread));
    await trainer.fit(data, { epochs: 1 });
    expect(seen).toEqual(events);
    expect(during).toEqual([offThread, offThread, offThread]);
    expect(trainer.stepsOffThread).toBe(false); // the strategy is fit()'s own
  });

  it('AMP modifies the eager step and evaluate(): the loss sees bfloat16 logits there, float32 without it', async () => {
    const amp = setup({ amp: 'bfloat16' });
    await amp.trainer.fit(data, { epochs: 1, testData: data });
    expect(new Set(amp.dtypes)).toEqual(new Set(['bfloat16']));
    expect(amp.dtypes).toHaveLength(6); // 3 steps, 3 test batches
    const plain = setup({ offThread: false });
    await plain.trainer.fit(data, { epochs: 1, testData: data });
    expect(new Set(plain.dtypes)).toEqual(new Set(['float32']));
  });

  it('a refused combination is refused by the constructor, before the output folder is made', () => {
    const out = path.join(dir, 'refused');
    expect(() => setup({ amp: true, offThread: true, outDir: out })).toThrow(/offThread: true cannot be combined with amp/);
    expect(() => setup({ cudaGraph: true, outDir: out })).toThrow(
      /cudaGraph: this training step cannot be captured in a CUDA graph: the device is cpu, not CUDA/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it.skipIf(hasCuda)(withoutCuda('without CUDA, the CUDA-only options are refused plainly'), () => {
    expect(() => setup({ device: 'cuda' })).toThrow(/^Trainer: device 'cuda': CUDA is not available/);
    expect(() => setup({ device: 'auto', cudaGraph: true })).toThrow(/the device is cpu, not CUDA/); // 'auto' is the CPU here
    expect(() => setup({ device: 'cuda', cudaGraph: true })).toThrow(/^Trainer: device 'cuda': CUDA is not available/);
  });

  it.skipIf(!hasCuda)(
    onCuda('cudaGraph: true steps through a captured graph; amp: true is float16 with a GradScaler'),
    async () => {
      const { trainer } = setup({ device: 'cuda', cudaGraph: true });
      expect(trainer.stepPlan).toEqual({ kind: 'cudaGraph' });
      const batches = {
        length: 6,
        *[Symbol.iterator]() {
          for (let i = 0; i < 6; i++) yield [X.narrow(0, 0, 4).clone(), Y.narrow(0, 0, 4).clone()] as [torch.Tensor, torch.Tensor];
        },
      };
      const history = await trainer.fit(batches, { epochs: 2 });
      expect(history.every((h) => Number.isFinite(h.trainLoss))).toBe(true);
      const amp = setup({ device: 'cuda', amp: true });
      expect(amp.trainer.scaler).not.toBeNull();
      await amp.trainer.fit(data, { epochs: 1 });
      expect(new Set(amp.dtypes)).toEqual(new Set(['float16']));
    },
    60_000,
  );
});

// ---- the Checkpointer ----

class Net extends nn.Module {
  declare fc: torch.nn.Linear;
  declare drop: torch.nn.Dropout;
  constructor() {
    super();
    this.fc = new nn.Linear(6, 3);
    this.drop = new nn.Dropout(0.3); // draws from the RNG: resume must restore it
  }
  forward(x: torch.Tensor): torch.Tensor {
    return this.fc(this.drop(x));
  }
}

function state(seed: number) {
  torch.manualSeed(seed);
  const model = new Net();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
  return { model, optimizer, scheduler, scaler: null, history: [] as torch.train.EpochRecord[] };
}

// An epoch by hand: a shuffled order and dropout from the RNG, momentum, the scheduler.
function epoch(s: ReturnType<typeof state>, n: number): void {
  const order = torch.randperm(12).toArray() as number[];
  for (let i = 0; i < 12; i += 4) {
    const idx = order.slice(i, i + 4);
    s.optimizer.zeroGrad();
    nn.functional.crossEntropy(s.model(X.index(idx)), Y.index(idx)).backward();
    s.optimizer.step();
  }
  s.scheduler.step();
  s.history.push({
    epoch: n,
    lr: s.optimizer.paramGroups[0].lr,
    trainLoss: n,
    trainAccuracy: 0,
    testLoss: null,
    testAccuracy: null,
    seconds: 0,
    imagesPerSecond: 0,
  });
}

describe('Checkpointer', () => {
  it('save → resume (a new state, another seed) continues identically: weights, momentum, lr, history, RNG', () => {
    const out = path.join(dir, 'ck');
    const a = state(1);
    const ca = new Checkpointer(a, { dir: out });
    expect(ca.begin(null)).toBe(0);
    epoch(a, 1);
    epoch(a, 2);
    ca.save(2);
    epoch(a, 3);
    epoch(a, 4);

    const b = state(2);
    const cb = new Checkpointer(b, { dir: path.join(dir, 'elsewhere') });
    expect(cb.begin(out)).toBe(2); // a run folder: its checkpoint.pt
    expect(b.history.map((h) => h.epoch)).toEqual([1, 2]);
    epoch(b, 3);
    epoch(b, 4);
    for (const [k, v] of Object.entries(a.model.stateDict())) expect(b.model.stateDict()[k].equal(v), k).toBe(true);
    expect(b.optimizer.paramGroups[0].lr).toBe(a.optimizer.paramGroups[0].lr);
    expect(b.history).toEqual(a.history);
  });

  it('interrupted.pt beside checkpoint.pt; a complete epoch removes it; a new run removes both', () => {
    const out = path.join(dir, 'stops');
    const s = state(3);
    const lines: string[] = [];
    const c = new Checkpointer(s, { dir: out, log: (l) => lines.push(l) });
    c.begin(null);
    epoch(s, 1);
    c.save(1);
    c.saveInterrupted(1, { epoch: 2, step: 2 });
    expect(fs.readdirSync(out).sort()).toEqual(['checkpoint.pt', 'interrupted.pt']);
    expect((torch.load(path.join(out, 'interrupted.pt')) as { epoch: number; interrupted: unknown }).interrupted).toEqual({ epoch: 2, step: 2 });
    expect(lines).toEqual([expect.stringMatching(/epoch 2 stopped after step 2; its state is in .*interrupted\.pt; checkpoint\.pt holds epoch 1/)]);
    c.save(2);
    expect(fs.readdirSync(out)).toEqual(['checkpoint.pt']);
    c.writeRunFiles();
    expect(fs.readdirSync(out).sort()).toEqual(['checkpoint.pt', 'curve.html', 'curve.svg', 'history.csv', 'history.json']);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'))).toHaveLength(1);
    new Checkpointer(state(3), { dir: out }).begin(null);
    expect(fs.existsSync(path.join(out, 'checkpoint.pt'))).toBe(false);
  });

  it('writes: false (a data-parallel rank other than 0) and dir: null write nothing', () => {
    const out = path.join(dir, 'rank1');
    const s = state(4);
    const c = new Checkpointer(s, { dir: out, writes: false });
    c.begin(null);
    c.save(1);
    c.saveInterrupted(1, { epoch: 2, step: 1 });
    c.writeRunFiles();
    expect(fs.readdirSync(out)).toEqual([]);
    expect(() => new Checkpointer(s, { dir: null }).save(1)).not.toThrow();
  });

  it('a damaged or foreign checkpoint is a clear error naming the file', () => {
    const out = path.join(dir, 'damaged');
    const s = state(5);
    const c = new Checkpointer(s, { dir: out });
    c.save(1);
    const file = path.join(out, 'checkpoint.pt');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => c.resume(out)).toThrow(file);
    const foreign = path.join(dir, 'weights.pt');
    torch.save({ weight: torch.ones(2) }, foreign);
    expect(() => c.resume(foreign)).toThrow(`${foreign} is not a torchnode training checkpoint`);
    const other = path.join(dir, 'other-model.pt');
    torch.save({ model: new nn.Linear(2, 2).stateDict(), optimizer: s.optimizer.stateDict(), epoch: 1 }, other);
    expect(() => c.resume(other)).toThrow(new RegExp(`^resume from ${other.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
    const stoppedOnly = path.join(dir, 'stopped-only');
    const d = new Checkpointer(state(7), { dir: stoppedOnly });
    d.saveInterrupted(0, { epoch: 1, step: 1 });
    expect(() => d.resume(stoppedOnly)).toThrow(/has no checkpoint\.pt \(no epoch was completed\).*interrupted\.pt/);
  });
});
