// CUDA on the GPU machine (issue 6's proof): results equal the CPU path within tolerance for every op
// family and for an SE-ResNet-18 training step; torch.cuda's devices, streams, events and allocator
// statistics are in memory.test.ts, alone in their process); AMP lowers the loss; CUDA graphs replay
// the eager steps. Elsewhere every test here is skipped, and the reason is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../../lib/index';
import { relError } from '../helpers/pytorch';

const { cuda, nn, optim, models } = torch;
const F = nn.functional;
const hasCuda = cuda.isAvailable();
if (!hasCuda) console.log('test/cuda: skipped: CUDA is not available on this machine (these tests run on the GPU machine)');

// Comparisons with the CPU are in float32: cuDNN's TF32 convolutions (PyTorch's default, as ours) round
// inputs to 10 mantissa bits, errors of about 1e-3. Off for this file, as PyTorch's own tests do.
let tf32 = false;
beforeAll(() => {
  tf32 = torch.backends.cudnn.allowTF32;
  torch.backends.cudnn.allowTF32 = false;
});
afterAll(() => {
  torch.backends.cudnn.allowTF32 = tf32;
});

// Runs fn on CPU tensors and on their CUDA copies; the results must agree.
function sameOnCuda(name: string, inputs: torch.Tensor[], fn: (...xs: torch.Tensor[]) => torch.Tensor, tol = 1e-5): void {
  torch.scope(() => {
    const cpu = fn(...inputs);
    const gpu = fn(...inputs.map((t) => t.cuda()));
    expect(gpu.device, name).toBe('cuda:0');
    expect(gpu.shape, name).toEqual(cpu.shape);
    expect(gpu.dtype, name).toBe(cpu.dtype);
    const err = cpu.isFloatingPoint() ? relError(gpu.cpu(), cpu) : gpu.cpu().equal(cpu) ? 0 : 1;
    expect(err, name).toBeLessThanOrEqual(tol);
  });
}

describe.skipIf(!hasCuda)('CUDA equals the CPU path', () => {
  torch.manualSeed(0);
  const a = torch.randn([4, 5]);
  const b = torch.randn([4, 5]);
  const pos = torch.rand([4, 5]).add(0.1);
  const img = torch.randn([2, 3, 8, 8]);

  it('pointwise, comparison and logical ops', () => {
    for (const op of ['neg', 'abs', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'floor', 'round', 'sign'] as const) {
      sameOnCuda(op, [a], (x) => (x[op] as () => torch.Tensor)());
    }
    for (const op of ['log', 'sqrt', 'rsqrt'] as const) sameOnCuda(op, [pos], (x) => (x[op] as () => torch.Tensor)());
    for (const op of ['add', 'sub', 'mul', 'div', 'eq', 'lt', 'ge', 'maximum'] as const) {
      sameOnCuda(op, [a, b], (x, y) => (x[op] as (o: torch.Tensor) => torch.Tensor)(y));
    }
    sameOnCuda('pow', [pos, b], (x, y) => x.pow(y), 1e-4);
    sameOnCuda('clamp', [a], (x) => x.clamp(-0.5, 0.5));
    sameOnCuda('where', [a, b], (x, y) => torch.where(x.gt(0), x, y));
  });

  it('reductions, softmax, sort/topk, matmul family', () => {
    sameOnCuda('sum', [a], (x) => x.sum(1));
    sameOnCuda('mean', [a], (x) => x.mean());
    sameOnCuda('var', [a], (x) => x.var(0));
    sameOnCuda('max', [a], (x) => x.max(1).values);
    sameOnCuda('argmax', [a], (x) => x.argmax(1));
    sameOnCuda('norm', [a], (x) => x.norm());
    sameOnCuda('softmax', [a], (x) => x.softmax(1));
    sameOnCuda('logSoftmax', [a], (x) => x.logSoftmax(1));
    sameOnCuda('sort', [a], (x) => x.sort(1).values);
    sameOnCuda('topk', [a], (x) => x.topk(2, { dim: 1 }).values);
    sameOnCuda('matmul', [a, b], (x, y) => x.matmul(y.t()), 1e-4);
    sameOnCuda('bmm', [img], (x) => x.flatten(2).bmm(x.flatten(2).transpose(1, 2)), 1e-4);
  });

  it('shape and indexing ops', () => {
    sameOnCuda('cat', [a, b], (x, y) => torch.cat([x, y], 1));
    sameOnCuda('index', [a], (x) => x.index(null, { start: 1, stop: 4 }));
    sameOnCuda('gather', [a], (x) => x.gather(1, torch.tensor([[0], [1], [2], [3]], { device: x.device })));
    sameOnCuda('maskedFill', [a], (x) => x.maskedFill(x.lt(0), 0));
    sameOnCuda('permute', [img], (x) => x.permute(0, 2, 3, 1).contiguous());
  });

  it('nn functional: conv, batch norm, pooling, linear, losses (cuDNN within 1e-4)', () => {
    const w = torch.randn([4, 3, 3, 3]);
    sameOnCuda('conv2d', [img, w], (x, k) => F.conv2d(x, k, { padding: 1 }), 1e-4);
    sameOnCuda('batchNorm', [img], (x) => F.batchNorm(x, null, null, { training: true }), 1e-4);
    sameOnCuda('maxPool2d', [img], (x) => F.maxPool2d(x, 2));
    sameOnCuda('adaptiveAvgPool2d', [img], (x) => F.adaptiveAvgPool2d(x, 1));
    sameOnCuda('linear', [a, torch.randn([3, 5])], (x, lw) => F.linear(x, lw), 1e-4);
    sameOnCuda('crossEntropy', [a, torch.tensor([0, 1, 2, 3])], (x, t) => F.crossEntropy(x, t), 1e-5);
  });

  it('gradients: the same backward on both devices', () => {
    const x = torch.randn([3, 4], { requiresGrad: true });
    const xg = x.detach().cuda().requiresGrad_();
    x.tanh().mul(x).sum().backward();
    xg.tanh().mul(xg).sum().backward();
    expect(relError(xg.grad!.cpu(), x.grad!)).toBeLessThanOrEqual(1e-5);
  });

  it('a seResNet18 training step: loss, gradients and updated weights match the CPU step', () => {
    const step = (device: string) => {
      torch.manualSeed(0);
      const model = models.seResNet18({ numClasses: 10, width: 16, stem: 'cifar' }).to(device);
      const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      torch.manualSeed(1);
      const x = torch.randn([8, 3, 32, 32]).to(device);
      const y = torch.randint(0, 10, [8]).to(device);
      const loss = F.crossEntropy(model(x), y);
      loss.backward();
      opt.step();
      return { loss: loss.item() as number, weights: model.stateDict() };
    };
    const cpu = step('cpu');
    const gpu = step('cuda');
    expect(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-4);
    for (const [k, v] of Object.entries(cpu.weights)) {
      if (!v.isFloatingPoint()) continue;
      expect(relError(gpu.weights[k].cpu(), v), k).toBeLessThanOrEqual(1e-3);
    }
  });

  it('optimizers: the CUDA default (foreach), fused and capturable steps equal the CPU single-tensor step', () => {
    const kinds: [string, (ps: torch.nn.Parameter[], kernel: 'default' | 'single') => torch.optim.Optimizer<{ lr: number }>][] = [
      ['SGD foreach', (ps, k) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, foreach: k === 'single' ? false : null })],
      [
        'SGD fused',
        (ps, k) =>
          new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, foreach: k === 'single' ? false : null, fused: k === 'single' ? null : true }),
      ],
      ['Adam foreach', (ps, k) => new optim.Adam(ps, { lr: 0.01, weightDecay: 1e-2, foreach: k === 'single' ? false : null })],
      [
        'AdamW fused',
        (ps, k) =>
          new optim.Adam(ps, {
            lr: 0.01,
            weightDecay: 0.1,
            decoupledWeightDecay: true,
            amsgrad: true,
            foreach: k === 'single' ? false : null,
            fused: k === 'single' ? null : true,
          }),
      ],
      ['Adam capturable', (ps, k) => new optim.Adam(ps, { lr: 0.01, capturable: k !== 'single', foreach: k === 'single' ? false : null })],
    ];
    for (const [name, make] of kinds) {
      const run = (device: string) =>
        torch.scope(() => {
          torch.manualSeed(0);
          const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3)).to(device);
          const opt = make(model.parameters(), device === 'cpu' ? 'single' : 'default');
          torch.manualSeed(1);
          const x = torch.randn([32, 6]).to(device);
          const y = torch.randn([32, 3]).to(device);
          for (let i = 0; i < 20; i++) {
            torch.scope(() => {
              opt.zeroGrad();
              model(x).sub(y).pow(2).mean().backward();
              opt.step();
            });
          }
          return model.parameters().map((p) => p.detach().cpu());
        });
      const cpu = run('cpu');
      const gpu = run('cuda');
      cpu.forEach((t, i) => expect(relError(gpu[i], t), `${name}: parameter ${i}`).toBeLessThanOrEqual(1e-4));
    }
  });

  it('tensors and modules move with to(); pinned memory and non-blocking copies', () => {
    const t = torch.randn([1000]).pinMemory();
    expect(t.isPinned()).toBe(true);
    const g = t.to('cuda', { nonBlocking: true });
    cuda.synchronize();
    expect(g.cpu().equal(t)).toBe(true);
    const m = new nn.Linear(3, 2).to('cuda');
    expect(m.weight.device).toBe('cuda:0');
  });

  it('DataParallel on one device: the module moved there, CPU inputs moved at each call; several devices refused', () => {
    torch.manualSeed(3);
    const cpu = new nn.Linear(4, 2);
    const x = torch.randn([5, 4]);
    const expected = cpu(x).detach();
    const dp = new nn.DataParallel(cpu, [0]);
    expect(dp.deviceIds).toEqual([0]);
    expect(cpu.weight.device).toBe('cuda:0');
    const y = dp(x);
    expect(y.device).toBe('cuda:0');
    expect(y.cpu().allclose(expected, 1e-5, 1e-6)).toBe(true);
    expect(Object.keys(dp.stateDict())).toEqual(['module.weight', 'module.bias']);
    expect(() => new nn.DataParallel(new nn.Linear(4, 2), [0, 0])).toThrow(
      /runs on one device; for several GPUs use nn.parallel.DistributedDataParallel/,
    );
    cpu.to('cpu');
    expect(() => dp(x)).toThrow('module must have its parameters and buffers on device cuda:0 (device_ids[0]) but found one of them on device: cpu');
  });
});

describe.skipIf(!hasCuda)('torch.cuda API', () => {
  it('devices, names, seeds', () =>
    torch.scope(() => {
      expect(cuda.deviceCount()).toBeGreaterThanOrEqual(1);
      expect(cuda.getDeviceName()).toMatch(/NVIDIA/);
      expect(cuda.getDeviceCapability()[0]).toBeGreaterThanOrEqual(7);
      cuda.manualSeed(5);
      const r1 = torch.randn([4], { device: 'cuda' }).cpu();
      cuda.manualSeed(5);
      expect(torch.randn([4], { device: 'cuda' }).cpu().equal(r1)).toBe(true);
      const state = cuda.getRngState();
      const r2 = torch.randn([4], { device: 'cuda' }).cpu();
      cuda.setRngState(state);
      expect(torch.randn([4], { device: 'cuda' }).cpu().equal(r2)).toBe(true);
    }));

  it('streams and events: work on a side stream, ordering with events, timing', () => {
    const s = new cuda.Stream();
    expect(s.deviceIndex).toBe(0);
    const start = new cuda.Event({ enableTiming: true });
    const end = new cuda.Event({ enableTiming: true });
    const x = torch.randn([512, 512], { device: 'cuda' }); // made on the current stream: s waits for it
    s.waitStream(cuda.currentStream());
    const y = cuda.stream(s, () => {
      start.record(s);
      let r = x;
      for (let i = 0; i < 20; i++) r = r.matmul(x).tanh();
      end.record(s);
      return r;
    });
    cuda.currentStream().waitStream(s);
    end.synchronize();
    expect(end.query()).toBe(true);
    expect(start.elapsedTime(end)).toBeGreaterThan(0);
    expect(Number.isFinite(y.sum().item() as number)).toBe(true);
    s.synchronize();
    expect(s.query()).toBe(true);
    expect(() => new cuda.Event().elapsedTime(end)).toThrow(/enableTiming/);
    // x.recordStream(s): the caching allocator keeps x's memory until the work queued on s so far is done
    const z = torch.randn([256], { device: 'cuda' });
    expect(z.recordStream(s)).toBeUndefined();
    cuda.stream(s, () => z.mul(2).sum().item());
  });

  it('cudnn.benchmark gives the same convolution results', () => {
    const x = torch.randn([4, 8, 16, 16], { device: 'cuda' });
    const w = torch.randn([8, 8, 3, 3], { device: 'cuda' });
    torch.backends.cudnn.benchmark = false;
    const a = F.conv2d(x, w, { padding: 1 });
    torch.backends.cudnn.benchmark = true;
    const b = F.conv2d(x, w, { padding: 1 });
    torch.backends.cudnn.benchmark = false;
    expect(relError(b.cpu(), a.cpu())).toBeLessThanOrEqual(1e-4);
  });
});

describe.skipIf(!hasCuda)('training on CUDA', () => {
  it('AMP (bfloat16 autocast; float16 with GradScaler) and channels_last lower the loss', async () => {
    for (const amp of ['bfloat16', 'float16'] as const) {
      torch.manualSeed(0);
      const model = models.seResNet18({ numClasses: 10, width: 16, stem: 'cifar' }).to({ device: 'cuda', memoryFormat: 'channels_last' });
      const trainer = new torch.train.Trainer({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
        amp,
        progress: false,
        handleSigint: false,
      });
      torch.manualSeed(1);
      const x = torch.randn([32, 3, 32, 32]);
      const y = torch.randint(0, 10, [32]);
      const batches = {
        length: 10,
        *[Symbol.iterator]() {
          for (let i = 0; i < 10; i++) yield [x.clone(), y.clone()] as [torch.Tensor, torch.Tensor];
        },
      };
      const history = await trainer.fit(batches, { epochs: 3 });
      expect(history[2].trainLoss, amp).toBeLessThan(history[0].trainLoss);
    }
  }, 120_000);
});

describe.skipIf(!hasCuda)('CUDA graphs', () => {
  it('torch.cuda.graph captures; replay recomputes from new static input; a failed capture leaves the allocator usable', () => {
    const lin = new nn.Linear(8, 4).to('cuda');
    const staticIn = torch.randn([16, 8], { device: 'cuda' });
    const side = new cuda.Stream();
    torch.noGrad(() => cuda.onStream(side, () => lin(staticIn).dispose())); // warm-up: cuBLAS's workspace for this stream
    const g = new cuda.CUDAGraph();
    const staticOut = torch.noGrad(() => cuda.graph(g, () => lin(staticIn), { stream: side }));
    const x = torch.randn([16, 8], { device: 'cuda' });
    staticIn.copy_(x);
    g.replay();
    expect(relError(staticOut.cpu(), torch.noGrad(() => lin(x)).cpu())).toBeLessThanOrEqual(1e-6);
    expect(() => cuda.graph(new cuda.CUDAGraph(), () => staticIn.sum().item(), { stream: side })).toThrow(/cannot be captured in a CUDA graph/);
    // The failed capture's memory pool is released and the allocator has left capture mode: emptyCache
    // (which asserts that no capture is under way) works, and a new capture on the same stream succeeds.
    cuda.emptyCache();
    const again = new cuda.CUDAGraph();
    const doubled = torch.noGrad(() => cuda.graph(again, () => staticIn.mul(2), { stream: side }));
    again.replay();
    expect(relError(doubled.cpu(), x.mul(2).cpu())).toBe(0);
  });

  const graphOptimizers: [string, (ps: torch.nn.Parameter[]) => torch.optim.Optimizer<{ lr: number }>, number][] = [
    ['SGD', (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }), 0.05],
    ['Adam (capturable)', (ps) => new optim.Adam(ps, { lr: 1e-3, weightDecay: 1e-4, capturable: true }), 1e-3],
  ];
  it.each(graphOptimizers)(
    "Trainer cudaGraph with %s: replayed steps give the eager steps' parameters; StepLR applies without re-capture; a partial batch runs eagerly",
    async (_name, makeOptimizer, lr) => {
      const run = async (cudaGraph: boolean) => {
        torch.manualSeed(0);
        const model = models.seResNet18({ numClasses: 10, width: 16, stem: 'cifar' }).to('cuda');
        const optimizer = makeOptimizer(model.parameters());
        const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
        const trainer = new torch.train.Trainer({ model, optimizer, scheduler, cudaGraph, offThread: false, progress: false, handleSigint: false });
        torch.manualSeed(1);
        const data = Array.from(
          { length: 6 },
          (_, i) => [torch.randn([i === 5 ? 7 : 32, 3, 32, 32]), torch.randint(0, 10, [i === 5 ? 7 : 32])] as [torch.Tensor, torch.Tensor],
        );
        const batches = {
          length: 6,
          *[Symbol.iterator]() {
            for (const [x, y] of data) yield [x.clone(), y.clone()] as [torch.Tensor, torch.Tensor];
          },
        };
        const history = await trainer.fit(batches, { epochs: 2 });
        return { weights: model.stateDict(), history };
      };
      const graphed = await run(true);
      const eager = await run(false);
      for (const [k, v] of Object.entries(eager.weights)) {
        if (!v.isFloatingPoint()) continue;
        expect(relError(graphed.weights[k].cpu(), v.cpu()), k).toBeLessThanOrEqual(1e-3);
      }
      expect(graphed.history.map((h) => h.lr)).toEqual([lr, lr / 2]);
    },
    120_000,
  );
});

describe.skipIf(!hasCuda)('TorchScript on CUDA', () => {
  it('a traced SE-ResNet saved on the CPU loads onto CUDA (jit.load {device}) and gives the CPU outputs; torch.load maps to CUDA', () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const os = require('node:os') as typeof import('node:os');
    const path = require('node:path') as typeof import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-cuda-jit-'));
    torch.manualSeed(0);
    const model = models.seResNet18({ numClasses: 10, width: 16, stem: 'cifar' }).eval();
    const x = torch.randn([4, 3, 32, 32]);
    torch.jit.save(model, path.join(dir, 'm.pt'), { exampleInputs: x });
    const m = torch.jit.load(path.join(dir, 'm.pt'), { device: 'cuda' });
    const y = m.forward(x.cuda()) as torch.Tensor;
    expect(y.device).toBe('cuda:0');
    expect(
      relError(
        y.cpu(),
        torch.noGrad(() => model(x)),
      ),
    ).toBeLessThanOrEqual(1e-4);
    torch.save(model.stateDict(), path.join(dir, 'sd.pt'));
    const sd = torch.load(path.join(dir, 'sd.pt'), { mapLocation: 'cuda' }) as Record<string, torch.Tensor>;
    expect(sd['fc.weight'].device).toBe('cuda:0');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
