/**
 * DataLoader, as torch.utils.data.DataLoader: batches of a dataset, shuffled or in order, moved to a
 * device, through batched transforms, with the next batch assembled off the JS thread while the caller's
 * step runs.
 *
 *     const loader = new torch.data.DataLoader(train, { batchSize: 128, shuffle: true, device: 'cuda' });
 *     for await (const [x, y] of loader) {
 *       torch.scope(() => step(x, y));
 *       x.dispose(); y.dispose();      // each batch belongs to the caller: dispose it (or scope the step)
 *     }
 *
 * Tensor-backed datasets (TensorDataset, the vision datasets, Subsets of them) are gathered natively,
 * one index op per batch, on a worker thread: `for await` starts batch i+1 before it yields batch i
 * (a Napi::AsyncWorker), and plain `for` does the same on ATen's inter-op pool and waits for it when it
 * needs it. With device 'cuda' the batch is gathered into pinned memory and copied with nonBlocking.
 * Other datasets are assembled sample by sample with get(i) and torch.stack on the JS thread.
 *
 * A `sampler` (a DistributedSampler: each rank's share) gives the order of an epoch instead.
 * Shuffling draws exactly what PyTorch's DataLoader draws, from the default generator (torch.manualSeed)
 * or from the loader's own torch.Generator().manual_seed(seed): the same seed gives PyTorch's order.
 */
import { Tensor, holdHandles, releaseHandles, wrap } from '../core/tensor';
import { optionsArg } from '../core/args';
import { keep, scope } from '../core/scope';
import { checkDevice, describe, dtypeCode } from '../core/dtype';
import { tensor } from '../core/creation';
import { arange, stack } from '../generated/torch';
import { warnOnce, withCallerStack } from '../core/errors';
import { native, type Handle, type Job, type NativeGenerator } from './native';
import { Dataset, applyTransform, gatherSourceOf, generatorFor, transformArg, type GatherSource, type Target, type TransformFn } from './dataset';
import { startsWithToTensor } from './transforms';
import type { Sampler } from './distributed';

export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** A new random order every epoch (default false). */
  shuffle?: boolean;
  /** The dataset indices of an epoch, in order (e.g. a DistributedSampler); excludes shuffle. */
  sampler?: Sampler;
  /** The loader's own generator, torch.Generator().manual_seed(seed); without it the default generator
   * (seeded by torch.manualSeed) is used, as PyTorch does. */
  seed?: number | bigint;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Batched transform of the inputs, after the dataset's own transform. */
  transform?: TransformFn;
  /** Batched transform of the targets. */
  targetTransform?: TransformFn;
  /** Where batches go: 'cpu', 'cuda', 'cuda:N' (default: where the dataset's tensors are). */
  device?: string;
  /** Gather into page-locked memory (default: true when device is CUDA); needs CUDA, ignored with a warning without it. */
  pinMemory?: boolean;
  /** Assemble the next batch on a worker thread while the current one is used (default true). */
  prefetch?: boolean;
}

/** A batch: [inputs, targets]. */
export type Batch = [Tensor, Tensor];

const OPTION_KEYS = ['batchSize', 'shuffle', 'sampler', 'seed', 'dropLast', 'transform', 'targetTransform', 'device', 'pinMemory', 'prefetch'];
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function samplerOption(s: unknown): Sampler | undefined {
  if (s === undefined) return undefined;
  const ok =
    s !== null && typeof s === 'object' && typeof (s as Sampler)[Symbol.iterator] === 'function' && Number.isSafeInteger((s as Sampler).length);
  if (!ok) throw new TypeError(`DataLoader: sampler must be iterable with a length, like a DistributedSampler (got ${describe(s)})`);
  return s as Sampler;
}

function boolOption(o: DataLoaderOptions, key: keyof DataLoaderOptions, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`DataLoader: ${key} must be a boolean (got ${describe(v)})`);
  return v;
}

/** What an iterator reports about the batches it has started but not yet yielded. */
export interface PrefetchState {
  /** Batch number in this epoch. */
  batch: number;
  /** Whether the worker has finished assembling it. */
  ready: boolean;
}

/** Batches of a dataset, as torch.utils.data.DataLoader: `for (const [x, y] of loader)` or `for await` (which gathers the next batch off the JS thread); batchSize, shuffle, dropLast, transform, device. */
export class DataLoader<Y extends Target = Target> implements Iterable<Batch>, AsyncIterable<Batch> {
  readonly dataset: Dataset<Y>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly sampler: Sampler | undefined;
  readonly dropLast: boolean;
  readonly transform: TransformFn | undefined;
  readonly targetTransform: TransformFn | undefined;
  readonly device: string | undefined;
  readonly pinMemory: boolean;
  readonly prefetch: boolean;
  /** @internal */
  readonly generator: NativeGenerator | undefined;
  /** @internal Whether batches are really pinned (pinMemory and CUDA present). */
  readonly pin: boolean;

  constructor(dataset: Dataset<Y>, options: DataLoaderOptions = {}) {
    if (!(dataset instanceof Dataset)) throw new TypeError(`DataLoader: dataset must be a Dataset (got ${describe(dataset)})`);
    const o = optionsArg<DataLoaderOptions>(options, 'DataLoader', OPTION_KEYS, '{batchSize, shuffle}');
    const bs = o.batchSize ?? 1;
    if (typeof bs !== 'number' || !Number.isSafeInteger(bs)) throw new TypeError(`DataLoader: batchSize must be an integer (got ${describe(bs)})`);
    if (bs < 1) throw new RangeError(`DataLoader: batchSize must be at least 1 (got ${bs})`);
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = boolOption(o, 'shuffle', false);
    this.sampler = samplerOption(o.sampler);
    if (this.sampler && this.shuffle) throw new TypeError('DataLoader: sampler option is mutually exclusive with shuffle');
    this.dropLast = boolOption(o, 'dropLast', false);
    this.prefetch = boolOption(o, 'prefetch', true);
    this.transform = transformArg(o.transform, 'DataLoader: transform');
    this.targetTransform = transformArg(o.targetTransform, 'DataLoader: targetTransform');
    this.device = o.device === undefined ? undefined : checkDevice(o.device, 'DataLoader: device');
    const cudaTarget = this.device !== undefined && this.device.startsWith('cuda');
    this.pinMemory = boolOption(o, 'pinMemory', cudaTarget);
    const cuda = native.cudaIsAvailable();
    if (this.pinMemory && !cuda) {
      warnOnce('DataLoader.pinMemory', "DataLoader: pinMemory is set but CUDA is not available, so pinned memory won't be used.");
    }
    this.pin = this.pinMemory && cuda;
    this.generator = generatorFor(o.seed, 'DataLoader: seed');
  }

  /** The number of batches per epoch (Python's len(loader)). */
  get length(): number {
    const n = this.sampler?.length ?? this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** @internal The state of the loader's own generator (its `seed`), or null without one: for checkpoints. */
  generatorState(): Tensor | null {
    return this.generator === undefined ? null : wrap(native.dataGeneratorState(this.generator));
  }

  /** @internal Restores generatorState(); the next epochs shuffle as they would have after it. */
  setGeneratorState(state: Tensor): void {
    if (this.generator === undefined) throw new TypeError('DataLoader: this loader has no seed, so no generator state to restore');
    if (!(state instanceof Tensor) || state.dtype !== 'uint8') throw new TypeError('DataLoader: a generator state is a uint8 Tensor');
    native.dataSetGeneratorState(this.generator, state.handle);
  }

  /** One epoch, synchronously: `for (const [x, y] of loader)`. */
  [Symbol.iterator](): DataLoaderIterator {
    return new DataLoaderIterator(new Epoch(this));
  }

  /** One epoch, asynchronously: `for await (const [x, y] of loader)`. */
  [Symbol.asyncIterator](): AsyncDataLoaderIterator {
    return new AsyncDataLoaderIterator(new Epoch(this));
  }
}

// One pass over the dataset: the order, and how batch b is made.
class Epoch {
  readonly n: number;
  readonly numBatches: number;
  readonly source: GatherSource | null;
  private readonly toFloat: boolean;
  private perm: Tensor | null = null; // kept: no scope disposes it; the GC does if the epoch is abandoned
  private begun = false;
  private ended = false;
  private exhausted = false; // the sampler has run out (PyTorch's drew its dropped permutation)

  constructor(readonly loader: DataLoader<Target>) {
    this.n = loader.sampler?.length ?? loader.dataset.length;
    this.numBatches = loader.length;
    this.source = gatherSourceOf(loader.dataset);
    const first = this.source?.transform ?? loader.transform;
    this.toFloat = startsWithToTensor(first);
    // PyTorch's _BaseDataLoaderIter draws a base seed from the loader's generator when the epoch starts.
    native.dataRandomSeed(loader.generator);
  }

  /** At the first batch, as PyTorch's sampler: the permutation of this epoch. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    const sampler = this.loader.sampler;
    if (sampler) {
      const order = BigInt64Array.from(sampler, (i) => BigInt(i));
      if (order.length !== this.n) throw new RangeError(`DataLoader: the sampler gave ${order.length} indices but its length is ${this.n}`);
      this.perm = keep(wrap(native.fromData(order, [order.length], dtypeCode('int64'), undefined, false)));
      return;
    }
    if (!this.loader.shuffle) return;
    let gen = this.loader.generator;
    // RandomSampler without a generator seeds a fresh one from the default generator.
    if (gen === undefined) gen = native.dataGenerator(native.dataRandomSeed(undefined));
    this.perm = keep(wrap(native.dataRandperm(this.n, gen)));
  }

  /**
   * Batch b is handed out. PyTorch's BatchSampler runs its sampler to the end while it fills a last
   * partial batch, so the sampler's extra permutation is drawn then, before that batch is seen; when the
   * last batch is full (or partial ones are dropped), only the request after it does so (end()).
   */
  taking(b: number): void {
    const { batchSize, dropLast } = this.loader;
    if (b === this.numBatches - 1 && !dropLast && this.n % batchSize !== 0) this.exhaust();
  }

  /** natural: the epoch ran to its end. */
  end(natural: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.perm !== null) this.perm.dispose();
    this.perm = null;
    if (natural) this.exhaust();
  }

  // RandomSampler, once its n indices are out, draws one more permutation of which it yields nothing;
  // with the loader's own generator, that draw shifts the next epoch's order.
  private exhaust(): void {
    if (this.exhausted) return;
    this.exhausted = true;
    if (this.loader.shuffle && this.loader.generator !== undefined) {
      native.dispose(native.dataRandperm(this.n, this.loader.generator));
    }
  }

  /** A new int64 handle: the dataset indices of batch b. */
  private indices(b: number): Handle {
    const start = b * this.loader.batchSize;
    const len = Math.min(this.loader.batchSize, this.n - start);
    if (this.perm !== null) return native.narrow(this.perm.handle, 0, start, len);
    return keep(arange(start, start + len, { dtype: 'int64' })).handle; // out of any scope: the caller disposes it
  }

  private gatherArgs(b: number): [Handle, Handle | null, Handle, string | undefined, boolean, boolean] {
    const src = this.source as GatherSource;
    const positions = this.indices(b);
    let idx = positions;
    if (src.map !== null) {
      try {
        idx = native.index(src.map, [positions]);
      } finally {
        native.dispose(positions);
      }
    }
    return [src.data, src.targets, idx, this.loader.device, this.loader.pin, this.toFloat];
  }

  /** Starts gathering batch b on ATen's inter-op pool. */
  startJob(b: number): Job {
    const args = this.gatherArgs(b);
    try {
      return native.dataGatherStart(...args);
    } finally {
      native.dispose(args[2]); // the job holds its own reference
    }
  }

  /** Starts gathering batch b on libuv's pool. */
  startAsync(b: number): Promise<[Handle, Handle | null]> {
    const args = this.gatherArgs(b);
    try {
      return native.dataGatherAsync(...args);
    } finally {
      native.dispose(args[2]);
    }
  }

  /** Wraps a gathered batch (registered with the caller's scope) and runs the transforms. */
  finish([hx, hy]: [Handle, Handle | null]): Batch {
    return scope(() => {
      let x = wrap(hx);
      const y = hy === null ? null : wrap(hy);
      const t = this.source?.transform;
      if (t) x = applyTransform(t, x, 'the dataset transform');
      return this.transformBatch(x, y);
    });
  }

  private transformBatch(x: Tensor, y: Tensor | null): Batch {
    const l = this.loader;
    if (l.transform) x = applyTransform(l.transform, x, 'DataLoader: transform');
    if (y === null) throw new TypeError('DataLoader: the dataset has no targets');
    if (l.targetTransform) y = applyTransform(l.targetTransform, y, 'DataLoader: targetTransform');
    return [x, y];
  }

  /** Batch b of a dataset that is not tensor-backed: get(i) per sample, then torch.stack. */
  collate(b: number): Batch {
    const idx = this.indices(b);
    let list: number[];
    try {
      list = Array.from(native.data(idx) as BigInt64Array, Number);
    } finally {
      native.dispose(idx);
    }
    const l = this.loader;
    return scope(() => {
      const samples = list.map((i) => {
        const s = l.dataset.get(i) as unknown;
        if (s instanceof Promise || (s !== null && typeof (s as { then?: unknown }).then === 'function')) {
          throw new TypeError('DataLoader: dataset.get(i) returned a Promise; get must return [input, target] synchronously');
        }
        if (!Array.isArray(s) || !(s[0] instanceof Tensor))
          throw new TypeError(`DataLoader: dataset.get(${i}) must return [Tensor, target] (got ${describe(s)})`);
        return s as [Tensor, Target];
      });
      let x = stack(samples.map((s) => s[0]));
      const ys = samples.map((s) => s[1]);
      let y: Tensor;
      if (ys.every((v) => typeof v === 'number')) {
        // default_collate: Python ints → int64, floats → float64.
        const nums = ys as number[];
        y = tensor(Float64Array.from(nums), { dtype: nums.every(Number.isInteger) ? 'int64' : 'float64' });
      } else if (ys.every((v) => v instanceof Tensor)) y = stack(ys as Tensor[]);
      else throw new TypeError('DataLoader: the targets of a batch must be all numbers or all Tensors');
      if (l.pin) {
        x = x.pinMemory();
        y = y.pinMemory();
      }
      if (l.device !== undefined) {
        const nonBlocking = l.pin && l.device.startsWith('cuda');
        x = x.to({ device: l.device, nonBlocking });
        y = y.to({ device: l.device, nonBlocking });
      }
      if (this.toFloat && x.dtype === 'uint8') x = x.to('float32').div(255);
      return this.transformBatch(x, y);
    });
  }
}

/** The synchronous iterator of one epoch. */
export class DataLoaderIterator implements IterableIterator<Batch> {
  private b = 0;
  private closed = false;
  private readonly jobs = new Map<number, Job>();

  /** @internal */
  constructor(private readonly epoch: Epoch) {}

  [Symbol.iterator](): this {
    return this;
  }

  /** Batches started on a worker thread and not yet yielded. */
  get prefetched(): PrefetchState[] {
    return [...this.jobs].map(([batch, job]) => ({ batch, ready: native.dataGatherReady(job) }));
  }

  next(): IteratorResult<Batch, undefined> {
    if (this.closed) return DONE;
    const e = this.epoch;
    try {
      e.begin();
      if (this.b >= e.numBatches) {
        this.close(true);
        return DONE;
      }
      const b = this.b++;
      e.taking(b);
      if (e.source === null) return { done: false, value: e.collate(b) };
      const job = this.jobs.get(b) ?? e.startJob(b);
      this.jobs.delete(b);
      if (e.loader.prefetch && b + 1 < e.numBatches && !this.jobs.has(b + 1)) this.jobs.set(b + 1, e.startJob(b + 1));
      return { done: false, value: e.finish(native.dataGatherWait(job)) };
    } catch (err) {
      this.close(false);
      throw err;
    }
  }

  /** Ends the epoch early (a `break` calls this): batches in flight are dropped. */
  return(): IteratorResult<Batch, undefined> {
    this.close(false);
    return DONE;
  }

  private close(natural: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.jobs.clear(); // a job's tensors are freed when it finishes; none was wrapped in a handle
    this.epoch.end(natural);
  }
}

interface Pending {
  promise: Promise<[Handle, Handle | null]>;
  ready: boolean;
}

/** The asynchronous iterator of one epoch. */
export class AsyncDataLoaderIterator implements AsyncIterableIterator<Batch> {
  private b = 0;
  private closed = false;
  private readonly pending = new Map<number, Pending>();

  /** @internal */
  constructor(private readonly epoch: Epoch) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Batches started on a worker thread and not yet yielded. */
  get prefetched(): PrefetchState[] {
    return [...this.pending].map(([batch, p]) => ({ batch, ready: p.ready }));
  }

  private launch(b: number): Pending {
    const p: Pending = { promise: this.epoch.startAsync(b), ready: false };
    // Also marks the promise handled: a prefetched batch that fails is reported when it is awaited.
    // Until next() or close() takes the batch, the GC releases it if this iterator is abandoned.
    p.promise.then(
      (raw) => {
        p.ready = true;
        holdHandles(p, raw);
      },
      () => (p.ready = true),
    );
    this.pending.set(b, p);
    return p;
  }

  async next(): Promise<IteratorResult<Batch, undefined>> {
    const callerStack = new Error().stack;
    if (this.closed) return DONE;
    const e = this.epoch;
    let b: number;
    let p: Pending;
    try {
      e.begin();
      if (this.b >= e.numBatches) {
        this.close(true);
        return DONE;
      }
      b = this.b++;
      e.taking(b);
      if (e.source === null) return { done: false, value: e.collate(b) };
      p = this.pending.get(b) ?? this.launch(b);
      this.pending.delete(b);
      // Batch b+1 starts now, before batch b is handed over: it is assembled while the caller works on b.
      if (e.loader.prefetch && b + 1 < e.numBatches && !this.pending.has(b + 1)) this.launch(b + 1);
    } catch (err) {
      this.close(false);
      throw err;
    }
    let raw: [Handle, Handle | null];
    try {
      raw = await p.promise;
    } catch (err) {
      this.close(false);
      throw withCallerStack(err, callerStack);
    }
    releaseHandles(p);
    if (this.closed) {
      disposeRaw(raw);
      return DONE;
    }
    try {
      return { done: false, value: e.finish(raw) };
    } catch (err) {
      this.close(false);
      throw err;
    }
  }

  /** Ends the epoch early (a `break` calls this): batches in flight are disposed when they arrive. */
  async return(): Promise<IteratorResult<Batch, undefined>> {
    this.close(false);
    return DONE;
  }

  private close(natural: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      p.promise.then(
        (raw) => {
          releaseHandles(p);
          disposeRaw(raw);
        },
        () => undefined,
      );
    }
    this.pending.clear();
    this.epoch.end(natural);
  }
}

function disposeRaw([hx, hy]: [Handle, Handle | null]): void {
  native.dispose(hx);
  if (hy !== null) native.dispose(hy);
}
