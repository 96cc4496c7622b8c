// PyTorch's own way of writing a model: optional constructor arguments by position, in Python's order,
// then an options object for the rest (both forms, mixed as Python allows). Checked against Python's
// repr of the same constructors, and each positional form against its keyword form.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { referencePython } from './helpers/python';

const { nn, optim } = torch;

// [torchnode, the same in Python]
const LAYERS: [() => torch.nn.Module, string][] = [
  [() => new nn.Conv2d(3, 64, 3, 1, 1), 'nn.Conv2d(3, 64, 3, 1, 1)'],
  [() => new nn.Conv2d(3, 8, 3, 2, 1, 1, 1, false), 'nn.Conv2d(3, 8, 3, 2, 1, 1, 1, False)'],
  [() => new nn.Conv2d(4, 8, 3, 1, { padding: 2, groups: 2 }), 'nn.Conv2d(4, 8, 3, 1, padding=2, groups=2)'],
  [() => new nn.MaxPool2d(2, 2), 'nn.MaxPool2d(2, 2)'],
  [() => new nn.MaxPool2d(3, null, 1), 'nn.MaxPool2d(3, None, 1)'],
  [() => new nn.AvgPool2d(2, 1, 0, true), 'nn.AvgPool2d(2, 1, 0, True)'],
  [() => new nn.Linear(4, 2, false), 'nn.Linear(4, 2, False)'],
  [() => new nn.BatchNorm2d(16, 1e-3, 0.01), 'nn.BatchNorm2d(16, 1e-3, 0.01)'],
  [() => new nn.Dropout(0.25, true), 'nn.Dropout(0.25, True)'],
  [() => new nn.ReLU(true), 'nn.ReLU(True)'],
];

describe("constructors take Python's positional arguments", () => {
  it('print as Python prints the same constructor calls', () => {
    const py = referencePython();
    const code = `import torch\nfrom torch import nn\nfor m in [${LAYERS.map(([, p]) => p).join(', ')}]: print(repr(m))`;
    const r = spawnSync(py.command, ['-c', code], { env: py.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = r.stdout.trim().split('\n');
    expect(LAYERS.map(([make]) => String(make()))).toEqual(theirs);
  });

  it('a positional argument and its keyword are the same, and both at once is refused', () => {
    expect(String(new nn.Conv2d(3, 8, 3, 2, 1))).toBe(String(new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 })));
    expect(() => new nn.Conv2d(3, 8, 3, 2, { stride: 2 })).toThrow(/Conv2d: got multiple values for argument 'stride'/);
    // Linear(in, out, bias, device, dtype): Python's positional parameters, no more
    expect(() => new nn.Linear(4, 2, false, 'cpu', 'float32', 1 as never)).toThrow(/Linear: takes at most 3 optional positional arguments/);
    expect(() => new nn.Conv2d(3, 8, 3, { strides: 2 } as never)).toThrow(/unknown option 'strides'/);
    const [pooled, indices] = new nn.MaxPool2d(2, 2, 0, 1, true)(
      torch.arange(16, { dtype: 'float32' }).reshape([1, 1, 4, 4]),
    ) as unknown as torch.Tensor[];
    expect(pooled.flatten().toArray()).toEqual([5, 7, 13, 15]);
    expect(indices.flatten().toArray()).toEqual([5, 7, 13, 15]);
  });

  it('nn.functional too: F.conv2d(x, w, b, stride, padding), F.maxPool2d(x, 3, 2, 1), F.avgPool2d(x, 2, 1)', () => {
    const F = nn.functional;
    torch.manualSeed(0);
    const x = torch.randn(1, 3, 8, 8),
      w = torch.randn(4, 3, 3, 3),
      b = torch.randn(4);
    expect(F.conv2d(x, w, b, 2, 1).toArray()).toEqual(F.conv2d(x, w, { bias: b, stride: 2, padding: 1 }).toArray());
    expect(F.conv2d(x, w, null, 1, 'same').shape).toEqual([1, 4, 8, 8]);
    expect(F.maxPool2d(x, 3, 2, 1).toArray()).toEqual(F.maxPool2d(x, 3, { stride: 2, padding: 1 }).toArray());
    expect(F.avgPool2d(x, 2, 1).toArray()).toEqual(F.avgPool2d(x, 2, { stride: 1 }).toArray());
    expect(() => F.conv2d(x, w, b, 2, { bias: b })).toThrow(/conv2d: got multiple values for argument 'bias'/);
  });

  it('optimizers and schedulers: SGD(params, lr, momentum), StepLR(opt, stepSize, gamma) step as their keyword forms', () => {
    const run = (make: (p: torch.Tensor[]) => [torch.optim.Optimizer<{ lr: number }>, torch.optim.lrScheduler.LRScheduler]) => {
      torch.manualSeed(0);
      const w = torch.randn([3], { requiresGrad: true });
      const [opt, sched] = make([w]);
      const lrs: number[] = [];
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        w.mul(w).sum().backward();
        opt.step();
        sched.step();
        lrs.push(opt.paramGroups[0].lr);
      }
      return { w: w.toArray(), lrs };
    };
    const positional = run((p) => {
      const opt = new optim.SGD(p, 0.1, 0.9);
      return [opt, new optim.lrScheduler.StepLR(opt, 2, 0.5)];
    });
    const keywords = run((p) => {
      const opt = new optim.SGD(p, { lr: 0.1, momentum: 0.9 });
      return [opt, new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 })];
    });
    expect(positional).toEqual(keywords);
    expect(positional.lrs).toEqual([0.1, 0.05, 0.05, 0.025, 0.025]);
    const adam = new optim.AdamW([torch.zeros([1], { requiresGrad: true })], 0.01, [0.8, 0.9]);
    expect([adam.paramGroups[0].lr, adam.paramGroups[0].betas, adam.paramGroups[0].weightDecay]).toEqual([0.01, [0.8, 0.9], 0.01]);
    expect(() => new optim.SGD([torch.zeros([1], { requiresGrad: true })], 0.1, { lr: 0.2 })).toThrow(/multiple values for argument 'lr'/);
  });
});

describe('one strict options rule', () => {
  // Each misspelt or snake_case option is a TypeError naming it and the right spelling, before any file is touched.
  it.each([
    ['torch.randn(2, {dtyp})', () => torch.randn(2, { dtyp: 'float64' } as never), /unknown option 'dtyp' \(did you mean 'dtype'\?\)/],
    [
      'torch.zeros([2], {requires_grad})',
      () => torch.zeros([2], { requires_grad: true } as never),
      /'requires_grad' \(torchnode's name is 'requiresGrad'\)/,
    ],
    ['x.sum(1, {keepDim})', () => torch.ones(2, 2).sum(1, { keepDim: true } as never), /'keepDim' \(did you mean 'keepdim'\?\)/],
    ['x.to({dtpye})', () => torch.ones(2).to({ dtpye: 'float64' } as never), /'dtpye' \(did you mean 'dtype'\?\)/],
    [
      'models.seResNet18({num_classes})',
      () => torch.models.seResNet18({ num_classes: 10 } as never),
      /'num_classes' \(torchnode's name is 'numClasses'\)/,
    ],
    [
      'new CIFAR10({transfrom})',
      () => new torch.data.CIFAR10({ root: '/nonexistent', transfrom: null } as never),
      /'transfrom' \(did you mean 'transform'\?\)/,
    ],
    ['MNIST.fromPackage({trian})', () => torch.data.MNIST.fromPackage({ trian: true } as never), /'trian' \(did you mean 'train'\?\)/],
    ['torch.save(x, f, {pickle_protocol})', () => torch.save(torch.ones(1), '/nonexistent/x.pt', { pickle_protocol: 2 } as never), /pickle_protocol/],
    ['jit.load(f, {map_location})', () => torch.jit.load('/nonexistent.pt', { map_location: 'cpu' } as never), /unknown option 'map_location'/],
    [
      'new nn.LSTM(4, 8, {batch_first})',
      () => new torch.nn.LSTM(4, 8, { batch_first: true } as never),
      /'batch_first' \(torchnode's name is 'batchFirst'\)/,
    ],
    [
      'new optim.NAdam(params, {momentumDecy})',
      () => new torch.optim.NAdam([new torch.nn.Parameter(torch.zeros(1))], { momentumDecy: 0 } as never),
      /'momentumDecy' \(did you mean 'momentumDecay'\?\)/,
    ],
  ] as [string, () => unknown, RegExp][])('%s', (_name, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});
