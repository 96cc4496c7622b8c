// torch.optim's other optimizers against Python: RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD
// and Rprop, built with Python's positional arguments. 20 steps on the same model and data give Python's
// parameters to the bit (Python's CPU path is the single-tensor one, as torchnode's; with foreach=True,
// torchnode follows Python's multi-tensor order where it rounds differently); the state dict has
// Python's layout, and a state dict from either side resumes on the other with the same next steps.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';
import { linearProblem, PY_MODEL } from './helpers/optim';

const { optim } = torch;
const py = usePyTorch();

type Opt = torch.optim.Optimizer<{ lr: number }>;
const { data, model, lossStep } = linearProblem(11);
const { X, Y, W0, B0 } = data;
const EXACT = { rtol: 0, atol: 0 };

/** [name, torchnode optimizer over params, Python's constructor call after `params, `]. */
type Case = [string, (params: torch.Tensor[]) => Opt, string];
const cases: Case[] = [
  ['RMSprop', (p) => new optim.RMSprop(p, 0.01), '0.01'],
  ['RMSprop centered, momentum, wd', (p) => new optim.RMSprop(p, 0.005, 0.9, 1e-6, 1e-3, 0.5, true), '0.005, 0.9, 1e-6, 1e-3, 0.5, True'],
  ['RMSprop maximize', (p) => new optim.RMSprop(p, { lr: 1e-3, maximize: true }), 'lr=1e-3, maximize=True'],
  ['Adagrad', (p) => new optim.Adagrad(p, 0.1), '0.1'],
  ['Adagrad lr decay, wd, accumulator', (p) => new optim.Adagrad(p, 0.1, 0.01, 1e-3, 0.5, 1e-8), '0.1, 0.01, 1e-3, 0.5, 1e-8'],
  ['Adadelta', (p) => new optim.Adadelta(p), ''],
  ['Adadelta rho, wd', (p) => new optim.Adadelta(p, 0.5, 0.8, 1e-5, 1e-2), '0.5, 0.8, 1e-5, 1e-2'],
  ['Adamax', (p) => new optim.Adamax(p, 0.01), '0.01'],
  [
    'Adamax betas, wd, maximize',
    (p) => new optim.Adamax(p, 0.01, [0.8, 0.99], 1e-6, 1e-2, { maximize: true }),
    '0.01, (0.8, 0.99), 1e-6, 1e-2, maximize=True',
  ],
  ['NAdam', (p) => new optim.NAdam(p, 0.01), '0.01'],
  ['NAdam decoupled wd', (p) => new optim.NAdam(p, 0.01, [0.85, 0.995], 1e-8, 0.1, 0.01, true), '0.01, (0.85, 0.995), 1e-8, 0.1, 0.01, True'],
  ['NAdam wd', (p) => new optim.NAdam(p, { lr: 0.02, weightDecay: 0.05 }), 'lr=0.02, weight_decay=0.05'],
  ['RAdam', (p) => new optim.RAdam(p, 0.01), '0.01'],
  ['RAdam decoupled wd', (p) => new optim.RAdam(p, 0.01, [0.9, 0.99], 1e-8, 0.1, true), '0.01, (0.9, 0.99), 1e-8, 0.1, True'],
  ['ASGD', (p) => new optim.ASGD(p, 0.05), '0.05'],
  ['ASGD averaging from step 5, wd', (p) => new optim.ASGD(p, 0.05, 1e-3, 0.6, 5, 1e-3), '0.05, 1e-3, 0.6, 5, 1e-3'],
  ['Rprop', (p) => new optim.Rprop(p), ''],
  ['Rprop etas, step sizes', (p) => new optim.Rprop(p, 0.02, [0.3, 1.5], [1e-4, 0.1]), '0.02, (0.3, 1.5), (1e-4, 0.1)'],
  // foreach: Python's multi-tensor form of these computes what its single-tensor form does (torchnode runs the latter)
  [
    'RMSprop foreach',
    (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true, foreach: true }),
    'lr=0.01, momentum=0.5, centered=True, foreach=True',
  ],
  ['Adagrad foreach', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, foreach: true }), 'lr=0.1, lr_decay=0.01, foreach=True'],
  // fused: LibTorch's _fused_adagrad_ kernel, as Python's
  ['Adagrad fused', (p) => new optim.Adagrad(p, { lr: 0.1, fused: true }), 'lr=0.1, fused=True'],
  [
    'Adagrad fused lr decay, wd, accumulator, maximize',
    (p) => new optim.Adagrad(p, 0.1, 0.01, 1e-3, 0.5, 1e-8, { fused: true, maximize: true }),
    '0.1, 0.01, 1e-3, 0.5, 1e-8, fused=True, maximize=True',
  ],
  ['Adadelta foreach', (p) => new optim.Adadelta(p, { weightDecay: 1e-2, foreach: true }), 'weight_decay=1e-2, foreach=True'],
  ['Adamax foreach', (p) => new optim.Adamax(p, { lr: 0.01, foreach: true }), 'lr=0.01, foreach=True'],
  ['Rprop foreach', (p) => new optim.Rprop(p, { foreach: true }), 'foreach=True'],
  // these four: torchnode follows Python's multi-tensor order, which rounds differently from the single-tensor one
  ['NAdam foreach', (p) => new optim.NAdam(p, { lr: 0.02, weightDecay: 0.05, foreach: true }), 'lr=0.02, weight_decay=0.05, foreach=True'],
  [
    'NAdam foreach decoupled wd, maximize',
    (p) => new optim.NAdam(p, 0.01, [0.85, 0.995], 1e-8, 0.1, 0.01, true, { foreach: true, maximize: true }),
    '0.01, (0.85, 0.995), 1e-8, 0.1, 0.01, True, foreach=True, maximize=True',
  ],
  [
    'RAdam foreach',
    (p) => new optim.RAdam(p, 0.01, [0.9, 0.99], 1e-8, 0.1, true, { foreach: true }),
    '0.01, (0.9, 0.99), 1e-8, 0.1, True, foreach=True',
  ],
  ['ASGD foreach', (p) => new optim.ASGD(p, 0.05, 1e-3, 0.6, 5, 1e-3, true), '0.05, 1e-3, 0.6, 5, 1e-3, foreach=True'],
  ['Adafactor foreach', (p) => new optim.Adafactor(p, 0.05, { foreach: true }), '0.05, foreach=True'],
  ['Adafactor', (p) => new optim.Adafactor(p, 0.05), '0.05'],
  [
    'Adafactor eps, d, wd, maximize',
    (p) => new optim.Adafactor(p, 0.05, -0.5, [1e-6, 1e-2], 2, 0.01, { maximize: true }),
    '0.05, -0.5, (1e-6, 1e-2), 2.0, 0.01, maximize=True',
  ],
];
// Muon takes 2-D parameters only
const muonCases: Case[] = [
  [
    'Muon',
    (p) =>
      new optim.Muon(
        p.filter((t) => t.ndim === 2),
        0.02,
      ),
    '0.02',
  ],
  [
    'Muon no nesterov, match_rms_adamw',
    (p) =>
      new optim.Muon(
        p.filter((t) => t.ndim === 2),
        0.02,
        0.05,
        0.9,
        false,
        [3.4445, -4.775, 2.0315],
        1e-7,
        3,
        'match_rms_adamw',
      ),
    "0.02, 0.05, 0.9, False, (3.4445, -4.775, 2.0315), 1e-7, 3, 'match_rms_adamw'",
  ],
];

describe("20 steps equal Python's", () => {
  it.each([...cases, ...muonCases])('%s', async (name, make, pyArgs) => {
    const m = model();
    const opt = make(m.parameters());
    for (let i = 0; i < 20; i++) lossStep(m, opt);
    const cls = name.split(' ')[0];
    const params = cls === 'Muon' ? '[m.weight]' : 'm.parameters()';
    const ref = await py.run<[torch.Tensor, torch.Tensor, Record<string, unknown>]>(
      `${PY_MODEL}
opt = torch.optim.${cls}(${params}${pyArgs ? `, ${pyArgs}` : ''})
for _ in range(20): loss_step(opt)
sd = opt.state_dict()
out = [m.weight, m.bias, sd]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], EXACT);
    expectClose(m.bias!.detach(), ref[1], EXACT);
    // the state dict: the same groups (options under Python's names) and the same state tensors
    const sd = opt.stateDict();
    const want = ref[2] as { state: Record<string, Record<string, torch.Tensor>>; param_groups: Record<string, unknown>[] };
    expect(sd.param_groups).toEqual(want.param_groups);
    expect(Object.keys(sd.state)).toEqual(Object.keys(want.state));
    for (const [id, s] of Object.entries(want.state)) {
      expect(Object.keys(sd.state[id]).sort()).toEqual(Object.keys(s).sort());
      for (const [k, t] of Object.entries(s)) expectClose(sd.state[id][k], t, EXACT);
    }
  });
});

describe('a state dict resumes on the other side', () => {
  it.each(cases.filter(([n]) => !n.includes(' ')))('%s: Node → Python and Python → Node', async (name, make, pyArgs) => {
    const m = model();
    const opt = make(m.parameters());
    for (let i = 0; i < 7; i++) lossStep(m, opt);
    const ref = await py.run<[torch.Tensor, Record<string, unknown>, Record<string, torch.Tensor>]>(
      `${PY_MODEL}
m.load_state_dict(msd)
opt = torch.optim.${name}(m.parameters()${pyArgs ? `, ${pyArgs}` : ''})
osd['state'] = {int(k): v for k, v in osd['state'].items()}  # (JSON keys are strings; Python's ids are ints)
opt.load_state_dict(osd)
for _ in range(5): loss_step(opt)
out = [m.weight, opt.state_dict(), m.state_dict()]`,
      { X, Y, W0, B0, msd: m.stateDict(), osd: opt.stateDict() },
    );
    for (let i = 0; i < 5; i++) lossStep(m, opt);
    expectClose(m.weight.detach(), ref[0], EXACT);
    // Python's state after 12 steps, loaded here, steps on as Python's would
    const m2 = model();
    m2.loadStateDict(ref[2]);
    const opt2 = make(m2.parameters());
    opt2.loadStateDict(ref[1] as never);
    lossStep(m, opt);
    lossStep(m2, opt2);
    expectClose(m2.weight.detach(), m.weight.detach(), EXACT);
  });
});

describe('Adagrad fused', () => {
  it("one kernel call per dtype, and state made for a group added later: Python's fused steps to the bit", async () => {
    const a = torch.tensor([0.5, -1.25, 2], { requiresGrad: true });
    const b = torch.tensor([3, -0.75], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adagrad([a], { lr: 0.1, lrDecay: 0.01, fused: true });
    opt.addParamGroup({ params: [b], weightDecay: 0.1 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      a.pow(3).sum().add(b.mul(b).sum()).backward();
      opt.step();
    }
    const ref = await py.run<torch.Tensor[]>(`
a = torch.tensor([0.5, -1.25, 2.0], requires_grad=True)
b = torch.tensor([3.0, -0.75], dtype=torch.float64, requires_grad=True)
opt = torch.optim.Adagrad([a], lr=0.1, lr_decay=0.01, fused=True)
opt.add_param_group({'params': [b], 'weight_decay': 0.1})
for _ in range(3):
    opt.zero_grad()
    ((a ** 3).sum() + (b * b).sum()).backward()
    opt.step()
out = [a, b, opt.state[a]['sum'], opt.state[b]['step']]`);
    expectClose(a.detach(), ref[0], EXACT);
    expectClose(b.detach(), ref[1], EXACT);
    const sd = opt.stateDict();
    expectClose(sd.state['0'].sum, ref[2], EXACT);
    expectClose(sd.state['1'].step, ref[3], EXACT);
  });
});

describe("bad options are Python's errors", () => {
  it.each([
    ['RMSprop negative lr', () => new optim.RMSprop(model().parameters(), -1), /Invalid learning rate: -1/],
    ['RMSprop alpha', () => new optim.RMSprop(model().parameters(), 0.01, -0.5), /Invalid alpha value: -0.5/],
    ['Adagrad lr_decay', () => new optim.Adagrad(model().parameters(), 0.01, -1), /Invalid lr_decay value: -1/],
    ['Adagrad fused and foreach', () => new optim.Adagrad(model().parameters(), { fused: true, foreach: true }), /`fused` and `foreach` cannot be/],
    ['Adadelta rho', () => new optim.Adadelta(model().parameters(), 1, 1.5), /Invalid rho value: 1.5/],
    ['Adamax beta', () => new optim.Adamax(model().parameters(), 0.01, [1, 0.9]), /Invalid beta parameter at index 0: 1/],
    ['NAdam momentum_decay', () => new optim.NAdam(model().parameters(), { momentumDecay: -1 }), /Invalid momentum_decay value: -1/],
    ['Rprop etas', () => new optim.Rprop(model().parameters(), 0.01, [1.5, 1.2]), /Invalid eta values: 1.5, 1.2/],
    [
      'a snake_case option',
      () => new optim.RAdam(model().parameters(), { weight_decay: 1 } as never),
      /'weight_decay' \(torchnode's name is 'weightDecay'\)/,
    ],
    ['too many positional arguments', () => new optim.Rprop(model().parameters(), 0.01, [0.5, 1.2], [1e-6, 50], 1 as never), /takes at most 3/],
  ] as [string, () => unknown, RegExp][])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('LBFGS', () => {
  it.each([
    ['without line search', {}, ''],
    [
      'strong Wolfe, short history',
      { lineSearchFn: 'strong_wolfe', historySize: 3, maxIter: 6 },
      "line_search_fn='strong_wolfe', history_size=3, max_iter=6",
    ],
    ['lr 0.5, maxIter 4', { lr: 0.5, maxIter: 4 }, 'lr=0.5, max_iter=4'],
  ] as [string, Partial<torch.optim.LBFGSOptions>, string][])("%s: 5 steps with a closure equal Python's", async (_name, opts, pyOpts) => {
    const m = model();
    const opt = new optim.LBFGS(m.parameters(), opts);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const l = opt.step(() => {
        opt.zeroGrad();
        const loss = m(X).sub(Y).pow(2).mean();
        loss.backward();
        return loss;
      });
      losses.push(l.item() as number);
    }
    const ref = await py.run<[torch.Tensor, torch.Tensor, number[]]>(
      `${PY_MODEL}
opt = torch.optim.LBFGS(m.parameters()${pyOpts ? `, ${pyOpts}` : ''})
def closure():
    opt.zero_grad()
    loss = ((m(X) - Y) ** 2).mean()
    loss.backward()
    return loss
losses = [opt.step(closure).item() for _ in range(5)]
out = [m.weight, m.bias, losses]`,
      { X, Y, W0, B0 },
    );
    expect(losses).toEqual(ref[2]);
    expectClose(m.weight.detach(), ref[0], EXACT);
    expectClose(m.bias!.detach(), ref[1], EXACT);
  });
  it('its state dict (the history) moves both ways with Python', async () => {
    const closureOf = (m: torch.nn.Linear, opt: torch.optim.LBFGS) => () => {
      opt.zeroGrad();
      const loss = m(X).sub(Y).pow(2).mean();
      loss.backward();
      return loss;
    };
    const m = model();
    const opt = new optim.LBFGS(m.parameters(), { historySize: 4, maxIter: 5 });
    for (let i = 0; i < 3; i++) opt.step(closureOf(m, opt));
    const sd = opt.stateDict();
    expect(Object.keys(sd.state['0']).sort()).toEqual([
      'H_diag',
      'al',
      'd',
      'func_evals',
      'n_iter',
      'old_dirs',
      'old_stps',
      'prev_flat_grad',
      'prev_loss',
      'ro',
      't',
    ]);
    const ref = await py.run<[torch.Tensor, Record<string, unknown>]>(
      `${PY_MODEL}
m.load_state_dict(msd)
opt = torch.optim.LBFGS(m.parameters(), history_size=4, max_iter=5)
osd['state'] = {int(k): v for k, v in osd['state'].items()}
opt.load_state_dict(osd)
def closure():
    opt.zero_grad()
    loss = ((m(X) - Y) ** 2).mean()
    loss.backward()
    return loss
for _ in range(2): opt.step(closure)
out = [m.weight, opt.state_dict()]`,
      { X, Y, W0, B0, msd: m.stateDict(), osd: sd },
    );
    for (let i = 0; i < 2; i++) opt.step(closureOf(m, opt));
    expectClose(m.weight.detach(), ref[0], EXACT);
    // Python's state after 5 steps resumes here
    const m2 = model();
    m2.loadStateDict(m.stateDict());
    const opt2 = new optim.LBFGS(m2.parameters(), { historySize: 4, maxIter: 5 });
    opt2.loadStateDict(ref[1] as never);
    opt.step(closureOf(m, opt));
    opt2.step(closureOf(m2, opt2));
    expectClose(m2.weight.detach(), m.weight.detach(), EXACT);
  });

  it('needs a closure and one parameter group', () => {
    const m = model();
    expect(() => new optim.LBFGS(m.parameters()).step()).toThrow(/closure must be a function/);
    expect(() => new optim.LBFGS([{ params: [m.weight] }, { params: [m.bias!] }])).toThrow(
      "LBFGS doesn't support per-parameter options (parameter groups)",
    );
    expect(() => new optim.LBFGS(m.parameters(), { lineSearchFn: 'armijo' as never })).toThrow("only 'strong_wolfe' is supported");
  });
});
