// torch.nn.utils beyond clipping: fusing batch norm into the layer before it, weight_norm and
// spectral_norm (the hook-based ones), and the conv weight memory-format conversion — against Python.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn } = torch;
const U = nn.utils;
type Tensor = torch.Tensor;
const py = usePyTorch();
const TIGHT = { rtol: 1e-12, atol: 1e-14 };

describe('fusion', () => {
  it("fuseConvBnEval and fuseLinearBnEval give the same outputs as Python's fused layers", async () => {
    torch.manualSeed(1);
    const conv = new nn.Conv2d(3, 4, 3, { bias: false }).to('float64').eval();
    const bn = new nn.BatchNorm2d(4).to('float64');
    bn.train();
    bn(torch.randn([8, 4, 5, 5], { dtype: 'float64' }).mul(3).add(1));
    bn.eval();
    const lin = new nn.Linear(5, 4).to('float64').eval();
    const bn1 = new nn.BatchNorm1d(4).to('float64');
    bn1.train();
    bn1(torch.randn([16, 4], { dtype: 'float64' }).mul(2));
    bn1.eval();
    const fc = U.fuseConvBnEval(conv, bn);
    const fl = U.fuseLinearBnEval(lin, bn1);
    expect(fc).not.toBe(conv);
    const x = torch.randn([2, 3, 6, 6], { dtype: 'float64' });
    const v = torch.randn([3, 5], { dtype: 'float64' });
    const ref = await py.run<Tensor[]>(
      `from torch.nn.utils import fuse_conv_bn_eval, fuse_linear_bn_eval
conv = torch.nn.Conv2d(3, 4, 3, bias=False).double().eval(); conv.load_state_dict(c)
bn = torch.nn.BatchNorm2d(4).double().eval(); bn.load_state_dict(b)
lin = torch.nn.Linear(5, 4).double().eval(); lin.load_state_dict(l)
bn1 = torch.nn.BatchNorm1d(4).double().eval(); bn1.load_state_dict(b1)
fc, fl = fuse_conv_bn_eval(conv, bn), fuse_linear_bn_eval(lin, bn1)
out = [fc.weight, fc.bias, fl.weight, fl.bias, fc(x), fl(v)]`,
      { c: conv.stateDict(), b: bn.stateDict(), l: lin.stateDict(), b1: bn1.stateDict(), x, v },
    );
    const got = [fc.weight, fc.bias!, fl.weight, fl.bias!, fc(x) as Tensor, fl(v) as Tensor];
    got.forEach((t, i) => expectClose(t.detach(), ref[i], TIGHT));
    // and what the fused layer computes is what conv then bn computed
    expectClose(fc(x) as Tensor, bn(conv(x)) as Tensor, { rtol: 1e-10, atol: 1e-12 });
    expect(() => U.fuseConvBnEval(conv.train(), bn)).toThrow('Fusion only for eval!');
  });
});

describe('weightNorm and spectralNorm', () => {
  it("weightNorm: Python's parameters, state-dict keys, outputs and gradients; removeWeightNorm restores one weight", async () => {
    torch.manualSeed(2);
    const lin = U.weightNorm(new nn.Linear(5, 3).to('float64'), 'weight', 1);
    expect(Object.keys(lin.stateDict())).toEqual(['bias', 'weight_g', 'weight_v']);
    const x = torch.randn([4, 5], { dtype: 'float64' });
    (lin(x) as Tensor).pow(2).sum().backward();
    const ref = await py.run<Tensor[]>(
      `import warnings; warnings.simplefilter('ignore')
lin = torch.nn.utils.weight_norm(torch.nn.Linear(5, 3).double(), 'weight', 1)
lin.load_state_dict(state)
y = lin(x); (y ** 2).sum().backward()
out = [y, lin.weight_g.grad, lin.weight_v.grad, lin.bias.grad]`,
      { state: lin.stateDict(), x },
    );
    const g = lin as unknown as Record<string, Tensor>;
    [lin(x) as Tensor, g.weight_g.grad!, g.weight_v.grad!, lin.bias!.grad!].forEach((t, i) => expectClose(t.detach(), ref[i], TIGHT));
    const w = (lin as unknown as { weight: Tensor }).weight.detach().clone();
    U.removeWeightNorm(lin);
    expect(Object.keys(lin.stateDict())).toEqual(['bias', 'weight']);
    expectClose(lin.weight, w, TIGHT);
    expect(() => U.removeWeightNorm(lin)).toThrow(/weight_norm of 'weight' not found/);
  });

  it('spectralNorm: the same power iterations (buffers u, v) and weights as Python over training steps', async () => {
    torch.manualSeed(3);
    const conv = U.spectralNorm(new nn.ConvTranspose2d(3, 4, 3).to('float64'));
    expect(Object.keys(conv.stateDict())).toEqual(['bias', 'weight_orig', 'weight_u', 'weight_v']);
    const state = Object.fromEntries(Object.entries(conv.stateDict()).map(([k, t]) => [k, t.clone()]));
    const x = torch.randn([2, 3, 4, 4], { dtype: 'float64' });
    const outs = [0, 1, 2].map(() => (conv(x) as Tensor).detach());
    conv.eval();
    outs.push((conv(x) as Tensor).detach());
    const ref = await py.run<Tensor[]>(
      `conv = torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(3, 4, 3).double())
conv.load_state_dict(state)
outs = [conv(x).detach() for _ in range(3)]
conv.eval(); outs.append(conv(x).detach())
out = outs + [conv.weight_u, conv.weight_v]`,
      { state, x },
    );
    const c = conv as unknown as Record<string, Tensor>;
    [...outs, c.weight_u, c.weight_v].forEach((t, i) => expectClose(t, ref[i], { rtol: 1e-10, atol: 1e-12 }));
    U.removeSpectralNorm(conv);
    expect(Object.keys(conv.stateDict())).toEqual(['bias', 'weight']);
  });
});

describe('convertConv2dWeightMemoryFormat', () => {
  it('makes every Conv2d weight channels_last and leaves the values', () => {
    const m = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.ReLU(), new nn.Conv2d(4, 2, 1));
    const before = (m.at(0) as torch.nn.Conv2d).weight.clone();
    U.convertConv2dWeightMemoryFormat(m, 'channels_last');
    const w = (m.at(0) as torch.nn.Conv2d).weight;
    expect(w.stride()).toEqual([27, 1, 9, 3]); // channels_last: C innermost
    expectClose(w.detach(), before, { rtol: 0, atol: 0 });
  });
});

describe('nn.utils.parametrize and parametrizations', () => {
  it("parametrizations.weightNorm: Python's class name, keys, values, gradients; old weight_g/weight_v keys load", async () => {
    torch.manualSeed(4);
    const lin = U.parametrizations.weightNorm(new nn.Linear(5, 3).to('float64'));
    expect(lin.constructor.name).toBe('ParametrizedLinear');
    expect(Object.keys(lin.stateDict())).toEqual(['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']);
    const x = torch.randn([4, 5], { dtype: 'float64' });
    (lin(x) as Tensor).pow(2).sum().backward();
    const ref = await py.run<[string, Tensor, Tensor, Tensor]>(
      `from torch.nn.utils import parametrizations
lin = parametrizations.weight_norm(torch.nn.Linear(5, 3).double())
lin.load_state_dict(state)
y = lin(x); (y ** 2).sum().backward()
out = [repr(lin), y, lin.parametrizations.weight.original0.grad, lin.parametrizations.weight.original1.grad]`,
      { state: lin.stateDict(), x },
    );
    expect(String(lin)).toBe(ref[0]);
    const p = (lin as unknown as { parametrizations: { get(k: string): Record<string, Tensor> } }).parametrizations.get('weight')!;
    [lin(x) as Tensor, p.original0.grad!, p.original1.grad!].forEach((t, i) => expectClose(t.detach(), ref[i + 1] as Tensor, TIGHT));
    // a checkpoint of the hook-based weight_norm loads (Python's compatibility hook)
    const old = U.weightNorm(new nn.Linear(5, 3).to('float64'));
    lin.loadStateDict(old.stateDict());
    old(x); // the hook-based form computes its weight at each call
    expectClose((lin as unknown as { weight: Tensor }).weight, (old as unknown as { weight: Tensor }).weight, TIGHT);
    U.parametrize.removeParametrizations(lin, 'weight');
    expect(lin.constructor.name).toBe('Linear');
    expect(Object.keys(lin.stateDict())).toEqual(['bias', 'weight']);
  });

  it("parametrizations.spectralNorm: 15 power iterations at start, one per training forward, buffers and outputs as Python's", async () => {
    torch.manualSeed(5);
    const conv = new nn.Conv2d(3, 4, 3).to('float64');
    const w0 = conv.weight.detach().clone();
    torch.manualSeed(6);
    U.parametrizations.spectralNorm(conv);
    expect(Object.keys(conv.stateDict())).toEqual([
      'bias',
      'parametrizations.weight.original',
      'parametrizations.weight.0._u',
      'parametrizations.weight.0._v',
    ]);
    const x = torch.randn([2, 3, 5, 5], { dtype: 'float64' });
    const outs = [0, 1].map(() => (conv(x) as Tensor).detach());
    const ref = await py.run<Tensor[]>(
      `from torch.nn.utils import parametrizations
conv = torch.nn.Conv2d(3, 4, 3).double()
with torch.no_grad(): conv.weight.copy_(w0); conv.bias.copy_(b0)
torch.manual_seed(6)
parametrizations.spectral_norm(conv)
outs = [conv(x).detach() for _ in range(2)]
out = outs + [conv.parametrizations.weight[0]._u, conv.parametrizations.weight[0]._v]`,
      { w0, b0: conv.bias!, x },
    );
    const sn = (conv as unknown as { parametrizations: { get(k: string): { at(i: number): Record<string, Tensor> } } }).parametrizations
      .get('weight')!
      .at(0)!;
    [...outs, sn._u, sn._v].forEach((t, i) => expectClose(t, ref[i], { rtol: 1e-10, atol: 1e-12 }));
  });

  it("registerParametrization with a module of one's own, chained, and assignment through rightInverse", () => {
    class Symmetric extends nn.Module {
      forward(x: Tensor): Tensor {
        return x.triu().add(x.triu(1).transpose(-1, -2));
      }
    }
    class Scale extends nn.Module {
      forward(x: Tensor): Tensor {
        return x.mul(2);
      }
      rightInverse(x: Tensor): Tensor {
        return x.div(2);
      }
    }
    const lin = new nn.Linear(3, 3);
    U.parametrize.registerParametrization(lin, 'weight', new Symmetric());
    const w = (lin as unknown as { weight: Tensor }).weight;
    expectClose(w, w.t(), { rtol: 0, atol: 0 });
    expect(U.parametrize.isParametrized(lin, 'weight')).toBe(true);
    const m = new nn.Linear(2, 2);
    U.parametrize.registerParametrization(m, 'weight', new Scale());
    (m as unknown as { weight: Tensor }).weight = torch.ones(2, 2);
    expectClose((m as unknown as { weight: Tensor }).weight, torch.ones(2, 2), { rtol: 0, atol: 0 });
    expect(() => U.parametrize.removeParametrizations(new nn.Linear(2, 2), 'weight')).toThrow(/does not have a parametrization on weight/);
  });
});

describe('parametrizations that change what they map', () => {
  // [what, torchnode call, the same in Python]: the messages are Python's, line for line
  class ToDouble extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.double();
    }
  }
  class Row extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.select(0, 0);
    }
  }
  class Half extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.mul(2);
    }
    rightInverse(x: Tensor): Tensor {
      return x.select(0, 0);
    }
  }
  class Ident extends nn.Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const P = U.parametrize;
  const chained = (next: torch.nn.Module) => () =>
    P.registerParametrization(P.registerParametrization(new nn.Linear(3, 3), 'weight', new Ident()), 'weight', next);
  const cases: [string, () => unknown, string][] = [
    ['first: dtype', () => P.registerParametrization(new nn.Linear(3, 3), 'weight', new ToDouble()), 'ToDouble'],
    ['first: shape', () => P.registerParametrization(new nn.Linear(3, 3), 'weight', new Row()), 'Row'],
    ['chained: dtype', chained(new ToDouble()), 'Ident, ToDouble'],
    ['chained: shape', chained(new Row()), 'Ident, Row'],
    ['chained: right inverse shape', chained(new Half()), 'Ident, Half'],
  ];
  it.each(cases)("%s: Python's ValueError", async (_what, call, chain) => {
    const message = await py.run<string>(
      `from torch.nn.utils import parametrize as P
class ToDouble(torch.nn.Module):
    def forward(self, x): return x.double()
class Row(torch.nn.Module):
    def forward(self, x): return x[0]
class Half(torch.nn.Module):
    def forward(self, x): return x * 2
    def right_inverse(self, x): return x[0]
class Ident(torch.nn.Module):
    def forward(self, x): return x
m = torch.nn.Linear(3, 3)
try:
    for p in [${chain}]: P.register_parametrization(m, 'weight', p())
    out = 'no error'
except ValueError as e:
    out = str(e)`,
    );
    expect(() => call()).toThrow(message);
    expect(message).toMatch(/may not change|must have the same/);
    expect(() => call()).toThrow(torch.TorchValueError);
  });
  it('unsafe: true skips the checks, as Python; a parametrization returning its input leaves that tensor alive', () => {
    const m = P.registerParametrization(new nn.Linear(3, 3), 'weight', new Ident());
    expect((m as unknown as { weight: Tensor }).weight.shape).toEqual([3, 3]); // the check once freed the original here
    expect(() => P.registerParametrization(m, 'weight', new Row(), { unsafe: true })).not.toThrow();
    expect((m as unknown as { weight: Tensor }).weight.shape).toEqual([3]);
  });
});

describe('copies of reparametrised modules', () => {
  it('nn.deepcopy of a parametrized or weight-normed layer computes its own weight and can be undone', () => {
    torch.manualSeed(7);
    const a = U.parametrizations.spectralNorm(new nn.Linear(4, 3));
    const b = nn.deepcopy(a);
    const x = torch.randn(2, 4);
    expectClose(b(x) as Tensor, a(x) as Tensor, { rtol: 0, atol: 0 });
    U.parametrize.removeParametrizations(b, 'weight');
    expect(b.constructor.name).toBe('Linear');
    expect(a.constructor.name).toBe('ParametrizedLinear');
    const c = U.weightNorm(new nn.Linear(4, 3));
    const d = nn.deepcopy(c);
    expectClose(d(x) as Tensor, c(x) as Tensor, { rtol: 0, atol: 0 });
    U.removeWeightNorm(d);
    expect(Object.keys(d.stateDict())).toEqual(['bias', 'weight']);
    expect(Object.keys(c.stateDict())).toEqual(['bias', 'weight_g', 'weight_v']);
  });
  it("Embedding.fromPretrained takes Python's positional arguments", () => {
    const w = torch.randn(5, 3);
    const e = nn.Embedding.fromPretrained(w, false, 0);
    expect(e.weight.requiresGrad).toBe(true);
    expect(e.paddingIdx).toBe(0);
    expect(nn.Embedding.fromPretrained(w).weight.requiresGrad).toBe(false);
  });
});

describe("the 'meta' device, Module.toEmpty and nn.utils.skipInit", () => {
  it("meta tensors hold shapes and dtypes only: Python's repr, shapes through ops, Python's errors on reading", async () => {
    const made = [
      torch.empty([2, 3], { device: 'meta' }),
      torch.empty([0], { device: 'meta' }),
      torch.empty([2], { device: 'meta', dtype: 'int64' }),
      torch.empty([], { device: 'meta' }),
      new nn.Parameter(torch.empty([2], { device: 'meta' })),
    ];
    const ref = await py.run<string[]>(
      `out = [repr(torch.empty(2, 3, device='meta')), repr(torch.empty(0, device='meta')), repr(torch.empty(2, device='meta', dtype=torch.int64)),
       repr(torch.empty((), device='meta')), repr(torch.nn.Parameter(torch.empty(2, device='meta')))]`,
    );
    expect(made.map(String)).toEqual(ref);
    const y = made[0].matmul(torch.empty([3, 4], { device: 'meta' })).add(1);
    expect([y.shape, y.device]).toEqual([[2, 4], 'meta']);
    expect(() => made[0].toArray()).toThrow('Cannot copy out of meta tensor; no data!');
    expect(() => made[0].to('cpu')).toThrow('Cannot copy out of meta tensor; no data!');
    const lin = new nn.Linear(2, 2);
    expect(
      () => new torch.train.Trainer({ model: lin, optimizer: new torch.optim.SGD(lin.parameters(), 0.1), device: 'meta', progress: false }),
    ).toThrow(/device must be 'cpu', 'cuda' or 'cuda:N' \(got 'meta'\)/);
  });

  it("skipInit builds on 'meta' and gives uninitialised memory: no random draws, Python's shapes, keys and repr", async () => {
    torch.manualSeed(11);
    const m = nn.utils.skipInit(nn.Linear, 4, 2);
    const bn = nn.utils.skipInit(nn.BatchNorm2d, 3, { momentum: 0.2 });
    const draw = torch.randn([3]);
    const ref = await py.run<[string, string, string[], Tensor]>(
      `torch.manual_seed(11)
m = torch.nn.utils.skip_init(torch.nn.Linear, 4, 2)
bn = torch.nn.utils.skip_init(torch.nn.BatchNorm2d, 3, momentum=0.2)
out = [repr(m), repr(bn), list(bn.state_dict().keys()), torch.randn(3)]`,
    );
    expect([String(m), String(bn)]).toEqual([ref[0], ref[1]]);
    expect(Object.keys(bn.stateDict())).toEqual(ref[2]);
    expectClose(draw, ref[3], { rtol: 0, atol: 0 }); // neither initialisation drew from the generator
    expect([m.weight.device, m.weight.shape, m.weight.requiresGrad, m.weight instanceof nn.Parameter]).toEqual(['cpu', [2, 4], true, true]);
    expect(nn.utils.skipInit(nn.Conv2d, 3, 8, 3, { device: 'cpu' }).weight.shape).toEqual([8, 3, 3, 3]);
  });

  it("skipInit's and toEmpty's errors; toEmpty keeps the Parameter objects where it can", () => {
    expect(() => (nn.utils.skipInit as (c: unknown) => unknown)(Number)).toThrow('Expected a Module; got a function');
    class Net extends nn.Module {
      fc = new nn.Linear(2, 2);
      forward(x: Tensor): Tensor {
        return this.fc(x);
      }
    }
    expect(() => nn.utils.skipInit(Net)).toThrow("Module must support a 'device' arg to skip initialization");
    const lin = new nn.Linear(3, 2);
    const w = lin.weight;
    expect(lin.toEmpty({ device: 'cpu' }).weight).toBe(w);
    expect(() => lin.toEmpty({ devcie: 'cpu' } as never)).toThrow(/devcie/);
    expect(() => lin.toEmpty({ device: 'tpu' })).toThrow("device must be 'cpu', 'cuda', 'cuda:N' or 'meta' (got 'tpu')");
    const meta = new nn.Linear(3, 2, { device: 'meta' }).toEmpty({ device: 'cpu' });
    expect([meta.weight.device, meta.bias!.device]).toEqual(['cpu', 'cpu']);
  });
});
