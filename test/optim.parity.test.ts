// torch.optim against Python: the same parameters and gradients, 100 steps of SGD and Adam (every
// option and every kernel: single-tensor, foreach, fused, capturable), the schedulers' lr sequences,
// and state dicts (layout, round trip, resume).
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';
import { linearProblem, PY_MODEL } from './helpers/optim';

const { optim } = torch;
const py = usePyTorch();

const { data, model, lossStep } = linearProblem(7);
const { X, Y, W0, B0 } = data;

// Python runs the same option; capturable is refused there on the CPU (a device check only, the math
// is device-independent), so its device list is widened for the reference.
const PY_CAPTURABLE_ON_CPU = `import torch.optim.adam as _adam
_adam._get_capturable_supported_devices = lambda supports_xla=True: ['cpu', 'cuda']
`;

describe('SGD matches torch.optim.SGD after 100 steps', () => {
  const cases: [string, Partial<torch.optim.SGDOptions>, string][] = [
    ['plain', { lr: 0.1 }, 'lr=0.1'],
    ['momentum', { lr: 0.1, momentum: 0.9 }, 'lr=0.1, momentum=0.9'],
    ['momentum + dampening', { lr: 0.05, momentum: 0.9, dampening: 0.1 }, 'lr=0.05, momentum=0.9, dampening=0.1'],
    ['weight decay', { lr: 0.1, weightDecay: 5e-4 }, 'lr=0.1, weight_decay=5e-4'],
    ['the seeds’ recipe: momentum 0.9, wd 1e-4', { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }, 'lr=0.1, momentum=0.9, weight_decay=1e-4'],
    [
      'nesterov (seed 003)',
      { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      'lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4',
    ],
    ['maximize', { lr: 0.01, momentum: 0.5, maximize: true }, 'lr=0.01, momentum=0.5, maximize=True'],
    ['foreach, momentum + wd', { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, foreach: true }, 'lr=0.1, momentum=0.9, weight_decay=1e-4, foreach=True'],
    [
      'foreach, nesterov + maximize',
      { lr: 0.01, momentum: 0.9, nesterov: true, maximize: true, foreach: true },
      'lr=0.01, momentum=0.9, nesterov=True, maximize=True, foreach=True',
    ],
    [
      'fused, momentum + dampening + wd',
      { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4, fused: true },
      'lr=0.05, momentum=0.9, dampening=0.1, weight_decay=5e-4, fused=True',
    ],
    ['fused, no momentum', { lr: 0.1, fused: true }, 'lr=0.1, fused=True'],
    ['fused, nesterov', { lr: 0.01, momentum: 0.9, nesterov: true, fused: true }, 'lr=0.01, momentum=0.9, nesterov=True, fused=True'],
  ];
  it.each(cases)('%s', async (_name, opts, pyOpts) => {
    const m = model();
    const opt = new optim.SGD(m.parameters(), opts);
    for (let i = 0; i < 100; i++) lossStep(m, opt);
    const ref = await py.run<torch.Tensor[]>(
      `${PY_MODEL}
opt = torch.optim.SGD(m.parameters(), ${pyOpts})
for _ in range(100): loss_step(opt)
out = [m.weight, m.bias]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref[1], { rtol: 1e-6, atol: 1e-7 });
  });

  it('param groups with their own lr and momentum', async () => {
    const m = model();
    const opt = new optim.SGD([{ params: [m.weight] }, { params: [m.bias!], lr: 0.01, momentum: 0 }], { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 100; i++) lossStep(m, opt);
    const ref = await py.run<torch.Tensor[]>(
      `${PY_MODEL}
opt = torch.optim.SGD([{'params': [m.weight]}, {'params': [m.bias], 'lr': 0.01, 'momentum': 0}], lr=0.1, momentum=0.9)
for _ in range(100): loss_step(opt)
out = [m.weight, m.bias]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref[1], { rtol: 1e-6, atol: 1e-7 });
  });

  it('state dict: PyTorch’s layout, and loading it resumes to the same parameters', async () => {
    const m = model();
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    for (let i = 0; i < 10; i++) lossStep(m, opt);
    const sd = opt.stateDict();
    const ref = await py.run<{ keys: string[]; group: Record<string, unknown>; buf: torch.Tensor }>(
      `${PY_MODEL}
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
for _ in range(10): loss_step(opt)
sd = opt.state_dict()
out = {'keys': list(sd['state'][0].keys()), 'group': sd['param_groups'][0], 'buf': sd['state'][0]['momentum_buffer']}`,
      { X, Y, W0, B0 },
    );
    expect(Object.keys(sd.state['0'])).toEqual(ref.keys);
    expect(sd.param_groups[0]).toEqual(ref.group);
    expectClose(sd.state['0'].momentum_buffer, ref.buf, { rtol: 1e-6, atol: 1e-7 });

    // resume: a fresh model + optimizer loaded from the state dicts continues like the original
    const m2 = model();
    m2.loadStateDict(m.stateDict());
    const opt2 = new optim.SGD(m2.parameters(), { lr: 0.5 });
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[0].lr).toBe(0.1);
    expect(opt2.paramGroups[0].weightDecay).toBe(1e-4);
    for (let i = 0; i < 5; i++) {
      lossStep(m, opt);
      lossStep(m2, opt2);
    }
    expect(m2.weight.equal(m.weight)).toBe(true);
    expect(m2.bias!.equal(m.bias!)).toBe(true);
  });

  it('bad options and state dicts are clear errors', () => {
    const m = model();
    expect(() => new optim.SGD(m.parameters(), { lr: -1 })).toThrow(/Invalid learning rate/);
    expect(() => new optim.SGD(m.parameters(), { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires/);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
    expect(() => new optim.SGD([{ params: [torch.ones(2), 'w'] }] as never, { lr: 0.1 })).toThrow(/only optimize Tensors; params\[1\] is/);
    expect(() => new optim.SGD([torch.ones(2, { requiresGrad: true }).mul(2)], { lr: 0.1 })).toThrow(/can't optimize a non-leaf Tensor/);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    expect(() => opt.loadStateDict({ state: {}, param_groups: [] })).toThrow(/1 parameter groups|parameter groups/);
    expect(() => opt.loadStateDict(null as never)).toThrow(TypeError);
  });
});

describe('Adam matches torch.optim.Adam after 100 steps', () => {
  const cases: [string, Partial<torch.optim.AdamOptions>, string][] = [
    ['seed 004: lr 1e-3', { lr: 1e-3 }, 'lr=1e-3'],
    [
      'betas, eps, weight decay',
      { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 1e-2 },
      'lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2',
    ],
    ['amsgrad', { lr: 0.01, amsgrad: true }, 'lr=0.01, amsgrad=True'],
    ['maximize', { lr: 0.01, maximize: true }, 'lr=0.01, maximize=True'],
    [
      'decoupled weight decay (AdamW)',
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true },
      'lr=0.01, weight_decay=0.1, decoupled_weight_decay=True',
    ],
    [
      'Adam foreach, wd',
      { lr: 0.01, betas: [0.8, 0.99], weightDecay: 1e-2, foreach: true },
      'lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2, foreach=True',
    ],
    [
      'Adam foreach, amsgrad + maximize',
      { lr: 0.01, amsgrad: true, maximize: true, foreach: true },
      'lr=0.01, amsgrad=True, maximize=True, foreach=True',
    ],
    [
      'AdamW foreach',
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, foreach: true },
      'lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, foreach=True',
    ],
    ['Adam fused', { lr: 0.01, weightDecay: 1e-2, fused: true }, 'lr=0.01, weight_decay=1e-2, fused=True'],
    ['Adam fused, amsgrad', { lr: 0.01, amsgrad: true, fused: true }, 'lr=0.01, amsgrad=True, fused=True'],
    [
      'AdamW fused',
      { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, fused: true },
      'lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, fused=True',
    ],
    [
      'Adam capturable',
      { lr: 0.01, weightDecay: 1e-2, capturable: true, foreach: false },
      'lr=0.01, weight_decay=1e-2, capturable=True, foreach=False',
    ],
    [
      'Adam capturable, amsgrad',
      { lr: 0.01, amsgrad: true, capturable: true, foreach: false },
      'lr=0.01, amsgrad=True, capturable=True, foreach=False',
    ],
    [
      'Adam capturable foreach',
      { lr: 0.01, weightDecay: 1e-2, capturable: true, foreach: true },
      'lr=0.01, weight_decay=1e-2, capturable=True, foreach=True',
    ],
    [
      'Adam capturable foreach, amsgrad',
      { lr: 0.01, amsgrad: true, capturable: true, foreach: true },
      'lr=0.01, amsgrad=True, capturable=True, foreach=True',
    ],
  ];
  it.each(cases)('%s', async (_name, opts, pyOpts) => {
    const m = model();
    const opt = new optim.Adam(m.parameters(), opts);
    for (let i = 0; i < 100; i++) lossStep(m, opt);
    const ref = await py.run<torch.Tensor[]>(
      `${PY_CAPTURABLE_ON_CPU}${PY_MODEL}
opt = torch.optim.Adam(m.parameters(), ${pyOpts})
for _ in range(100): loss_step(opt)
sd = opt.state_dict()['state'][0]
out = [m.weight, m.bias, sd['step'], sd['exp_avg'], sd['exp_avg_sq']]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref[1], { rtol: 1e-6, atol: 1e-7 });
    const s = opt.stateDict().state['0'];
    expectClose(s.step, ref[2]);
    expect(s.step.dtype).toBe(ref[2].dtype);
    expectClose(s.exp_avg, ref[3], { rtol: 1e-6, atol: 1e-9 });
    expectClose(s.exp_avg_sq, ref[4], { rtol: 1e-6, atol: 1e-12 });
  });
});

describe('AdamW matches torch.optim.AdamW', () => {
  it('its defaults (weight decay 1e-2, decoupled), steps, state dict; a loaded state dict keeps the decay decoupled', async () => {
    const m = model();
    const opt = new optim.AdamW(m.parameters(), { lr: 0.01 });
    for (let i = 0; i < 100; i++) lossStep(m, opt);
    const ref = await py.run<{ w: torch.Tensor; b: torch.Tensor; group: Record<string, unknown> }>(
      `${PY_MODEL}
opt = torch.optim.AdamW(m.parameters(), lr=0.01)
for _ in range(100): loss_step(opt)
out = {'w': m.weight, 'b': m.bias, 'group': opt.state_dict()['param_groups'][0]}`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref.w, { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref.b, { rtol: 1e-6, atol: 1e-7 });
    const sd = opt.stateDict();
    expect(sd.param_groups[0]).toEqual(ref.group);
    sd.param_groups[0].decoupled_weight_decay = false;
    const again = new optim.AdamW(m.parameters());
    again.loadStateDict(sd);
    expect(again.paramGroups[0].decoupledWeightDecay).toBe(true);
    expect(again.paramGroups[0].weightDecay).toBe(1e-2);
  });
});

describe('fused kernels: checkpoints, late gradients, option errors', () => {
  it('a plain Adam checkpoint resumes under fused Adam as in PyTorch', async () => {
    const m = model();
    const plain = new optim.Adam(m.parameters(), { lr: 0.01 });
    for (let i = 0; i < 10; i++) lossStep(m, plain);
    const sd = plain.stateDict();
    sd.param_groups[0].fused = true;
    const fused = new optim.Adam(m.parameters(), { lr: 0.01, fused: true });
    fused.loadStateDict(sd);
    expect(fused.stateDict().state['0'].step.dtype).toBe('float32');
    for (let i = 0; i < 10; i++) lossStep(m, fused);
    const ref = await py.run<torch.Tensor[]>(
      `${PY_MODEL}
opt = torch.optim.Adam(m.parameters(), lr=0.01)
for _ in range(10): loss_step(opt)
sd = opt.state_dict(); sd['param_groups'][0]['fused'] = True
opt = torch.optim.Adam(m.parameters(), lr=0.01, fused=True)
opt.load_state_dict(sd)
for _ in range(10): loss_step(opt)
out = [m.weight, m.bias]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref[1], { rtol: 1e-6, atol: 1e-7 });
  });

  it('a step count loaded as float64 (an older checkpoint) becomes float32 for the fused kernel, at load or at the next step', () => {
    const m = model();
    const plain = new optim.Adam(m.parameters(), { lr: 0.01 });
    for (let i = 0; i < 3; i++) lossStep(m, plain);
    const sd = plain.stateDict();
    for (const s of Object.values(sd.state)) s.step = s.step.double();
    delete sd.param_groups[0].fused; // as older PyTorch wrote them: the live option stands
    const a = new optim.Adam(m.parameters(), { lr: 0.01, fused: true });
    a.loadStateDict(sd);
    expect(a.stateDict().state['0'].step.dtype).toBe('float32');
    sd.param_groups[0].fused = false;
    const b = new optim.Adam(m.parameters(), { lr: 0.01 });
    b.loadStateDict(sd);
    expect(b.stateDict().state['0'].step.dtype).toBe('float64'); // as PyTorch: kept as loaded
    b.paramGroups[0].fused = true;
    lossStep(m, b);
    expect(b.stateDict().state['0'].step.dtype).toBe('float32');
    expect(b.stateDict().state['0'].step.item()).toBe(4);
  });

  it('a parameter that gets its first gradient after a fused SGD step is updated as PyTorch’s single-tensor step', async () => {
    const a = model();
    const b = model();
    const fused = new optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9, fused: true });
    const single = new optim.SGD(b.parameters(), { lr: 0.1, momentum: 0.9, foreach: false });
    for (const [m, opt] of [
      [a, fused],
      [b, single],
    ] as const) {
      m.bias!.requiresGrad_(false);
      lossStep(m, opt);
      m.bias!.requiresGrad_(true);
      for (let i = 0; i < 5; i++) lossStep(m, opt);
    }
    expectClose(a.weight.detach(), b.weight.detach(), { rtol: 1e-6, atol: 1e-7 });
    expectClose(a.bias!.detach(), b.bias!.detach(), { rtol: 1e-6, atol: 1e-7 });
    expect(a.bias!.equal(B0)).toBe(false);
  });

  // What a CUDA-graph step (train/graph-step.ts) runs: the lr read from a device tensor, changed between steps.
  it.each([
    ['Adam capturable', { amsgrad: true }, 'amsgrad=True, foreach=False'],
    ['Adam capturable foreach, weight decay', { weightDecay: 1e-2, foreach: true }, 'weight_decay=1e-2, foreach=True'],
    [
      'AdamW capturable foreach',
      { weightDecay: 0.1, decoupledWeightDecay: true, foreach: true },
      'weight_decay=0.1, decoupled_weight_decay=True, foreach=True',
    ],
    ['AdamW capturable', { weightDecay: 0.1, decoupledWeightDecay: true }, 'weight_decay=0.1, decoupled_weight_decay=True, foreach=False'],
    [
      'AdamW capturable fused',
      { weightDecay: 0.1, decoupledWeightDecay: true, fused: true },
      'weight_decay=0.1, decoupled_weight_decay=True, fused=True',
    ],
  ] as [string, Partial<torch.optim.AdamOptions>, string][])('%s, lr on the device: Python’s Adam with a tensor lr', async (_name, opts, pyOpts) => {
    const m = model();
    const opt = new optim.Adam(m.parameters(), { lr: 0.01, capturable: true, ...opts });
    opt.lrOnDevice(true);
    for (let i = 0; i < 60; i++) {
      if (i === 30) opt.paramGroups[0].lr = 0.002;
      lossStep(m, opt);
    }
    opt.lrOnDevice(false);
    const ref = await py.run<torch.Tensor[]>(
      `${PY_CAPTURABLE_ON_CPU}${PY_MODEL}
opt = torch.optim.Adam(m.parameters(), lr=torch.tensor(0.01), capturable=True, ${pyOpts})
for i in range(60):
    if i == 30: opt.param_groups[0]['lr'].fill_(0.002)
    loss_step(opt)
out = [m.weight, m.bias]`,
      { X, Y, W0, B0 },
    );
    expectClose(m.weight.detach(), ref[0], { rtol: 1e-6, atol: 1e-7 });
    expectClose(m.bias!.detach(), ref[1], { rtol: 1e-6, atol: 1e-7 });
  });

  it('conflicting or unsupported kernel options are clear errors', () => {
    const m = model();
    expect(() => new optim.SGD(m.parameters(), { lr: 0.1, fused: true, foreach: true })).toThrow(/`fused` and `foreach` cannot be `true` together/);
    expect(() => new optim.Adam(m.parameters(), { fused: true, foreach: true })).toThrow(RangeError);
    expect(() => new optim.Adam(m.parameters(), { differentiable: true })).toThrow(/differentiable: true is not supported/);
  });
});

describe('optimizer options and parameters as torch.optim takes them', () => {
  it('a misspelt or snake_case option is an error, not silently unused (Python: unexpected keyword argument)', () => {
    const m = model();
    expect(() => new optim.SGD(m.parameters(), { lr: 0.1, weight_decay: 0.5 } as never)).toThrow(
      /SGD: unknown option 'weight_decay' \(torchnode's name is 'weightDecay'\)/,
    );
    expect(() => new optim.Adam(m.parameters(), { lr: 0.1, amsGrad: true } as never)).toThrow(/Adam: unknown option 'amsGrad'/);
    expect(() => new optim.AdamW(m.parameters(), { decoupledWeightDecay: false } as never)).toThrow(/AdamW: unknown option 'decoupledWeightDecay'/);
    // Python's positional form: SGD(params, lr, momentum, …)
    expect(new optim.SGD(m.parameters(), 0.1).paramGroups[0].lr).toBe(0.1);
    expect(() => new optim.SGD(m.parameters(), 0.1, 0.9, 0, 0, false, true as never)).toThrow(/SGD: takes at most 5 optional positional arguments/);
    // In a param group: an option under Python's name is refused; other keys are the group's own, as in PyTorch.
    expect(() => new optim.SGD([{ params: m.parameters(), weight_decay: 0.5 }] as never, { lr: 0.1 })).toThrow(
      /param group option 'weight_decay': torchnode's name is 'weightDecay'/,
    );
    const opt = new optim.SGD([{ params: m.parameters(), name: 'all' }] as never, { lr: 0.1 });
    expect(opt.stateDict().param_groups[0].name).toBe('all');
    expect(new optim.AdamW(m.parameters()).paramGroups[0]).toMatchObject({ weightDecay: 1e-2, decoupledWeightDecay: true });
  });

  it('plain leaf tensors can be optimized, as in PyTorch, with the same steps', async () => {
    const w = W0.clone().requiresGrad_();
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    for (let i = 0; i < 3; i++) {
      torch.scope(() => {
        opt.zeroGrad();
        X.matmul(w.t()).sub(Y).pow(2).mean().backward();
        opt.step();
      });
    }
    const ref = await py.run(
      `w = W0.clone().requires_grad_()
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
for _ in range(3):
    opt.zero_grad(); ((X @ w.t() - Y) ** 2).mean().backward(); opt.step()
out = w.detach()`,
      { W0, X, Y },
    );
    expectClose(w.detach(), ref, { rtol: 0, atol: 0 });
  });
});

describe('schedulers give PyTorch’s lr sequence', () => {
  const cases: [string, (o: torch.optim.SGD) => torch.optim.lrScheduler.LRScheduler, string, number][] = [
    ['StepLR(30, 0.1) (seed 000)', (o) => new optim.lrScheduler.StepLR(o, { stepSize: 30, gamma: 0.1 }), 'StepLR(opt, step_size=30, gamma=0.1)', 100],
    ['StepLR(5, 0.1) (seed 003)', (o) => new optim.lrScheduler.StepLR(o, { stepSize: 5 }), 'StepLR(opt, step_size=5)', 12],
    [
      'MultiStepLR([30, 80], 0.1)',
      (o) => new optim.lrScheduler.MultiStepLR(o, { milestones: [30, 80], gamma: 0.1 }),
      'MultiStepLR(opt, milestones=[30, 80], gamma=0.1)',
      100,
    ],
    [
      'MultiStepLR repeated milestone',
      (o) => new optim.lrScheduler.MultiStepLR(o, { milestones: [3, 3, 6], gamma: 0.5 }),
      'MultiStepLR(opt, milestones=[3, 3, 6], gamma=0.5)',
      10,
    ],
    [
      'CosineAnnealingLR(10, 1e-3) past a full period',
      (o) => new optim.lrScheduler.CosineAnnealingLR(o, { tMax: 10, etaMin: 1e-3 }),
      'CosineAnnealingLR(opt, T_max=10, eta_min=1e-3)',
      35,
    ],
    // epochs where V8's Math.cos and the C library's cos differ in the last bit (19 of T_max 30, among others)
    [
      'CosineAnnealingLR(30) over three periods',
      (o) => new optim.lrScheduler.CosineAnnealingLR(o, { tMax: 30 }),
      'CosineAnnealingLR(opt, T_max=30)',
      90,
    ],
    [
      'CosineAnnealingLR(7, 0.01)',
      (o) => new optim.lrScheduler.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.01 }),
      'CosineAnnealingLR(opt, T_max=7, eta_min=0.01)',
      30,
    ],
    [
      'MultiStepLR milestone three times',
      (o) => new optim.lrScheduler.MultiStepLR(o, { milestones: [4, 4, 4], gamma: 0.3 }),
      'MultiStepLR(opt, milestones=[4, 4, 4], gamma=0.3)',
      6,
    ],
    ['ExponentialLR(0.9)', (o) => new optim.lrScheduler.ExponentialLR(o, { gamma: 0.9 }), 'ExponentialLR(opt, gamma=0.9)', 30],
    ['LinearLR warm-up (defaults)', (o) => new optim.lrScheduler.LinearLR(o), 'LinearLR(opt)', 10],
    [
      'LinearLR(0.5 → 0.1 over 7)',
      (o) => new optim.lrScheduler.LinearLR(o, { startFactor: 0.5, endFactor: 0.1, totalIters: 7 }),
      'LinearLR(opt, start_factor=0.5, end_factor=0.1, total_iters=7)',
      12,
    ],
    [
      'LambdaLR(1 / (1 + epoch))',
      (o) => new optim.lrScheduler.LambdaLR(o, { lrLambda: (e) => 1 / (1 + e) }),
      'LambdaLR(opt, lambda e: 1 / (1 + e))',
      10,
    ],
  ];
  it.each(cases)('%s', async (_name, make, pyMake, epochs) => {
    const m = model();
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const sched = make(opt);
    const ours = [sched.getLastLr()[0]];
    for (let e = 0; e < epochs; e++) {
      sched.step();
      ours.push(sched.getLastLr()[0]);
    }
    const ref = await py.run<{ lrs: number[]; keys: string[] }>(`m = torch.nn.Linear(5, 3)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
from torch.optim.lr_scheduler import *
s = ${pyMake}
lrs = [s.get_last_lr()[0]]
for _ in range(${epochs}):
    opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
out = {'lrs': lrs, 'keys': sorted(s.state_dict().keys())}`);
    expect(ours.length).toBe(ref.lrs.length);
    ours.forEach((lr, i) => expect(lr, `epoch ${i}`).toBe(ref.lrs[i])); // the same doubles, cos and pow as Python's libm
    expect(Object.keys(sched.stateDict()).sort()).toEqual(ref.keys);
  });

  it('bad scheduler options are clear errors', () => {
    const opt = new optim.SGD(model().parameters(), { lr: 0.1 });
    expect(() => new optim.lrScheduler.LinearLR(opt, { startFactor: 0 })).toThrow(/startFactor must be in \(0, 1\]/);
    expect(() => new optim.lrScheduler.LambdaLR(opt, { lrLambda: [(e) => e, (e) => e] })).toThrow(/Expected 1 lrLambdas, but got 2/);
    expect(() => new optim.lrScheduler.LambdaLR(opt, { lrLambda: 0.5 as never })).toThrow(/lrLambda must be a function/);
    expect(() => new optim.lrScheduler.ExponentialLR(opt, { gamma: 'x' as never })).toThrow(TypeError);
    // A misspelt or snake_case option is an error, as Python's unexpected keyword argument, not silently unused.
    expect(() => new optim.lrScheduler.LinearLR(opt, { start_factor: 0.1, total_iters: 2 } as never)).toThrow(
      /LinearLR: unknown options 'start_factor' \(torchnode's name is 'startFactor'\), 'total_iters'/,
    );
    expect(() => new optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 2, eta_min: 0.05 } as never)).toThrow(/'eta_min'.*'etaMin'/);
    expect(() => new optim.lrScheduler.StepLR(opt, { stepSize: 2, gama: 0.5 } as never)).toThrow(/StepLR: unknown option 'gama'/);
    // Python's positional form: StepLR(optimizer, step_size, gamma)
    expect(new optim.lrScheduler.StepLR(opt, 5).stepSize).toBe(5);
    expect(() => new optim.lrScheduler.StepLR(opt)).toThrow(/stepSize must be an integer/);
  });

  it('state dict round trip resumes the sequence', () => {
    const opt = new optim.SGD(model().parameters(), { lr: 0.1 });
    const s = new optim.lrScheduler.StepLR(opt, { stepSize: 3, gamma: 0.5 });
    for (let i = 0; i < 4; i++) s.step();
    const sd = s.stateDict();
    const opt2 = new optim.SGD(model().parameters(), { lr: 0.1 });
    opt2.loadStateDict(opt.stateDict());
    const s2 = new optim.lrScheduler.StepLR(opt2, { stepSize: 99 });
    s2.loadStateDict(sd);
    for (let i = 0; i < 5; i++) {
      s.step();
      s2.step();
      expect(s2.getLastLr()).toEqual(s.getLastLr());
    }
  });
});
