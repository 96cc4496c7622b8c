// The other schedulers of torch.optim.lr_scheduler against Python: the lr (and, for the cyclic ones, the
// momentum or beta1) of every step equal Python's to the bit, with Python's positional arguments; state
// dicts have Python's keys; SequentialLR and ChainedScheduler compose them as Python does.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch } from './helpers/pytorch';

const { nn, optim } = torch;
const S = optim.lrScheduler;
const py = usePyTorch();

type Sched = { step(): void; getLastLr(): number[]; stateDict(): Record<string, unknown> };
const sgd = () => new optim.SGD([{ params: [new nn.Parameter(torch.zeros(2))] }, { params: [new nn.Parameter(torch.zeros(2))], lr: 0.05 }], 0.1, 0.9);
const adam = () => new optim.Adam([new nn.Parameter(torch.zeros(2))], 0.01);

/** [name, make the optimizer and schedule, Python's optimizer, Python's schedule (`opt` in scope), steps]. */
type Case = [string, () => [torch.optim.Optimizer<{ lr: number }>, Sched], string, string, number];
const SGD_PY =
  "torch.optim.SGD([{'params': [torch.nn.Parameter(torch.zeros(2))]}, {'params': [torch.nn.Parameter(torch.zeros(2))], 'lr': 0.05}], 0.1, 0.9)";
const ADAM_PY = 'torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], 0.01)';
const withSgd = (f: (o: torch.optim.SGD) => Sched) => (): [torch.optim.Optimizer<{ lr: number }>, Sched] => {
  const o = sgd();
  return [o, f(o)];
};
const cases: Case[] = [
  [
    'MultiplicativeLR',
    withSgd((o) => new S.MultiplicativeLR(o, (e) => 0.9 + 0.01 * (e % 3))),
    SGD_PY,
    'MultiplicativeLR(opt, lambda e: 0.9 + 0.01 * (e % 3))',
    12,
  ],
  ['ConstantLR', withSgd((o) => new S.ConstantLR(o, 0.25, 4)), SGD_PY, 'ConstantLR(opt, 0.25, 4)', 8],
  ['PolynomialLR', withSgd((o) => new S.PolynomialLR(o, 6, 2.5)), SGD_PY, 'PolynomialLR(opt, 6, 2.5)', 9],
  [
    'CosineAnnealingWarmRestarts',
    withSgd((o) => new S.CosineAnnealingWarmRestarts(o, 3, 2, 0.001)),
    SGD_PY,
    'CosineAnnealingWarmRestarts(opt, 3, 2, 0.001)',
    25,
  ],
  [
    'CosineAnnealingWarmRestarts T_mult 1',
    withSgd((o) => new S.CosineAnnealingWarmRestarts(o, 4)),
    SGD_PY,
    'CosineAnnealingWarmRestarts(opt, 4)',
    13,
  ],
  ['CyclicLR triangular', withSgd((o) => new S.CyclicLR(o, 0.01, [0.1, 0.2], 3)), SGD_PY, 'CyclicLR(opt, 0.01, [0.1, 0.2], 3)', 20],
  [
    'CyclicLR triangular2 asymmetric',
    withSgd((o) => new S.CyclicLR(o, 0.01, 0.1, 2, 5, 'triangular2')),
    SGD_PY,
    "CyclicLR(opt, 0.01, 0.1, 2, 5, 'triangular2')",
    30,
  ],
  [
    'CyclicLR exp_range',
    withSgd((o) => new S.CyclicLR(o, 0.01, 0.1, { stepSizeUp: 4, mode: 'exp_range', gamma: 0.97 })),
    SGD_PY,
    "CyclicLR(opt, 0.01, 0.1, step_size_up=4, mode='exp_range', gamma=0.97)",
    30,
  ],
  [
    'CyclicLR with Adam (beta1 cycles)',
    () => {
      const o = adam();
      return [o, new S.CyclicLR(o, 0.001, 0.01, { stepSizeUp: 3, baseMomentum: 0.85, maxMomentum: 0.95 })];
    },
    ADAM_PY,
    'CyclicLR(opt, 0.001, 0.01, step_size_up=3, base_momentum=0.85, max_momentum=0.95)',
    14,
  ],
  ['OneCycleLR cos', withSgd((o) => new S.OneCycleLR(o, 0.5, 20)), SGD_PY, 'OneCycleLR(opt, 0.5, 20)', 20],
  [
    'OneCycleLR linear three-phase',
    withSgd((o) => new S.OneCycleLR(o, [0.5, 0.3], { epochs: 3, stepsPerEpoch: 7, annealStrategy: 'linear', threePhase: true })),
    SGD_PY,
    "OneCycleLR(opt, [0.5, 0.3], epochs=3, steps_per_epoch=7, anneal_strategy='linear', three_phase=True)",
    21,
  ],
  [
    'OneCycleLR with Adam',
    () => {
      const o = adam();
      return [o, new S.OneCycleLR(o, 0.01, 15, null, null, 0.25)];
    },
    ADAM_PY,
    'OneCycleLR(opt, 0.01, 15, None, None, 0.25)',
    15,
  ],
  [
    'SequentialLR: warm-up then cosine',
    withSgd((o) => new S.SequentialLR(o, [new S.LinearLR(o, 0.1, 1, 3), new S.CosineAnnealingLR(o, 6)], [3])),
    SGD_PY,
    'SequentialLR(opt, [LinearLR(opt, 0.1, 1, 3), CosineAnnealingLR(opt, 6)], [3])',
    12,
  ],
  [
    'SequentialLR: constant, exponential, step',
    withSgd((o) => new S.SequentialLR(o, [new S.ConstantLR(o, 0.5, 2), new S.ExponentialLR(o, 0.8), new S.StepLR(o, 2, 0.5)], [2, 5])),
    SGD_PY,
    'SequentialLR(opt, [ConstantLR(opt, 0.5, 2), ExponentialLR(opt, 0.8), StepLR(opt, 2, 0.5)], [2, 5])',
    12,
  ],
  [
    'ChainedScheduler',
    withSgd((o) => new S.ChainedScheduler([new S.ConstantLR(o, 0.1, 3), new S.ExponentialLR(o, 0.9)])),
    SGD_PY,
    'ChainedScheduler([ConstantLR(opt, 0.1, 3), ExponentialLR(opt, 0.9)])',
    8,
  ],
];

describe("schedulers step as Python's", () => {
  it.each(cases)('%s', async (_name, make, pyOpt, pySched, steps) => {
    const [opt, sched] = make();
    const lrs: number[][] = [sched.getLastLr()];
    const momenta: unknown[][] = [opt.paramGroups.map((g) => (g as Record<string, unknown>).momentum ?? (g as Record<string, unknown>).betas)];
    for (let i = 0; i < steps; i++) {
      opt.step();
      sched.step();
      lrs.push(sched.getLastLr());
      momenta.push(opt.paramGroups.map((g) => (g as Record<string, unknown>).momentum ?? (g as Record<string, unknown>).betas));
    }
    const ref = await py.run<{ lrs: number[][]; momenta: unknown[][]; keys: string[] }>(`from torch.optim.lr_scheduler import *
opt = ${pyOpt}
sched = ${pySched}
mom = lambda: [g.get('momentum', g.get('betas')) for g in opt.param_groups]
lrs, momenta = [sched.get_last_lr()], [mom()]
for _ in range(${steps}):
    opt.step(); sched.step()
    lrs.append(sched.get_last_lr()); momenta.append(mom())
out = {'lrs': lrs, 'momenta': [[list(m) if isinstance(m, tuple) else m for m in ms] for ms in momenta], 'keys': sorted(sched.state_dict().keys())}`);
    expect(lrs).toEqual(ref.lrs);
    expect(momenta).toEqual(ref.momenta);
    expect(Object.keys(sched.stateDict()).sort()).toEqual(ref.keys);
  });
});

describe('ReduceLROnPlateau', () => {
  it.each([
    ['min, rel', [], []],
    ['max, abs, cooldown, min lr', ['max', 0.5, 2, 0.01, 'abs', 1, 0.02], ["'max'", 0.5, 2, 0.01, "'abs'", 1, 0.02]],
  ] as [string, unknown[], unknown[]][])("%s: the lr after each metric equals Python's", async (_name, args, pyArgs) => {
    const metrics = [
      1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.61, 0.62, 0.63, 0.64, 0.65, 0.65, 0.66, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7,
    ];
    const o = sgd();
    const s = new S.ReduceLROnPlateau(o, ...(args as []));
    const lrs = metrics.map((m) => {
      s.step(m);
      return s.getLastLr();
    });
    const ref = await py.run<{ lrs: number[][]; sd: Record<string, unknown> }>(
      `from torch.optim.lr_scheduler import ReduceLROnPlateau
opt = ${SGD_PY}
s = ReduceLROnPlateau(opt${pyArgs.length ? `, ${pyArgs.join(', ')}` : ''})
lrs = []
for m in metrics:
    s.step(m); lrs.append(s.get_last_lr())
out = {'lrs': lrs, 'sd': {k: v for k, v in s.state_dict().items() if k != '_get_lr_called_within_step'}}`,
      { metrics },
    );
    expect(lrs).toEqual(ref.lrs);
    const sd = s.stateDict();
    expect(Object.keys(sd).sort()).toEqual(Object.keys(ref.sd).sort());
    for (const k of Object.keys(sd)) expect(sd[k], k).toEqual(ref.sd[k]);
  });
});

describe("bad arguments are Python's errors", () => {
  it.each([
    ['ConstantLR factor', () => new S.ConstantLR(sgd(), 1.5), /Constant multiplicative factor expected to be between 0 and 1/],
    ['CosineAnnealingWarmRestarts T_0', () => new S.CosineAnnealingWarmRestarts(sgd(), 0), /Expected positive integer T_0, but got 0/],
    ['CyclicLR max_lr per group', () => new S.CyclicLR(sgd(), 0.01, [0.1]), /expected 2 values for max_lr, got 1/],
    ['OneCycleLR no length', () => new S.OneCycleLR(sgd(), 0.1), /You must define either total_steps OR \(epochs AND steps_per_epoch\)/],
    [
      'OneCycleLR past the end',
      () => {
        const o = sgd();
        const s = new S.OneCycleLR(o, 0.1, 2);
        for (let i = 0; i < 3; i++) s.step();
      },
      /Tried to step 3 times. The specified number of total steps is 2/,
    ],
    ['ReduceLROnPlateau factor', () => new S.ReduceLROnPlateau(sgd(), 'min', 1.0), /Factor should be < 1.0/],
    [
      'SequentialLR milestones',
      () => {
        const o = sgd();
        return new S.SequentialLR(o, [new S.ConstantLR(o), new S.ExponentialLR(o, 0.9)], []);
      },
      /number of schedulers 2 and the number of milestones to be equal to 0/,
    ],
    ['a snake_case option', () => new S.OneCycleLR(sgd(), 0.1, { total_steps: 10 } as never), /'total_steps' \(torchnode's name is 'totalSteps'\)/],
  ] as [string, () => unknown, RegExp][])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('state dicts move both ways', () => {
  // [name, make the optimizer and schedule, Python's schedule (`opt` in scope)]: 5 steps here, the state to Python, 5 more there and here.
  it.each([
    ['PolynomialLR', withSgd((o) => new S.PolynomialLR(o, 8, 2)), 'PolynomialLR(opt, 8, 2.0)'],
    ['ConstantLR', withSgd((o) => new S.ConstantLR(o, 0.5, 7)), 'ConstantLR(opt, 0.5, 7)'],
    ['CosineAnnealingWarmRestarts', withSgd((o) => new S.CosineAnnealingWarmRestarts(o, 3, 2)), 'CosineAnnealingWarmRestarts(opt, 3, 2)'],
    ['CyclicLR', withSgd((o) => new S.CyclicLR(o, 0.01, 0.1, 3)), 'CyclicLR(opt, 0.01, 0.1, 3)'],
    ['OneCycleLR', withSgd((o) => new S.OneCycleLR(o, 0.5, 20)), 'OneCycleLR(opt, 0.5, 20)'],
  ] as [string, () => [torch.optim.Optimizer<{ lr: number }>, Sched & { loadStateDict(sd: Record<string, unknown>): void }], string][])(
    '%s',
    async (_name, make, pySched) => {
      const [opt, sched] = make();
      for (let i = 0; i < 5; i++) {
        opt.step();
        sched.step();
      }
      const state = { opt: opt.stateDict(), sched: sched.stateDict() };
      const ref = await py.run<{ lrs: number[][]; opt: Record<string, unknown>; sched: Record<string, unknown> }>(
        `from torch.optim.lr_scheduler import *
opt = ${SGD_PY}
sched = ${pySched}
o = state['opt']; o['state'] = {}
opt.load_state_dict(o)
sched.load_state_dict(state['sched'])
lrs = []
for _ in range(5):
    opt.step(); sched.step(); lrs.append(sched.get_last_lr())
sd = {k: v for k, v in sched.state_dict().items() if not callable(v)}
out = {'lrs': lrs, 'opt': opt.state_dict(), 'sched': sd}`,
        { state },
      );
      const lrs: number[][] = [];
      for (let i = 0; i < 5; i++) {
        opt.step();
        sched.step();
        lrs.push(sched.getLastLr());
      }
      expect(lrs).toEqual(ref.lrs);
      // and Python's state, after those 10 steps, resumes here as Python would
      const [opt2, sched2] = make();
      opt2.loadStateDict(ref.opt as never);
      sched2.loadStateDict(ref.sched);
      opt.step();
      sched.step();
      opt2.step();
      sched2.step();
      expect(sched2.getLastLr()).toEqual(sched.getLastLr());
    },
  );
});
