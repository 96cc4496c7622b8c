// torch.distributed on LibTorch's c10d, with real processes on loopback (Gloo): collectives against the
// values they must produce, DistributedSampler against Python's, DistributedDataParallel training an
// SE-ResNet-18 on two ranks against one process on the same global batch, failing ranks (dead, hung,
// absent) that make the others fail with a clear error instead of hanging, and `torchnode train --nproc`.
// NCCL, which needs the GPU machine, is in test/cuda/nccl.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { freePort, startChild, REPO, type ChildResult } from './helpers/child';
import { usePyTorch, expectClose } from './helpers/pytorch';
import { referencePython } from './helpers/python';

const dist = torch.distributed;
const py = usePyTorch();
let dir: string;

// A rank's script: `rank`, `port` and `dir` are defined; `emit(obj)` reports a result; an error exits 1
// with its class and message on stderr. One intra-op thread per process, as torchrun sets it.
function rankScript(rank: number, port: number, body: string): string {
  return `torch.setNumThreads(1);
const rank = ${rank}, port = ${port}, dir = ${JSON.stringify(dir)};
const emit = (o) => console.log('RESULT ' + JSON.stringify(o));
(async () => {
${body}
})().then(() => process.exit(0), (e) => {
  console.error('ERROR ' + (e && e.constructor ? e.constructor.name : '?') + ': ' + (e && e.message));
  process.exit(1);
});`;
}

interface RankResult extends ChildResult {
  results: Record<string, unknown>[];
}

// Starts `worldSize` ranks of body on a fresh port; resolves when all have exited.
async function ranks(
  worldSize: number,
  body: string,
  opts: { timeoutMs?: number; onSpawn?: (rank: number, c: ChildProcess) => void } = {},
): Promise<RankResult[]> {
  const port = await freePort();
  const runs = Array.from({ length: worldSize }, (_, rank) =>
    startChild(rankScript(rank, port, body), { timeoutMs: opts.timeoutMs ?? 60_000, onSpawn: (c) => opts.onSpawn?.(rank, c) }),
  );
  const done = await Promise.all(runs);
  return done.map((r) => ({
    ...r,
    results: r.stdout
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>),
  }));
}

function expectOk(r: ChildResult): void {
  expect(r.signal, `killed (${r.signal}): it hung\n${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
}

// Everything that runs in child processes starts at once (each test awaits its own), so the file's
// wall time is the longest of them rather than their sum.
const jobs: Record<string, () => Promise<RankResult[]>> = {};
const started: Record<string, Promise<RankResult[]>> = {};
function job(name: string, run: () => Promise<RankResult[]>): () => Promise<RankResult[]> {
  jobs[name] = run;
  return () => (started[name] ??= run());
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-dist-'));
  for (const [name, run] of Object.entries(jobs)) started[name] ??= run();
});
afterAll(() => {
  if (dist.isInitialized()) dist.destroyProcessGroup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---- collectives ----

const collectives = job('collectives', () =>
  ranks(
    2,
    `
  const d = torch.distributed;
  await d.initProcessGroup({ backend: 'gloo', initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 30000 });
  const out = { rank: d.getRank(), worldSize: d.getWorldSize(), backend: d.getBackend(), initialized: d.isInitialized() };
  out.sum = d.allReduce(torch.arange(6, { dtype: 'float32' }).mul(rank + 1)).toArray();
  out.max = d.allReduce(torch.tensor([rank, 5 - rank], { dtype: 'int64' }), { op: 'max' }).toArray().map(Number);
  out.min = d.allReduce(torch.tensor([rank, 5 - rank], { dtype: 'int64' }), { op: 'min' }).toArray().map(Number);
  out.product = d.allReduce(torch.tensor([2 + rank, -1.5], { dtype: 'float64' }), { op: 'product' }).toArray();
  out.bor = d.allReduce(torch.tensor([1 << rank, 4], { dtype: 'int32' }), { op: 'bor' }).toArray();
  out.sumAsync = (await d.allReduceAsync(torch.full([3], rank + 0.5, { dtype: 'float64' }))).toArray();
  out.broadcast = d.broadcast(torch.full([2], rank * 7 + 1, { dtype: 'float32' }), { src: 1 }).toArray();
  out.broadcastAsync = (await d.broadcastAsync(torch.full([2], rank * 7 + 1, { dtype: 'float32' }))).toArray();
  out.gather = d.allGather(torch.tensor([rank, rank * 10], { dtype: 'float32' })).map((t) => t.toArray());
  const list = [torch.zeros([2]), torch.zeros([2])];
  const filled = d.allGather(list, torch.tensor([rank + 1, 5 - rank], { dtype: 'float32' }));
  out.gatherInto = list.map((t) => t.toArray());
  out.gatherSame = filled === list;
  out.gatherAsync = (await d.allGatherAsync(torch.tensor([rank * 3], { dtype: 'int64' }))).map((t) => Number(t.item()));
  d.barrier();
  await d.barrierAsync();
  // The event loop runs while an async collective waits: rank 1 comes 300 ms late.
  if (rank === 1) await new Promise((r) => setTimeout(r, 300));
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  await d.allReduceAsync(torch.ones([1]));
  clearInterval(iv);
  out.ticks = ticks;
  const refuse = (f) => { try { f(); return 'no error'; } catch (e) { return e.constructor.name + ': ' + e.message; } };
  out.errors = {
    op: refuse(() => d.allReduce(torch.ones([2]), { op: 'mean' })),
    strided: refuse(() => d.allReduce(torch.ones([2, 2]).t().narrow(0, 0, 1))),
    src: refuse(() => d.broadcast(torch.ones([1]), { src: 2 })),
    listSize: refuse(() => d.allGather([torch.zeros([1])], torch.ones([1]))),
  };
  out.twice = await d.initProcessGroup({ rank, worldSize: 2, initMethod: 'tcp://127.0.0.1:' + port }).then(() => 'no error', (e) => e.message);
  d.barrier();
  d.destroyProcessGroup();
  out.after = d.isInitialized();
  out.afterDestroy = refuse(() => d.allReduce(torch.ones([1])));
  emit(out);
`,
  ),
);

describe('collectives (2 ranks, Gloo on loopback)', () => {
  it('allReduce, broadcast, allGather and barrier give every rank the values they must', async () => {
    const rs = await collectives();
    rs.forEach(expectOk);
    for (const [rank, r] of rs.entries()) {
      const o = r.results[0];
      expect(o).toMatchObject({ rank, worldSize: 2, backend: 'gloo', initialized: true, after: false });
      const arange = [0, 1, 2, 3, 4, 5];
      expect(o.sum).toEqual(arange.map((v) => v * 1 + v * 2));
      expect(o.max).toEqual([Math.max(0, 1), Math.max(5, 4)]);
      expect(o.min).toEqual([Math.min(0, 1), Math.min(5, 4)]);
      expect(o.product).toEqual([2 * 3, -1.5 * -1.5]);
      expect(o.bor).toEqual([1 | 2, 4 | 4]);
      expect(o.sumAsync).toEqual([0.5 + 1.5, 0.5 + 1.5, 0.5 + 1.5]);
      expect(o.broadcast).toEqual([1 * 7 + 1, 1 * 7 + 1]);
      expect(o.broadcastAsync).toEqual([0 * 7 + 1, 0 * 7 + 1]);
      expect(o.gather).toEqual([
        [0, 0],
        [1, 10],
      ]);
      expect(o.gatherInto).toEqual([
        [0 + 1, 5 - 0],
        [1 + 1, 5 - 1],
      ]);
      expect(o.gatherSame).toBe(true);
      expect(o.gatherAsync).toEqual([0 * 3, 1 * 3]);
    }
    // rank 0 waited ~300 ms for rank 1 inside allReduceAsync, and its timers kept firing
    expect(rs[0].results[0].ticks as number).toBeGreaterThan(0);
  });

  it('refuses bad arguments with errors naming them', async () => {
    const [r] = await collectives();
    const o = r.results[0] as { errors: Record<string, string>; twice: string; afterDestroy: string };
    expect(o.errors.op).toMatch(/^TypeError: allReduce: op must be one of sum, product/);
    expect(o.errors.strided).toMatch(/^RangeError: allReduce: tensor must be contiguous/);
    expect(o.errors.src).toMatch(/^RangeError: broadcast: src must be a rank in 0\.\.1 \(got 2\)/);
    expect(o.errors.listSize).toMatch(/^RangeError: allGather: tensorList must hold worldSize \(2\) tensors \(got 1\)/);
    expect(o.twice).toBe('trying to initialize the default process group twice!');
    expect(o.afterDestroy).toMatch(/^TorchError: torch\.distributed\.allReduce: the default process group has not been initialized/);
  });

  it('without a group: clear errors; initProcessGroup checks its options before any rendezvous', async () => {
    expect(dist.isAvailable()).toBe(true);
    expect(dist.isGlooAvailable()).toBe(true);
    expect(dist.isInitialized()).toBe(false);
    expect(() => dist.getRank()).toThrow(/getRank: the default process group has not been initialized; call torch\.distributed\.initProcessGroup/);
    expect(() => dist.allReduce(torch.ones([1]))).toThrow(torch.TorchError);
    await expect(dist.initProcessGroup({ backend: 'mpi' as never })).rejects.toThrow(/backend must be 'gloo' or 'nccl'/);
    await expect(dist.initProcessGroup({ initMethod: 'file:///tmp/x' })).rejects.toThrow(/initMethod must be 'env:\/\/' or 'tcp:\/\/host:port'/);
    await expect(dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1234' })).rejects.toThrow(/rank is required with initMethod tcp:/);
    await expect(dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1234', rank: 2, worldSize: 2 })).rejects.toThrow(RangeError);
    await expect(dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1', rank: 0, worldSize: 1 })).rejects.toThrow(/must name a host and a port/);
    await expect(dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1234', rank: 0, worldSize: 1, timeout: -1 })).rejects.toThrow(
      /timeout must be a positive number/,
    );
    const saved = { ...process.env };
    try {
      delete process.env.MASTER_ADDR;
      await expect(dist.initProcessGroup()).rejects.toThrow(/env:\/\/ rendezvous: environment variable MASTER_ADDR expected, but not set/);
      Object.assign(process.env, { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '1234', RANK: '0' });
      delete process.env.WORLD_SIZE;
      await expect(dist.initProcessGroup()).rejects.toThrow(/WORLD_SIZE expected, but not set/);
    } finally {
      for (const k of ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    if (!dist.isNcclAvailable()) {
      await expect(dist.initProcessGroup({ backend: 'nccl', initMethod: 'tcp://127.0.0.1:1234', rank: 0, worldSize: 1 })).rejects.toThrow(
        /'nccl' backend is not in this build/,
      );
    }
    expect(dist.isInitialized()).toBe(false);
  });

  it('a group of one (env://, as torchrun sets it) works in this process and can be made again', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()), RANK: '0', WORLD_SIZE: '1', LOCAL_RANK: '0' });
      await dist.initProcessGroup();
      expect([dist.getRank(), dist.getWorldSize(), dist.getNodeLocalRank()]).toEqual([0, 1, 0]);
      const x = torch.tensor([1.5, -2]);
      expect(dist.allReduce(x).toArray()).toEqual([1.5, -2]);
      expect(new torch.data.DistributedSampler({ length: 5 }, { shuffle: false }).indices()).toEqual([0, 1, 2, 3, 4]);
      dist.destroyProcessGroup();
      process.env.MASTER_PORT = String(await freePort());
      await dist.initProcessGroup({ backend: 'gloo' });
      expect(dist.isInitialized()).toBe(true);
      dist.destroyProcessGroup();
    } finally {
      for (const k of ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

// ---- DistributedSampler ----

describe('DistributedSampler', () => {
  // [n, numReplicas, rank, shuffle, seed, epoch, dropLast]
  const cases: [number, number, number, boolean, number, number, boolean][] = [
    [10, 3, 0, true, 0, 0, false],
    [10, 3, 1, true, 0, 0, false],
    [10, 3, 2, true, 0, 0, false],
    [10, 3, 2, true, 5, 3, false],
    [10, 3, 1, true, 5, 3, true],
    [10, 3, 2, false, 0, 0, false],
    [10, 3, 2, false, 0, 0, true],
    [7, 4, 3, true, 1, 1, false],
    [2, 5, 4, true, 0, 2, false],
    [2, 5, 4, false, 0, 0, false],
    [100, 8, 5, true, 42, 7, false],
    [0, 2, 1, true, 0, 0, false],
  ];

  it("gives each rank PyTorch's indices for the same seed and epoch", async () => {
    const expected = await py.run<[number[], number][]>(
      `
from torch.utils.data.distributed import DistributedSampler
out = []
for n, r, rank, shuffle, seed, epoch, drop in cases:
    s = DistributedSampler(range(n), num_replicas=r, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop)
    s.set_epoch(epoch)
    out.append([list(s), len(s)])
`,
      { cases },
    );
    cases.forEach(([n, numReplicas, rank, shuffle, seed, epoch, dropLast], k) => {
      const s = new torch.data.DistributedSampler({ length: n }, { numReplicas, rank, shuffle, seed, dropLast });
      s.setEpoch(epoch);
      expect([[...s], s.length], `case ${JSON.stringify(cases[k])}`).toEqual(expected[k]);
    });
  });

  it('drives a DataLoader: each rank gets its share, the ranks together the whole dataset', () => {
    const ds = new torch.data.TensorDataset(torch.zeros([11, 2]), torch.arange(11));
    const seen: number[] = [];
    for (let rank = 0; rank < 3; rank++) {
      const sampler = new torch.data.DistributedSampler(ds, { numReplicas: 3, rank, seed: 7 });
      sampler.setEpoch(2);
      const loader = new torch.data.DataLoader(ds, { batchSize: 2, sampler });
      expect(loader.length).toBe(2); // 4 samples each (11 padded to 12), in batches of 2
      const got = [...loader].flatMap(([x, y]) => {
        x.dispose();
        return (y.toArray() as number[]).map(Number);
      });
      expect(got).toEqual(sampler.indices());
      seen.push(...got);
    }
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: 11 }, (_, i) => i)));
    expect(
      () => new torch.data.DataLoader(ds, { sampler: new torch.data.DistributedSampler(ds, { numReplicas: 2, rank: 0 }), shuffle: true }),
    ).toThrow(/sampler option is mutually exclusive with shuffle/);
    expect(() => new torch.data.DataLoader(ds, { sampler: {} as never })).toThrow(/sampler must be iterable with a length/);
    // as in PyTorch, any iterable with a length is a sampler
    const listed = [...new torch.data.DataLoader(ds, { batchSize: 2, sampler: [3, 1, 4] })].map(
      ([x, y]) => (x.dispose(), (y.toArray() as number[]).map(Number)),
    );
    expect(listed).toEqual([[3, 1], [4]]);
  });

  it('refuses bad options', () => {
    expect(() => new torch.data.DistributedSampler({ length: 4 })).toThrow(/give numReplicas and rank, or call torch\.distributed\.initProcessGroup/);
    expect(() => new torch.data.DistributedSampler({ length: 4 }, { numReplicas: 2, rank: 2 })).toThrow(
      /Invalid rank 2, rank should be in the interval \[0, 1\]/,
    );
    expect(() => new torch.data.DistributedSampler({ length: 4 }, { numReplicas: 0, rank: 0 })).toThrow(/numReplicas must be a positive integer/);
    expect(() => new torch.data.DistributedSampler({ length: 4 }, { numReplicas: 2, rank: 0, seed: -1 })).toThrow(
      /seed must be a non-negative integer/,
    );
  });
});

// ---- DistributedDataParallel ----

// The global batches: 20 steps × 16 CIFAR-sized images, made the same way in every process.
const DATA = `
  torch.manualSeed(1234);
  const X = torch.randn([320, 3, 32, 32]);
  const Y = torch.randint(0, 10, [320]);
  const makeModel = (seed) => { torch.manualSeed(seed); return torch.models.seResNet18({ stem: 'cifar', width: 8, numClasses: 10, se: { reduction: 4 } }); };
  const makeSgd = (m) => new torch.optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
`;

// Rank r trains with the Trainer on its DistributedSampler share (shuffle off: samples r, r+2, ...), from
// a model initialized with a different seed on rank 1 (DDP must replace it by rank 0's).
const trainerRun = job('trainer', () =>
  ranks(
    2,
    `
  await torch.distributed.initProcessGroup({ initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 60000 });
  ${DATA}
  const model = makeModel(rank === 0 ? 0 : 99);
  const data = new torch.data.TensorDataset(X, Y);
  const loader = new torch.data.DataLoader(data, { batchSize: 8, sampler: new torch.data.DistributedSampler(data, { shuffle: false }) });
  const trainer = new torch.train.Trainer({ model, optimizer: makeSgd(model), device: 'cpu', progress: false, distributed: true });
  let offThread = null;
  trainer.on('offThread', (e) => (offThread = e.offThread));
  const steps = [];
  trainer.on('step', (s) => steps.push(s.step));
  const [record] = await trainer.fit(loader, { epochs: 1 });
  torch.save(model.stateDict(), dir + '/trainer-rank' + rank + '.pt');
  emit({ offThread, steps: steps.length, trainLoss: record.trainLoss, ddpKeys: Object.keys(trainer.ddp.stateDict()).slice(0, 2) });
`,
  ),
);

// DistributedDataParallel driven by hand on the JS thread, two micro-batches per step, the first under
// noSync (gradient accumulation). 5 steps: with accumulation, the rounding of the sums differs from one
// process's (a+b)/2+c vs a/4+b/4+c/4...), and this small net on random labels amplifies such 1e-7
// differences ~10x per step, to ~1e-3 by step 10 (without accumulation, as above, the sums are the same
// and so are the results, to the bit).
const eagerRun = job('eager', () =>
  ranks(
    2,
    `
  await torch.distributed.initProcessGroup({ initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 60000 });
  ${DATA}
  const model = makeModel(rank === 0 ? 0 : 99);
  const ddp = new torch.nn.parallel.DistributedDataParallel(model);
  const opt = makeSgd(model);
  for (let step = 0; step < 5; step++) {
    torch.scope(() => {
      for (let m = 0; m < 2; m++) {
        const rows = (step * 2 + m) * 16 + rank;
        const micro = () => torch.nn.functional.crossEntropy(ddp(X.index(rows + ':' + (rows + 16) + ':2')), Y.index(rows + ':' + (rows + 16) + ':2')).div(2).backward();
        if (m === 0) ddp.noSync(micro); else micro();
      }
      opt.step();
      opt.zeroGrad();
    });
  }
  torch.save(model.stateDict(), dir + '/eager-rank' + rank + '.pt');
  emit({ keys: Object.keys(ddp.stateDict()).slice(0, 3), repr: String(ddp).split('\\n')[0] + ' ' + String(ddp).split('\\n')[1].trim() });
`,
  ),
);

// One process, the same 20 global batches: each step's gradient is the mean over the two ranks' halves,
// each half through the model on its own (batch norm normalizes per rank in data-parallel training, so
// "the same global batch" means the same halves). Rank 0's buffers come from its own halves only (DDP
// copies them from rank 0 before each forward), so the half of rank 1 leaves them as they were.
function referenceRun(opts: { steps: number; micro: number }): Record<string, torch.Tensor> {
  const threads = torch.getNumThreads();
  torch.setNumThreads(1);
  try {
    torch.manualSeed(1234);
    const X = torch.keep(torch.randn([320, 3, 32, 32]));
    const Y = torch.keep(torch.randint(0, 10, [320]));
    torch.manualSeed(0);
    const model = torch.models.seResNet18({ stem: 'cifar', width: 8, numClasses: 10, se: { reduction: 4 } });
    const opt = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    for (let step = 0; step < opts.steps; step++) {
      torch.scope(() => {
        for (let m = 0; m < opts.micro; m++) {
          for (let rank = 0; rank < 2; rank++) {
            const rows = (step * opts.micro + m) * 16 + rank;
            const saved = rank === 1 ? model.buffers().map((b) => b.clone()) : [];
            const half = `${rows}:${rows + 16}:2`;
            torch.nn.functional
              .crossEntropy(model(X.index(half)), Y.index(half))
              .div(2 * opts.micro)
              .backward();
            torch.noGrad(() => model.buffers().forEach((b, k) => rank === 1 && b.copy_(saved[k])));
          }
        }
        opt.step();
        opt.zeroGrad();
      });
    }
    X.dispose();
    Y.dispose();
    return model.stateDict();
  } finally {
    torch.setNumThreads(threads);
  }
}

function expectSameModels(file0: string, file1: string, reference: Record<string, torch.Tensor>): number {
  const r0 = torch.load(path.join(dir, file0)) as Record<string, torch.Tensor>;
  const r1 = torch.load(path.join(dir, file1)) as Record<string, torch.Tensor>;
  const params = Object.keys(reference).filter((k) => !/running_|num_batches/.test(k));
  expect(params.length).toBeGreaterThan(50);
  let worst = 0;
  for (const k of params) {
    // identical across ranks: the same averaged gradients and the same optimizer arithmetic
    expect(torch.equal(r0[k], r1[k]), `${k} differs between the ranks`).toBe(true);
    expectClose(r0[k], reference[k], { rtol: 1e-4, atol: 1e-5 });
    worst = Math.max(
      worst,
      torch.scope(() => (r0[k].sub(reference[k]).abs().max().item() as number) / Math.max(reference[k].abs().max().item() as number, 1e-12)),
    );
  }
  // rank 0's batch-norm statistics are the reference's (from its own halves)
  for (const k of Object.keys(reference).filter((k) => /running_|num_batches/.test(k))) expectClose(r0[k], reference[k], { rtol: 1e-4, atol: 1e-5 });
  return worst;
}

describe('DistributedDataParallel (2 ranks) equals one process on the same global batch', () => {
  it('Trainer({distributed: true}) trains seResNet18 (cifar stem) for 20 steps: identical on both ranks, equal to one process', async () => {
    const reference = referenceRun({ steps: 20, micro: 1 });
    const rs = await trainerRun();
    rs.forEach(expectOk);
    for (const r of rs) {
      expect(r.results[0]).toMatchObject({ offThread: true, steps: 20, ddpKeys: ['module.conv1.weight', 'module.bn1.weight'] });
    }
    expect(rs[0].results[0].trainLoss).toBe(rs[1].results[0].trainLoss); // the epoch's loss is over both ranks
    const worst = expectSameModels('trainer-rank0.pt', 'trainer-rank1.pt', reference);
    console.log(`DDP (Trainer, traced step) vs one process after 20 steps: max relative parameter difference ${worst.toExponential(2)}`);
  });

  it('by hand on the JS thread, with noSync gradient accumulation: the same', async () => {
    const reference = referenceRun({ steps: 5, micro: 2 });
    const rs = await eagerRun();
    rs.forEach(expectOk);
    expect(rs[0].results[0].keys).toEqual(['module.conv1.weight', 'module.bn1.weight', 'module.bn1.bias']);
    expect(rs[0].results[0].repr).toBe('DistributedDataParallel( (module): SEResNet(');
    const worst = expectSameModels('eager-rank0.pt', 'eager-rank1.pt', reference);
    console.log(`DDP (eager, noSync accumulation) vs one process after 5 steps: max relative parameter difference ${worst.toExponential(2)}`);
  });

  it('refuses what it cannot wrap', () => {
    expect(() => new torch.nn.parallel.DistributedDataParallel({} as never)).toThrow(/module must be an nn\.Module/);
    expect(() => new torch.nn.parallel.DistributedDataParallel(new torch.nn.ReLU())).toThrow(/doesn't have any parameter that requires a gradient/);
    expect(() => new torch.nn.parallel.DistributedDataParallel(new torch.nn.Linear(2, 2))).toThrow(/default process group has not been initialized/);
    const linear = new torch.nn.Linear(2, 2);
    expect(
      () => new torch.train.Trainer({ model: linear, optimizer: new torch.optim.SGD(linear.parameters(), { lr: 0.1 }), distributed: true }),
    ).toThrow(/distributed needs the default process group/);
  });
});

// ---- failing ranks ----

// Rank 1 dies (SIGKILL, no goodbye) in its 4th step; rank 0 keeps training and must fail at once.
const deadRank = job('dead', () =>
  ranks(
    2,
    `
  await torch.distributed.initProcessGroup({ initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 60000 });
  const model = new torch.nn.Sequential(new torch.nn.Linear(8, 16), new torch.nn.ReLU(), new torch.nn.Linear(16, 2));
  const ddp = new torch.nn.parallel.DistributedDataParallel(model);
  for (let step = 0; step < 1000; step++) {
    if (rank === 1 && step === 3) process.kill(process.pid, 'SIGKILL');
    torch.scope(() => ddp(torch.randn([4, 8])).sum().backward());
    emit({ step });
  }
`,
  ),
);

// Rank 1 stays alive but stops taking part; rank 0's next collective must time out (3 s). Rank 1 is
// stopped when rank 0 is done.
const hungChildren: ChildProcess[] = [];
const hungRank = job('hung', () =>
  ranks(
    2,
    `
  const d = torch.distributed;
  await d.initProcessGroup({ initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 3000 });
  d.allReduce(torch.ones([1]));
  if (rank === 1) { emit({ waiting: true }); await new Promise(() => setInterval(() => {}, 1000)); }
  try {
    await d.allReduceAsync(torch.ones([1]));
  } finally {
    emit({ done: true });
  }
`,
    {
      onSpawn: (rank, c) => {
        hungChildren[rank] = c;
        if (rank === 0) c.on('exit', () => hungChildren[1]?.kill());
      },
    },
  ),
);

describe('a rank that fails makes the others fail with a clear error, never hang', () => {
  it('a rank that dies: the others fail at their next all-reduce ("Connection closed by peer")', async () => {
    const [r0, r1] = await deadRank();
    expect(r1.signal).toBe('SIGKILL');
    expect(r0.signal, `rank 0 hung and was killed\n${r0.stderr}`).toBeNull();
    expect(r0.status).toBe(1);
    expect(r0.results.length).toBeGreaterThanOrEqual(3);
    expect(r0.stderr).toMatch(/Connection closed by peer|Connection reset by peer/);
    expect(r0.stderr).toMatch(/Check the logs of the remote worker/);
  });

  it('a rank that stops answering: the others fail after the timeout with a DistError', async () => {
    const [r0] = await hungRank();
    expect(r0.signal, `rank 0 hung and was killed\n${r0.stderr}`).toBeNull();
    expect(r0.status).toBe(1);
    expect(r0.results).toEqual([{ done: true }]);
    expect(r0.stderr).toMatch(/^ERROR DistError: torch\.distributed\.allReduceAsync failed on rank 0 of 2: .*Timed out/m);
  });

  it('a rank that never comes: initProcessGroup rejects after the timeout, naming the rendezvous', async () => {
    const port = await freePort();
    const err = await dist.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank: 0, worldSize: 2, timeout: 2000 }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(dist.DistError);
    expect(err.message).toMatch(new RegExp(`initProcessGroup: rank 0 of 2 could not join the group at 127\\.0\\.0\\.1:${port}: .*`));
    expect(err.message).toMatch(/[Tt]imed out|timeout/);
    expect(dist.isInitialized()).toBe(false);
  });
});

// ---- the CLI ----

function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RankResult[]> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: dir, timeout: 120_000, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve([{ status: null, signal: null, stdout, stderr: stderr + e.message, results: [] }]));
    child.on('close', (status, signal) => resolve([{ status, signal, stdout, stderr, results: [] }]));
  });
}

const TRAIN = [
  'train',
  '--dataset',
  'synthetic',
  '--width',
  '8',
  '--reduction',
  '4',
  '--epochs',
  '2',
  '--batch-size',
  '32',
  '--device',
  'cpu',
  '--seed',
  '3',
];
const cliRun = job('cli', () =>
  runCommand(process.execPath, [path.join(REPO, 'dist', 'cli', 'index.js'), ...TRAIN, '--nproc', '2', '--out', path.join(dir, 'cli-run')]),
);
// PyTorch's own launcher (torchrun) running the same command: its agent serves the store.
const torchrunRun = job('torchrun', () => {
  const python = referencePython();
  return runCommand(
    python.command,
    [
      '-m',
      'torch.distributed.run',
      '--nproc-per-node',
      '2',
      '--no-python',
      process.execPath,
      path.join(REPO, 'dist', 'cli', 'index.js'),
      ...TRAIN,
      '--out',
      path.join(dir, 'torchrun-run'),
    ],
    python.env,
  );
});

describe('torchnode train --nproc', () => {
  it("trains on 2 local processes with torchrun's variables, and runs under torchrun itself; rank 0 writes the run", async () => {
    const [r] = await cliRun();
    expectOk(r);
    expect(r.stderr).toMatch(/on 2 processes \(gloo\), each on cpu/);
    expect(r.stdout.match(/test accuracy/g)).toHaveLength(1); // rank 0 only
    const out = path.join(dir, 'cli-run');
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as { trainLoss: number }[];
    expect(history).toHaveLength(2);
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(run.nproc).toBeUndefined();
    // the checkpoint holds the model's own keys and loads into a plain model
    const ckpt = torch.load(path.join(out, 'checkpoint.pt')) as { model: Record<string, torch.Tensor> };
    const model = torch.models.seResNet18({ stem: 'cifar', width: 8, numClasses: 10, se: { reduction: 4 } });
    expect(model.loadStateDict(ckpt.model)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    // under torchrun the same command joins its group, and trains the same run
    const [t] = await torchrunRun();
    expectOk(t);
    expect(t.stderr).toMatch(/on 2 processes \(gloo\), each on cpu/);
    const viaTorchrun = JSON.parse(fs.readFileSync(path.join(dir, 'torchrun-run', 'history.json'), 'utf8')) as { trainLoss: number }[];
    expect(viaTorchrun.map((h) => h.trainLoss)).toEqual(history.map((h) => h.trainLoss));
  });
});

describe.skipIf(torch.cuda.isAvailable())('torchnode train --nproc --device cuda without CUDA', () => {
  it('fails on every rank naming the device, instead of training on the CPU', async () => {
    const args = TRAIN.map((a) => (a === 'cpu' ? 'cuda' : a));
    const [r] = await runCommand(process.execPath, [
      path.join(REPO, 'dist', 'cli', 'index.js'),
      ...args,
      '--nproc',
      '2',
      '--out',
      path.join(dir, 'cuda-run'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/device 'cuda:[01]': CUDA is not available/);
    expect(r.stderr).not.toMatch(/each on cpu/);
    expect(fs.existsSync(path.join(dir, 'cuda-run', 'history.json'))).toBe(false);
  });
});
