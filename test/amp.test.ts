// Mixed precision against Python: torch.autocast (CPU, bfloat16) gives the same dtypes and values, and
// GradScaler gives PyTorch's scale sequence and parameters, including a step whose gradients overflow.
// The same on CUDA with float16 runs on the GPU machine (skipped elsewhere, saying why).
import { describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch, expectClose } from './helpers/pytorch';

const { nn, optim } = torch;
const py = usePyTorch();

torch.manualSeed(3);
const X = torch.randn(8, 6);
const W = torch.randn(4, 6);
const B = torch.randn(4);
const Y = torch.randint(0, 4, [8]);

describe('torch.autocast', () => {
  it('CPU bfloat16: ops run in the dtypes PyTorch’s autocast picks, with its values', async () => {
    const lin = new nn.Linear(6, 4);
    torch.noGrad(() => {
      lin.weight.copy_(W);
      lin.bias!.copy_(B);
    });
    const [out, sm] = torch.autocast({ deviceType: 'cpu', dtype: 'bfloat16' }, () => {
      const o = lin(X);
      return [o, o.logSoftmax(1)];
    });
    expect(out.dtype).toBe('bfloat16');
    const ref = await py.run<torch.Tensor[]>(
      `lin = torch.nn.Linear(6, 4)
with torch.no_grad(): lin.weight.copy_(W); lin.bias.copy_(B)
with torch.autocast('cpu', dtype=torch.bfloat16):
    o = lin(X); s = o.log_softmax(1)
out = [o.float(), s.float(), str(o.dtype), str(s.dtype)]`,
      { X, W, B },
    );
    expect(`torch.${out.dtype}`).toBe(ref[2]);
    expect(`torch.${sm.dtype}`).toBe(ref[3]);
    expectClose(out.float(), ref[0], { rtol: 0, atol: 0 });
    expectClose(sm.float(), ref[1], { rtol: 0, atol: 0 });
  });

  it('restores the previous state, nests, and refuses async functions and bad options', () => {
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    torch.autocast({ deviceType: 'cpu' }, () => {
      expect(torch.isAutocastEnabled('cpu')).toBe(true);
      torch.autocast({ deviceType: 'cpu', enabled: false }, () => expect(torch.isAutocastEnabled('cpu')).toBe(false));
      expect(torch.isAutocastEnabled('cpu')).toBe(true);
    });
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    expect(() =>
      torch.autocast({ deviceType: 'cpu' }, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    expect(() => torch.autocast({ deviceType: 'cpu' }, (async () => 1) as never)).toThrow(/synchronous/);
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    expect(() => torch.autocast({ deviceType: 'tpu' as never }, () => 1)).toThrow(/deviceType/);
    expect(() => torch.autocast({ deviceType: 'cpu', dtype: 'float64' }, () => 1)).toThrow(/float16' or 'bfloat16/);
  });
});

// Six SGD steps through a GradScaler (initial scale 1024, growth every 2 steps); step 3's loss is
// multiplied by inf: its gradients overflow, the step is skipped, the scale backs off.
function scaledSteps(lin: torch.nn.Linear, device: 'cpu' | 'cuda', lossOf: () => torch.Tensor) {
  const opt = new optim.SGD(lin.parameters(), { lr: 0.1, momentum: 0.9 });
  const scaler = new torch.amp.GradScaler({ device, initScale: 1024, growthInterval: 2 });
  const scales: number[] = [];
  for (let step = 0; step < 6; step++) {
    torch.scope(() => {
      opt.zeroGrad();
      scaler.scale(lossOf().mul(step === 3 ? Infinity : 1)).backward();
      scaler.step(opt);
      scaler.update();
    });
    scales.push(scaler.getScale());
  }
  return { scales, scaler };
}

describe('GradScaler', () => {
  it('scale sequence and parameters equal torch.amp.GradScaler’s, with an overflowing step skipped', async () => {
    const lin = new nn.Linear(6, 4);
    torch.noGrad(() => {
      lin.weight.copy_(W);
      lin.bias!.copy_(B);
    });
    const { scales, scaler } = scaledSteps(lin, 'cpu', () => torch.nn.functional.crossEntropy(lin(X), Y));
    const ref = await py.run<{ scales: number[]; w: torch.Tensor; b: torch.Tensor; sd: Record<string, number> }>(
      `lin = torch.nn.Linear(6, 4)
with torch.no_grad(): lin.weight.copy_(W); lin.bias.copy_(B)
opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler('cpu', init_scale=1024, growth_interval=2)
scales = []
for step in range(6):
    opt.zero_grad()
    loss = F.cross_entropy(lin(X), Y) * (float('inf') if step == 3 else 1)
    scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
    scales.append(scaler.get_scale())
out = {'scales': scales, 'w': lin.weight, 'b': lin.bias, 'sd': scaler.state_dict()}`,
      { X, W, B, Y },
    );
    expect(scales).toEqual(ref.scales);
    expectClose(lin.weight.detach(), ref.w, { rtol: 1e-6, atol: 1e-7 });
    expectClose(lin.bias!.detach(), ref.b, { rtol: 1e-6, atol: 1e-7 });
    expect(scaler.stateDict()).toEqual(ref.sd);
  });

  it('misuse is PyTorch’s error', () => {
    const lin = new nn.Linear(6, 4);
    const opt = new optim.SGD(lin.parameters(), { lr: 0.1 });
    const scaler = new torch.amp.GradScaler({ device: 'cpu' });
    torch.scope(() => scaler.scale(lin(X).sum()).backward());
    scaler.unscale_(opt);
    expect(() => scaler.unscale_(opt)).toThrow(/already been called/);
    scaler.step(opt);
    expect(() => scaler.step(opt)).toThrow(/already been called/);
    scaler.update();
    expect(() => new torch.amp.GradScaler({ growthFactor: 0.5 })).toThrow(/growthFactor/);
  });
});

const hasCuda = torch.cuda.isAvailable();
if (!hasCuda) console.log('test/amp: CUDA cases skipped: CUDA is not available on this machine (they run on the GPU machine)');

describe.skipIf(!hasCuda)('on CUDA, float16 (the GPU machine)', () => {
  it('autocast picks PyTorch’s dtypes, and GradScaler gives its scale sequence and parameters', async () => {
    const lin = new nn.Linear(6, 4).to('cuda');
    torch.noGrad(() => {
      lin.weight.copy_(W);
      lin.bias!.copy_(B);
    });
    const [x, y] = [X.cuda(), Y.cuda()];
    const [out, sm] = torch.autocast({ deviceType: 'cuda', dtype: 'float16' }, () => {
      const o = lin(x);
      return [o, o.logSoftmax(1)];
    });
    const { scales } = scaledSteps(lin, 'cuda', () =>
      torch.autocast({ deviceType: 'cuda', dtype: 'float16' }, () => torch.nn.functional.crossEntropy(lin(x), y)),
    );
    const ref = await py.run<{ o: torch.Tensor; s: torch.Tensor; dtypes: string[]; scales: number[]; w: torch.Tensor }>(
      `lin = torch.nn.Linear(6, 4).cuda()
with torch.no_grad(): lin.weight.copy_(W); lin.bias.copy_(B)
x, y = X.cuda(), Y.cuda()
with torch.autocast('cuda', dtype=torch.float16):
    o = lin(x); s = o.log_softmax(1)
opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler('cuda', init_scale=1024, growth_interval=2)
scales = []
for step in range(6):
    opt.zero_grad()
    with torch.autocast('cuda', dtype=torch.float16):
        loss = F.cross_entropy(lin(x), y)
    scaler.scale(loss * (float('inf') if step == 3 else 1)).backward(); scaler.step(opt); scaler.update()
    scales.append(scaler.get_scale())
out = {'o': o.float().cpu(), 's': s.float().cpu(), 'dtypes': [str(o.dtype), str(s.dtype)], 'scales': scales, 'w': lin.weight.detach().cpu()}`,
      { X, W, B, Y },
    );
    expect([`torch.${out.dtype}`, `torch.${sm.dtype}`]).toEqual(ref.dtypes);
    expectClose(out.float().cpu(), ref.o, { rtol: 1e-3, atol: 1e-3 });
    expectClose(sm.float().cpu(), ref.s, { rtol: 1e-3, atol: 1e-3 });
    expect(scales).toEqual(ref.scales);
    expectClose(lin.weight.detach().cpu(), ref.w, { rtol: 1e-4, atol: 1e-5 });
  });
});

describe('Trainer with amp', () => {
  it('trains under CPU bfloat16 autocast and the loss goes down', async () => {
    torch.manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4));
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const trainer = new torch.train.Trainer({ model, optimizer, device: 'cpu', amp: true, progress: false, handleSigint: false });
    expect(trainer.scaler).toBeNull(); // bfloat16 needs no loss scaling
    const data = {
      length: 1,
      *[Symbol.iterator]() {
        yield [X.clone(), Y.clone()] as [torch.Tensor, torch.Tensor];
      },
    };
    const history = await trainer.fit(data, { epochs: 30 });
    expect(history[29].trainLoss).toBeLessThan(history[0].trainLoss * 0.5);
    expect(() => new torch.train.Trainer({ model, optimizer, amp: 'float8' as never })).toThrow(/amp must be/);
  });
});
