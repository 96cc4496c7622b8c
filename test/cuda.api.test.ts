// torch.cuda and torch.backends as a CPU-only machine sees them (what CI checks): PyTorch's answers
// without CUDA (false, 0, no-op seeds and statistics), a TorchError naming the call for what needs a
// device, TypeErrors for malformed devices; and the backend switches against Python's defaults.
// The GPU side is test/cuda/, run on the GPU machine.
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '../lib/index';
import { usePyTorch } from './helpers/pytorch';

const { cuda, backends } = torch;
const py = usePyTorch();
const hasCuda = cuda.isAvailable();

describe.skipIf(hasCuda)('torch.cuda without CUDA (this machine has none)', () => {
  it('answers as PyTorch does: unavailable, no devices, seeds and statistics are no-ops', async () => {
    expect(cuda.isAvailable()).toBe(false);
    expect(cuda.deviceCount()).toBe(0);
    // cuDNN is a property of the build, not of a device: a CUDA LibTorch without a GPU has it
    const ref = await py.run<boolean>('out = torch.backends.cudnn.is_available()');
    expect(cuda.cudnnIsAvailable()).toBe(ref);
    expect(ref).toBe(torch.buildInfo.cuda);
    cuda.manualSeed(3);
    cuda.manualSeedAll(3);
    cuda.emptyCache();
    expect([cuda.memoryAllocated(), cuda.maxMemoryAllocated(), cuda.memoryReserved(), cuda.maxMemoryReserved()]).toEqual([0, 0, 0, 0]);
  });

  it('what needs a device is a TorchError naming the call', () => {
    const calls: [string, () => unknown][] = [
      ['synchronize', () => cuda.synchronize()],
      ['resetPeakMemoryStats', () => cuda.resetPeakMemoryStats()],
      ['memGetInfo', () => cuda.memGetInfo()],
      ['currentStream', () => cuda.currentStream()],
      ['Stream', () => new cuda.Stream()],
      ['Event', () => new cuda.Event({ enableTiming: true })],
      ['getDeviceName', () => cuda.getDeviceName()],
      ['getDeviceCapability', () => cuda.getDeviceCapability(0)],
      ['CUDAGraph', () => new cuda.CUDAGraph()],
      ['getRngState', () => cuda.getRngState()],
      ['setRngState', () => cuda.setRngState(torch.zeros([16], { dtype: 'uint8' }))],
    ];
    for (const [name, call] of calls) {
      expect(call, name).toThrow(torch.TorchError);
      expect(call, name).toThrow(new RegExp(`torch\\.cuda\\.${name}: CUDA is not available`));
    }
  });
});

describe('torch.version and the CUDA backend', () => {
  it("torch.version, torch.version.cuda and cudnn.version() equal Python's", async () => {
    const ref = await py.run<[string, string | null, number | null]>('out = [torch.__version__, torch.version.cuda, torch.backends.cudnn.version()]');
    expect([torch.version.torch, torch.version.cuda, backends.cudnn.version()]).toEqual(ref);
  });

  // The answers above come from the hooks libtorch_cuda registers when it loads: a CUDA build that
  // had dropped it (an as-needed link) would answer null.
  it('a CUDA build really links libtorch_cuda; a CPU build does not', () => {
    expect(torch.version.cuda !== null).toBe(torch.buildInfo.cuda);
    if (process.platform === 'linux') {
      const maps = fs.readFileSync('/proc/self/maps', 'utf8');
      expect(/libtorch_cuda\.so/.test(maps)).toBe(torch.buildInfo.cuda);
    }
  });
});

describe('arguments are checked before anything else', () => {
  it('malformed devices, seeds and options are TypeErrors naming them', () => {
    for (const d of [-1, 1.5, 'cpu', 'cuda:x', {}, true]) {
      expect(() => cuda.memoryAllocated(d as never), String(d)).toThrow(/device must be an index, 'cuda' or 'cuda:N'/);
      expect(() => cuda.synchronize(d as never), String(d)).toThrow(TypeError);
    }
    for (const s of [-1, 1.5, NaN, '1']) expect(() => cuda.manualSeed(s as never), String(s)).toThrow(/seed must be a non-negative integer/);
    expect(() => new cuda.Event({ enableTiming: 'yes' as never })).toThrow(/enableTiming must be a boolean/);
    expect(() => cuda.stream({} as never, () => 1)).toThrow(/must be a torch.cuda.Stream/);
  });
});

describe('torch.backends', () => {
  const saved = {
    ...{ b: backends.cudnn.benchmark, d: backends.cudnn.deterministic, c: backends.cudnn.allowTF32, m: backends.cuda.matmul.allowTF32 },
  };
  afterAll(() => {
    backends.cudnn.benchmark = saved.b;
    backends.cudnn.deterministic = saved.d;
    backends.cudnn.allowTF32 = saved.c;
    backends.cuda.matmul.allowTF32 = saved.m;
  });

  it("start at PyTorch's defaults", async () => {
    const ref = await py.run<boolean[]>(
      'out = [torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32]',
    );
    expect([backends.cudnn.benchmark, backends.cudnn.deterministic, backends.cudnn.allowTF32, backends.cuda.matmul.allowTF32]).toEqual(ref);
    expect(backends.cudnn.isAvailable()).toBe(cuda.cudnnIsAvailable());
  });

  it('set and read back; a non-boolean is a TypeError naming the switch', () => {
    for (const v of [true, false]) {
      backends.cudnn.benchmark = v;
      backends.cudnn.deterministic = v;
      backends.cudnn.allowTF32 = v;
      backends.cuda.matmul.allowTF32 = v;
      expect([backends.cudnn.benchmark, backends.cudnn.deterministic, backends.cudnn.allowTF32, backends.cuda.matmul.allowTF32]).toEqual([
        v,
        v,
        v,
        v,
      ]);
    }
    expect(() => {
      backends.cudnn.benchmark = 1 as never;
    }).toThrow(/torch.backends.cudnn.benchmark must be a boolean/);
  });
});

describe('whole-step CUDA graphs in the Trainer', () => {
  it('a step that cannot be captured is refused when the Trainer is made, saying why', () => {
    const model = new torch.nn.Linear(2, 2);
    const make = (opts: Partial<torch.train.TrainerOptions>) => () =>
      new torch.train.Trainer({ model, optimizer: new torch.optim.SGD(model.parameters(), { lr: 0.1 }), cudaGraph: true, device: 'cuda', ...opts });
    if (!hasCuda) expect(make({ device: 'cpu' })).toThrow(/cannot be captured in a CUDA graph: the device is cpu, not CUDA/);
    expect(make({ optimizer: new torch.optim.Adam(model.parameters()) })).toThrow(/Adam is captured only with capturable: true/);
    expect(make({ optimizer: new torch.optim.Adam([{ params: [model.weight], capturable: true }, { params: [model.bias!] }]) })).toThrow(
      /capturable: true/,
    );
    expect(make({ accumulate: 2 })).toThrow(/gradient accumulation/);
  });

  it('SGD reading lr from a device tensor takes the same steps and follows lr changes', () => {
    const params = () => {
      torch.manualSeed(9);
      return new torch.nn.Linear(6, 3).parameters();
    };
    const [pa, pb] = [params(), params()];
    const a = new torch.optim.SGD(pa, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const b = new torch.optim.SGD(pb, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    b.lrOnDevice(true);
    for (let i = 0; i < 4; i++) {
      if (i === 2) for (const o of [a, b]) o.paramGroups[0].lr = 0.02;
      b.lrOnDevice(true);
      for (const ps of [pa, pb]) ps.forEach((p, j) => (p.grad = torch.full(p.shape, 0.05 * (i + 1) * (j + 1))));
      a.step();
      b.step();
    }
    pa.forEach((p, i) => expect(p.sub(pb[i]).abs().max().item()).toBeLessThanOrEqual(1e-6));
    b.lrOnDevice(false);
  });
});

if (hasCuda) console.log('torch.cuda without CUDA: skipped, this machine has CUDA (test/cuda/ covers it)');
