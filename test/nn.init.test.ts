// torch.nn.init and the layers' default initialisation against Python's PyTorch: the same seed gives
// exactly the same weights (the same generator calls in the same order), large layers have PyTorch's
// statistics, gains and fans are PyTorch's numbers, and bad input is a clear error.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn } = torch;
const init = nn.init;
type Tensor = torch.Tensor;
const EXACT = { rtol: 0, atol: 0 };

const py = usePyTorch();

/** The state of a module as plain tensors, in stateDict order. */
const state = (m: torch.nn.Module): [string, Tensor][] => Object.entries(m.stateDict());

describe('default initialisation is exactly PyTorch’s for the same seed', () => {
  const layers: [string, () => torch.nn.Module, string][] = [
    ['Linear(64, 32)', () => new nn.Linear(64, 32), 'nn.Linear(64, 32)'],
    ['Linear(64, 32, bias=false)', () => new nn.Linear(64, 32, { bias: false }), 'nn.Linear(64, 32, bias=False)'],
    ['Linear(5, 0)', () => new nn.Linear(5, 0), 'nn.Linear(5, 0)'],
    ['Conv2d(16, 8, 3)', () => new nn.Conv2d(16, 8, 3), 'nn.Conv2d(16, 8, 3)'],
    [
      'Conv2d(16, 8, [3, 5], groups 4, stride 2)',
      () => new nn.Conv2d(16, 8, [3, 5], { groups: 4, stride: 2 }),
      'nn.Conv2d(16, 8, (3, 5), groups=4, stride=2)',
    ],
    ['Conv2d(16, 8, 1, bias=false)', () => new nn.Conv2d(16, 8, 1, { bias: false }), 'nn.Conv2d(16, 8, 1, bias=False)'],
    ['BatchNorm2d(8)', () => new nn.BatchNorm2d(8), 'nn.BatchNorm2d(8)'],
    ['BatchNorm2d(8, affine=false)', () => new nn.BatchNorm2d(8, { affine: false }), 'nn.BatchNorm2d(8, affine=False)'],
    ['Linear(64, 32, float64)', () => new nn.Linear(64, 32, { dtype: 'float64' }), 'nn.Linear(64, 32, dtype=torch.float64)'],
    // the other layers' reset_parameters
    ['Conv1d(4, 6, 3)', () => new nn.Conv1d(4, 6, 3), 'nn.Conv1d(4, 6, 3)'],
    ['ConvTranspose3d(4, 2, 3, groups 2)', () => new nn.ConvTranspose3d(4, 2, 3, { groups: 2 }), 'nn.ConvTranspose3d(4, 2, 3, groups=2)'],
    ['Embedding(10, 4, paddingIdx 1)', () => new nn.Embedding(10, 4, 1), 'nn.Embedding(10, 4, 1)'],
    ['Bilinear(3, 4, 5)', () => new nn.Bilinear(3, 4, 5), 'nn.Bilinear(3, 4, 5)'],
    [
      'LSTM(4, 6, 2, projSize 3, bidirectional)',
      () => new nn.LSTM(4, 6, 2, { projSize: 3, bidirectional: true }),
      'nn.LSTM(4, 6, 2, proj_size=3, bidirectional=True)',
    ],
    ['GRUCell(4, 5)', () => new nn.GRUCell(4, 5), 'nn.GRUCell(4, 5)'],
    [
      'MultiheadAttention(8, 2, kdim 6, bias_kv)',
      () => new nn.MultiheadAttention(8, 2, { kdim: 6, addBiasKv: true }),
      'nn.MultiheadAttention(8, 2, kdim=6, add_bias_kv=True)',
    ],
    ['Transformer(8, 2, 1, 1, 16)', () => new nn.Transformer(8, 2, 1, 1, 16), 'nn.Transformer(8, 2, 1, 1, 16)'],
    ['PReLU(3)', () => new nn.PReLU(3), 'nn.PReLU(3)'],
    ['GroupNorm(2, 4)', () => new nn.GroupNorm(2, 4), 'nn.GroupNorm(2, 4)'],
  ];
  it.each(layers)('%s after manualSeed(0)', async (_name, build, pyBuild) => {
    torch.manualSeed(0);
    const ours = state(build());
    const ref = await py.run<[string[], Tensor[]]>(`torch.manual_seed(0); m = ${pyBuild}
out = [list(m.state_dict().keys()), list(m.state_dict().values())]`);
    expect(ours.map(([k]) => k)).toEqual(ref[0]);
    ours.forEach(([k, v], i) => {
      expect(v.requiresGrad, k).toBe(false); // stateDict tensors are detached
      expectClose(v, ref[1][i], EXACT);
    });
  });

  it('Linear(64, 32), Conv2d(16, 8, 3), BatchNorm2d(8) built in a row after manualSeed(0) (same number of draws)', async () => {
    torch.manualSeed(0);
    const mods = [new nn.Linear(64, 32), new nn.Conv2d(16, 8, 3), new nn.BatchNorm2d(8)];
    const after = torch.rand([3]); // the generator is where Python's is after the three layers
    const ours = [...mods.flatMap((m) => state(m).map(([, v]) => v)), after];
    const ref = await py.run<Tensor[]>(`torch.manual_seed(0)
mods = [nn.Linear(64, 32), nn.Conv2d(16, 8, 3), nn.BatchNorm2d(8)]
after = torch.rand(3)
out = [v for m in mods for v in m.state_dict().values()] + [after]`);
    expect(ours.length).toBe(ref.length);
    ours.forEach((v, i) => expectClose(v, ref[i], EXACT));
  });

  it('resetParameters() redraws exactly as reset_parameters()', async () => {
    torch.manualSeed(0);
    const lin = new nn.Linear(10, 6);
    const conv = new nn.Conv2d(3, 4, 2);
    torch.manualSeed(123);
    lin.resetParameters();
    conv.resetParameters();
    const ref = await py.run<Tensor[]>(`torch.manual_seed(0); lin = nn.Linear(10, 6); conv = nn.Conv2d(3, 4, 2)
torch.manual_seed(123); lin.reset_parameters(); conv.reset_parameters()
out = [lin.weight, lin.bias, conv.weight, conv.bias]`);
    [lin.weight, lin.bias!, conv.weight, conv.bias!].forEach((p, i) => expectClose(p.detach(), ref[i], EXACT));
  });

  // PyTorch's kaiming_uniform_ skips zero-element tensors (a warning, no draw): Linear(0, n) builds,
  // with a zero bias (bound 0 for fan_in 0).
  it('Linear(0, 4) builds as in PyTorch (zero-element weight, zero bias)', async () => {
    torch.manualSeed(0);
    const m = new nn.Linear(0, 4);
    const ref = await py.run<Tensor[]>('torch.manual_seed(0); m = nn.Linear(0, 4); out = [m.weight, m.bias, torch.rand(2)]');
    expectClose(m.weight.detach(), ref[0], EXACT);
    expectClose(m.bias!.detach(), ref[1], EXACT);
    expectClose(torch.rand([2]), ref[2], EXACT);
  });
});

describe('large layers have PyTorch’s weight statistics', () => {
  // Weights are U(-b, b) with b = gain·√(3/fan_in), gain = √(2/(1+5)): b = 1/√fan_in, as is the bias
  // bound. Python draws with a different seed; the two samples agree within what their size allows.
  const big: [string, () => torch.nn.Module, string, number][] = [
    ['Linear(1024, 1024)', () => new nn.Linear(1024, 1024), 'nn.Linear(1024, 1024)', 1024],
    ['Conv2d(256, 256, 3)', () => new nn.Conv2d(256, 256, 3), 'nn.Conv2d(256, 256, 3)', 256 * 9],
  ];
  const stats = (t: Tensor) => {
    const d = t.detach().double();
    return { n: d.numel(), mean: d.mean().item() as number, std: d.std().item() as number, absMax: d.abs().max().item() as number };
  };
  it.each(big)('%s', async (_name, build, pyBuild, fanIn) => {
    torch.manualSeed(2);
    const m = build() as torch.nn.Linear | torch.nn.Conv2d;
    const ours = { w: stats(m.weight), b: stats(m.bias!) };
    const ref = await py.run<Record<'w' | 'b', { n: number; mean: number; std: number; absMax: number }>>(
      `torch.manual_seed(1); m = ${pyBuild}
def s(t):
    d = t.detach().double()
    return {'n': d.numel(), 'mean': d.mean().item(), 'std': d.std().item(), 'absMax': d.abs().max().item()}
out = {'w': s(m.weight), 'b': s(m.bias)}`,
    );
    expect(init.calculateFanInAndFanOut(m.weight)[0]).toBe(fanIn);
    const bound = 1 / Math.sqrt(fanIn);
    const sigma = bound / Math.sqrt(3); // std of U(-bound, bound)
    for (const part of ['w', 'b'] as const) {
      const o = ours[part],
        r = ref[part];
      expect(o.n).toBe(r.n);
      // sd of a sample mean: σ/√n; of a sample std (uniform, kurtosis 1.8): σ·√(0.2/n). Six of them.
      const meanTol = 6 * sigma * Math.sqrt(2 / o.n);
      const stdTol = 6 * sigma * Math.sqrt(0.4 / o.n);
      expect(Math.abs(o.mean - r.mean), `${part} mean vs PyTorch`).toBeLessThan(meanTol);
      expect(Math.abs(o.std - r.std), `${part} std vs PyTorch`).toBeLessThan(stdTol);
      expect(Math.abs(o.mean), `${part} mean vs 0`).toBeLessThan(meanTol);
      expect(Math.abs(o.std - sigma), `${part} std vs b/√3`).toBeLessThan(stdTol);
      // Every value within the bound, the largest close to it (P(miss) < 0.98^1024 ≈ 1e-9).
      expect(o.absMax).toBeLessThanOrEqual(bound);
      expect(r.absMax).toBeLessThanOrEqual(bound);
      expect(o.absMax).toBeGreaterThan(0.98 * bound);
    }
  });
});

describe('each nn.init function equals PyTorch’s with the same seed', () => {
  const conv = [32, 16, 3, 3];
  const lin = [50, 30];
  const cases: [string, number[], (t: Tensor) => Tensor, string][] = [
    ['kaimingUniform_ defaults', conv, (t) => init.kaimingUniform_(t), 'nn.init.kaiming_uniform_(t)'],
    [
      'kaimingUniform_ fan_in relu',
      conv,
      (t) => init.kaimingUniform_(t, { mode: 'fan_in', nonlinearity: 'relu' }),
      "nn.init.kaiming_uniform_(t, mode='fan_in', nonlinearity='relu')",
    ],
    [
      'kaimingUniform_ fan_out relu',
      conv,
      (t) => init.kaimingUniform_(t, { mode: 'fan_out', nonlinearity: 'relu' }),
      "nn.init.kaiming_uniform_(t, mode='fan_out', nonlinearity='relu')",
    ],
    [
      'kaimingUniform_ leaky_relu a=√5 (Linear’s)',
      lin,
      (t) => init.kaimingUniform_(t, { a: Math.sqrt(5) }),
      'nn.init.kaiming_uniform_(t, a=math.sqrt(5))',
    ],
    [
      'kaimingUniform_ leaky_relu a=0.2 fan_out',
      conv,
      (t) => init.kaimingUniform_(t, { a: 0.2, mode: 'fan_out', nonlinearity: 'leaky_relu' }),
      "nn.init.kaiming_uniform_(t, a=0.2, mode='fan_out', nonlinearity='leaky_relu')",
    ],
    ['kaimingUniform_ tanh', lin, (t) => init.kaimingUniform_(t, { nonlinearity: 'tanh' }), "nn.init.kaiming_uniform_(t, nonlinearity='tanh')"],
    ['kaimingNormal_ defaults', conv, (t) => init.kaimingNormal_(t), 'nn.init.kaiming_normal_(t)'],
    ['kaimingNormal_ fan_in relu', lin, (t) => init.kaimingNormal_(t, { nonlinearity: 'relu' }), "nn.init.kaiming_normal_(t, nonlinearity='relu')"],
    [
      'kaimingNormal_ fan_out relu (ResNet’s)',
      conv,
      (t) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' }),
      "nn.init.kaiming_normal_(t, mode='fan_out', nonlinearity='relu')",
    ],
    [
      'kaimingNormal_ leaky_relu a=0.1 fan_in',
      conv,
      (t) => init.kaimingNormal_(t, { a: 0.1, nonlinearity: 'leaky_relu' }),
      "nn.init.kaiming_normal_(t, a=0.1, nonlinearity='leaky_relu')",
    ],
    [
      'kaimingNormal_ leaky_relu a=0.3 fan_out',
      lin,
      (t) => init.kaimingNormal_(t, { a: 0.3, mode: 'fan_out' }),
      "nn.init.kaiming_normal_(t, a=0.3, mode='fan_out')",
    ],
    ['kaimingNormal_ 5-D', [4, 3, 2, 3, 2], (t) => init.kaimingNormal_(t, { mode: 'fan_out' }), "nn.init.kaiming_normal_(t, mode='fan_out')"],
    ['xavierUniform_ defaults', conv, (t) => init.xavierUniform_(t), 'nn.init.xavier_uniform_(t)'],
    ['xavierUniform_ gain 2', lin, (t) => init.xavierUniform_(t, { gain: 2 }), 'nn.init.xavier_uniform_(t, gain=2.0)'],
    [
      'xavierUniform_ gain calculateGain(relu)',
      conv,
      (t) => init.xavierUniform_(t, { gain: init.calculateGain('relu') }),
      "nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain('relu'))",
    ],
    ['xavierNormal_ defaults', lin, (t) => init.xavierNormal_(t), 'nn.init.xavier_normal_(t)'],
    ['xavierNormal_ gain 0.5', conv, (t) => init.xavierNormal_(t, { gain: 0.5 }), 'nn.init.xavier_normal_(t, gain=0.5)'],
    ['constant_', conv, (t) => init.constant_(t, 0.25), 'nn.init.constant_(t, 0.25)'],
    ['constant_ negative', [7], (t) => init.constant_(t, -3.5), 'nn.init.constant_(t, -3.5)'],
    ['zeros_', lin, (t) => init.zeros_(t), 'nn.init.zeros_(t)'],
    ['ones_', lin, (t) => init.ones_(t), 'nn.init.ones_(t)'],
    ['normal_ defaults', lin, (t) => init.normal_(t), 'nn.init.normal_(t)'],
    ['normal_ mean 2 std 0.5', conv, (t) => init.normal_(t, 2, 0.5), 'nn.init.normal_(t, mean=2.0, std=0.5)'],
    ['normal_ 1-D', [100], (t) => init.normal_(t, 0, 0.01), 'nn.init.normal_(t, 0.0, 0.01)'],
    ['uniform_ defaults', lin, (t) => init.uniform_(t), 'nn.init.uniform_(t)'],
    ['uniform_ -3..5', conv, (t) => init.uniform_(t, -3, 5), 'nn.init.uniform_(t, -3.0, 5.0)'],
  ];
  it.each(cases)('%s', async (_name, shape, js, pyInit) => {
    torch.manualSeed(7);
    const t = torch.empty(shape);
    const r = js(t);
    expect(r).toBe(t); // in place, returns its argument
    const after = torch.rand([2]); // no extra or missing draws
    const ref = await py.run<Tensor[]>(`import math
torch.manual_seed(7); t = torch.empty(${JSON.stringify(shape)}); r = ${pyInit}
assert r is t
out = [t, torch.rand(2)]`);
    expectClose(t, ref[0], EXACT);
    expectClose(after, ref[1], EXACT);
  });

  it.each([
    [
      'kaimingNormal_ float64',
      (t: Tensor) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' }),
      "nn.init.kaiming_normal_(t, mode='fan_out', nonlinearity='relu')",
    ],
    ['xavierUniform_ float64', (t: Tensor) => init.xavierUniform_(t), 'nn.init.xavier_uniform_(t)'],
    ['uniform_ float64', (t: Tensor) => init.uniform_(t, -1, 2), 'nn.init.uniform_(t, -1.0, 2.0)'],
  ] as const)('%s', async (_name, js, pyInit) => {
    torch.manualSeed(8);
    const t = js(torch.empty([12, 9], { dtype: 'float64' }));
    const ref = await py.run(`torch.manual_seed(8); t = torch.empty(12, 9, dtype=torch.float64); ${pyInit}; out = t`);
    expectClose(t, ref, EXACT);
  });

  it('several inits in a row draw as Python’s do', async () => {
    torch.manualSeed(9);
    const a = init.kaimingUniform_(torch.empty([8, 4, 3, 3]), { nonlinearity: 'relu' });
    const b = init.xavierNormal_(torch.empty([20, 10]));
    const c = init.normal_(torch.empty([5]), 1, 2);
    const d = init.uniform_(torch.empty([5]), -0.1, 0.1);
    const ref = await py.run<Tensor[]>(`torch.manual_seed(9)
a = nn.init.kaiming_uniform_(torch.empty(8, 4, 3, 3), nonlinearity='relu')
b = nn.init.xavier_normal_(torch.empty(20, 10))
c = nn.init.normal_(torch.empty(5), 1.0, 2.0)
d = nn.init.uniform_(torch.empty(5), -0.1, 0.1)
out = [a, b, c, d]`);
    [a, b, c, d].forEach((t, i) => expectClose(t, ref[i], EXACT));
  });

  it('initialising a Parameter works (no autograd error) and keeps requiresGrad, as under torch.no_grad', async () => {
    torch.manualSeed(10);
    const m = new nn.Linear(6, 4);
    init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
    init.zeros_(m.bias!);
    expect(m.weight.requiresGrad).toBe(true);
    expect(m.weight.isLeaf).toBe(true);
    expect(m.weight.gradFn).toBeNull();
    const ref = await py.run<Tensor[]>(`torch.manual_seed(10); m = nn.Linear(6, 4)
nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu'); nn.init.zeros_(m.bias)
out = [m.weight, m.bias]`);
    expectClose(m.weight.detach(), ref[0], EXACT);
    expectClose(m.bias!.detach(), ref[1], EXACT);
  });

  it('Module.apply with nn.init (the usual custom-init loop) matches PyTorch', async () => {
    const build = () =>
      new nn.Sequential(new nn.Conv2d(3, 8, 3), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 4 * 4, 5));
    torch.manualSeed(11);
    const net = build().apply((m) => {
      if (m instanceof nn.Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof nn.BatchNorm2d) {
        init.ones_(m.weight!);
        init.zeros_(m.bias!);
      } else if (m instanceof nn.Linear) {
        init.normal_(m.weight, 0, 0.01);
        init.zeros_(m.bias!);
      }
    });
    const ref = await py.run<Tensor[]>(`torch.manual_seed(11)
net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
def f(m):
    if isinstance(m, nn.Conv2d): nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
    elif isinstance(m, nn.BatchNorm2d): nn.init.ones_(m.weight); nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear): nn.init.normal_(m.weight, 0, 0.01); nn.init.zeros_(m.bias)
net.apply(f)
out = list(net.state_dict().values())`);
    const ours = Object.values(net.stateDict());
    expect(ours.length).toBe(ref.length);
    ours.forEach((v, i) => expectClose(v, ref[i], EXACT));
  });
});

describe('calculateGain and calculateFanInAndFanOut are PyTorch’s', () => {
  const gains: [torch.nn.init.Nonlinearity, number | undefined][] = [
    ['linear', undefined],
    ['conv1d', undefined],
    ['conv2d', undefined],
    ['conv3d', undefined],
    ['conv_transpose1d', undefined],
    ['conv_transpose2d', undefined],
    ['conv_transpose3d', undefined],
    ['sigmoid', undefined],
    ['tanh', undefined],
    ['relu', undefined],
    ['leaky_relu', undefined],
    ['leaky_relu', 0],
    ['leaky_relu', 0.2],
    ['leaky_relu', Math.sqrt(5)],
    ['leaky_relu', -0.5],
    ['leaky_relu', 3],
  ];
  it('calculateGain for every nonlinearity, exactly', async () => {
    const ref = await py.run<number[]>(
      `import math
out = [nn.init.calculate_gain(n) if p is None else nn.init.calculate_gain(n, p) for n, p in cases]`,
      { cases: gains.map(([n, p]) => [n, p ?? null]) },
    );
    expect(gains.map(([n, p]) => init.calculateGain(n, p))).toEqual(ref);
  });

  it("calculateGain('selu') is 3/4 as in PyTorch", async () => {
    const ref = await py.run<number>("out = nn.init.calculate_gain('selu')");
    expect(ref).toBe(0.75);
    expect(init.calculateGain('selu' as torch.nn.init.Nonlinearity)).toBe(ref);
  });

  const shapes = [
    [2, 3],
    [7, 1],
    [5, 0],
    [0, 5],
    [4, 5, 6],
    [8, 4, 3, 3],
    [8, 4, 1, 1],
    [4, 3, 2, 2, 2],
    [6, 2, 3, 5],
    [3, 2, 0, 4],
  ];
  it.each(shapes.map((s) => [JSON.stringify(s), s] as const))('calculateFanInAndFanOut %s', async (_name, shape) => {
    const ref = await py.run<number[]>(`out = list(nn.init._calculate_fan_in_and_fan_out(torch.empty(${JSON.stringify(shape)})))`);
    expect(init.calculateFanInAndFanOut(torch.empty(shape))).toEqual(ref);
  });

  it('fans of the layers’ own weights', () => {
    expect(init.calculateFanInAndFanOut(new nn.Linear(64, 32).weight)).toEqual([64, 32]);
    expect(init.calculateFanInAndFanOut(new nn.Conv2d(16, 8, 3).weight)).toEqual([144, 72]);
    expect(init.calculateFanInAndFanOut(new nn.Conv2d(16, 8, [3, 5], { groups: 4 }).weight)).toEqual([60, 120]);
  });
});

describe('bad input is a clear error, not a crash', () => {
  // PyTorch: "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions".
  const FEWER_DIMS = /fan in and fan out can ?not be computed for tensor with fewer than 2 dimensions/i;
  const fns: [string, (t: Tensor) => unknown][] = [
    ['kaimingUniform_', (t) => init.kaimingUniform_(t)],
    ['kaimingNormal_', (t) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' })],
    ['xavierUniform_', (t) => init.xavierUniform_(t)],
    ['xavierNormal_', (t) => init.xavierNormal_(t, { gain: 2 })],
    ['calculateFanInAndFanOut', (t) => init.calculateFanInAndFanOut(t)],
  ];
  it.each(fns)('%s on a 1-D or 0-D tensor: PyTorch’s fan error, tensor unchanged', async (_name, fn) => {
    const ref = await py.run<string>(`try:
    nn.init.kaiming_uniform_(torch.empty(4)); out = 'no error'
except ValueError as e:
    out = str(e)`);
    expect(ref).toMatch(FEWER_DIMS);
    for (const shape of [[4], []]) {
      const t = torch.full(shape, 1.5);
      expect(() => fn(t)).toThrow(torch.TorchError);
      expect(() => fn(t)).toThrow(FEWER_DIMS);
      expect(t.eq(1.5).all().item()).toBe(true);
    }
  });

  it('unknown nonlinearity: a RangeError naming it (kaiming and calculateGain)', () => {
    const t = torch.zeros([4, 4]);
    const bad = 'swish' as torch.nn.init.Nonlinearity;
    expect(() => init.kaimingUniform_(t, { nonlinearity: bad })).toThrow(RangeError);
    expect(() => init.kaimingUniform_(t, { nonlinearity: bad })).toThrow(/nonlinearity 'swish'/);
    expect(() => init.kaimingNormal_(t, { nonlinearity: bad })).toThrow(/nonlinearity 'swish'/);
    expect(() => init.calculateGain(bad)).toThrow(/nonlinearity 'swish'/);
    expect(t.eq(0).all().item()).toBe(true);
  });

  it('bad mode: a RangeError naming the allowed modes, tensor unchanged', () => {
    const t = torch.zeros([4, 4]);
    const bad = 'fan_avg' as torch.nn.init.FanMode;
    expect(() => init.kaimingUniform_(t, { mode: bad })).toThrow(RangeError);
    expect(() => init.kaimingUniform_(t, { mode: bad })).toThrow(/'fan_in' or 'fan_out'.*fan_avg/);
    expect(() => init.kaimingNormal_(t, { mode: bad, nonlinearity: 'relu' })).toThrow(/'fan_in' or 'fan_out'/);
    expect(t.eq(0).all().item()).toBe(true);
  });

  it('non-tensor and wrong-typed arguments: TypeErrors', () => {
    const t = torch.zeros([4, 4]);
    expect(() => init.kaimingUniform_(null as never)).toThrow(TypeError);
    expect(() =>
      init.xavierNormal_([
        [1, 2],
        [3, 4],
      ] as never),
    ).toThrow(/tensor must be a Tensor/);
    expect(() => init.calculateFanInAndFanOut({} as never)).toThrow(TypeError);
    expect(() => init.kaimingNormal_(t, null as never)).toThrow(/options must be an object/);
    expect(() => init.kaimingUniform_(t, { a: '0.1' as never })).toThrow(/a must be a number/);
    expect(() => init.xavierUniform_(t, { gain: '2' as never })).toThrow(/gain must be a number/);
    expect(() => init.constant_(t, undefined as never)).toThrow(/value must be a number/);
    expect(() => init.normal_(t, 0, 'x' as never)).toThrow(/std must be a number/);
    expect(() => init.uniform_(t, 'x' as never)).toThrow(/a must be a number/);
  });

  it('wrong-typed mode / nonlinearity / gain param name the option (not "argument N")', () => {
    const t = torch.zeros([4, 4]);
    expect(() => init.kaimingUniform_(t, { mode: 3 as never })).toThrow(/mode/);
    expect(() => init.kaimingNormal_(t, { nonlinearity: 5 as never })).toThrow(/nonlinearity/);
    expect(() => init.calculateGain('leaky_relu', '0.2' as never)).toThrow(/param|slope/);
  });

  it('PyTorch’s errors from the draws themselves: bad ranges, integer tensors, disposed tensors', () => {
    expect(() => init.uniform_(torch.zeros([3]), 1, 0)).toThrow(/from=1 > to=0/);
    expect(() => init.normal_(torch.zeros([3]), 0, -1)).toThrow(/std >= 0/);
    expect(() => init.kaimingUniform_(torch.zeros([3, 3], { dtype: 'int64' }))).toThrow(torch.TorchNotImplementedError);
    const gone = torch.zeros([3, 3]);
    gone.dispose();
    expect(() => init.xavierUniform_(gone)).toThrow(/disposed/);
    // still usable afterwards
    torch.manualSeed(0);
    expect(init.kaimingUniform_(torch.empty([3, 3])).shape).toEqual([3, 3]);
  });

  // PyTorch's kaiming_* skip a zero-element tensor ("Initializing zero-element tensors is a no-op", a
  // warning); xavier_* on [4, 0] draw nothing; xavier_* on [0, 0] divide by a zero fan sum and raise.
  it.each([
    ['kaimingUniform_ [4, 0]', [4, 0], (t: Tensor) => init.kaimingUniform_(t), 'nn.init.kaiming_uniform_(t)'],
    [
      'kaimingUniform_ [0, 4] fan_out',
      [0, 4],
      (t: Tensor) => init.kaimingUniform_(t, { mode: 'fan_out' }),
      "nn.init.kaiming_uniform_(t, mode='fan_out')",
    ],
    ['kaimingNormal_ [4, 0]', [4, 0], (t: Tensor) => init.kaimingNormal_(t), 'nn.init.kaiming_normal_(t)'],
    [
      'kaimingNormal_ [0, 0]',
      [0, 0],
      (t: Tensor) => init.kaimingNormal_(t, { nonlinearity: 'relu' }),
      "nn.init.kaiming_normal_(t, nonlinearity='relu')",
    ],
    ['xavierUniform_ [4, 0]', [4, 0], (t: Tensor) => init.xavierUniform_(t), 'nn.init.xavier_uniform_(t)'],
    ['xavierNormal_ [0, 4]', [0, 4], (t: Tensor) => init.xavierNormal_(t), 'nn.init.xavier_normal_(t)'],
    ['xavierUniform_ [0, 0]', [0, 0], (t: Tensor) => init.xavierUniform_(t), 'nn.init.xavier_uniform_(t)'],
  ] as const)('zero-element tensor as in PyTorch: %s', async (_name, shape, fn, pyInit) => {
    const ref = await py.run<string>(`import warnings
warnings.simplefilter('ignore')
try:
    t = torch.empty(${JSON.stringify(shape)}); r = ${pyInit}; out = 'ok' if r is t else 'other'
except Exception as e:
    out = type(e).__name__`);
    const t = torch.empty([...shape]);
    if (ref === 'ok') {
      expect(fn(t)).toBe(t);
      expect(t.shape).toEqual(shape);
    } else {
      expect(ref).toBe('ZeroDivisionError');
      expect(() => fn(t)).toThrow(); // a JS error, not a crash
    }
  });
});

describe('the initialisers Python writes itself equal its draws', () => {
  it.each([
    [
      'trunc_normal_ (mass inside: redraws)',
      () => init.truncNormal_(torch.empty(40, 30), 0.5, 1, -1, 2),
      'init.trunc_normal_(torch.empty(40, 30), 0.5, 1.0, -1.0, 2.0)',
    ],
    [
      'trunc_normal_ (narrow window: rejection sampling)',
      () => init.truncNormal_(torch.empty(20, 10), 0, 1, 2, 2.5),
      'init.trunc_normal_(torch.empty(20, 10), 0.0, 1.0, 2.0, 2.5)',
    ],
    ['orthogonal_ (wide)', () => init.orthogonal_(torch.empty(3, 5, 2), 2), 'init.orthogonal_(torch.empty(3, 5, 2), 2.0)'],
    ['orthogonal_ (tall)', () => init.orthogonal_(torch.empty(7, 4)), 'init.orthogonal_(torch.empty(7, 4))'],
    ['dirac_ (groups)', () => init.dirac_(torch.empty(6, 2, 3, 3), 3), 'init.dirac_(torch.empty(6, 2, 3, 3), 3)'],
    ['dirac_ (1-d)', () => init.dirac_(torch.empty(4, 5, 3)), 'init.dirac_(torch.empty(4, 5, 3))'],
    ['eye_', () => init.eye_(torch.empty(3, 5)), 'init.eye_(torch.empty(3, 5))'],
    ['sparse_', () => init.sparse_(torch.empty(10, 6), 0.3, 0.5), 'init.sparse_(torch.empty(10, 6), 0.3, 0.5)'],
  ] as [string, () => Tensor, string][])('%s', async (_name, js, pyCode) => {
    torch.manualSeed(3);
    const ours = js();
    const ref = await py.run<Tensor>(`import torch.nn.init as init\ntorch.manual_seed(3)\nout = ${pyCode}`);
    expectClose(ours, ref, EXACT);
  });
  it('refuses what Python refuses', () => {
    expect(() => init.orthogonal_(torch.empty(3))).toThrow('Only tensors with 2 or more dimensions are supported');
    expect(() => init.dirac_(torch.empty(3, 3))).toThrow('Only tensors with 3, 4, or 5 dimensions are supported');
    expect(() => init.dirac_(torch.empty(5, 2, 3), 2)).toThrow('dim 0 must be divisible by groups');
    expect(() => init.eye_(torch.empty(3, 3, 3))).toThrow('Only tensors with 2 dimensions are supported');
  });
});
