/**
 * Datasets, as torch.utils.data has them: the abstract Dataset (length + get(i)), TensorDataset (samples
 * are rows of two tensors, gathered a batch at a time with one index op), Subset and randomSplit.
 *
 * Transforms here are batched: a transform takes a batch [N, ...] and returns one (lib/data/transforms.ts).
 * A dataset's `transform` applies to its inputs: in get(i) to a batch of one, in getBatch and in the
 * DataLoader to the whole batch.
 */
import { Tensor, wrap } from '../core/tensor';
import { keep, scope } from '../core/scope';
import { describe, dtypeCode } from '../core/dtype';
import { native, type Handle, type NativeGenerator } from './native';

/** A target: a class index (a JS number) or a tensor. */
export type Target = number | Tensor;
/** (x: Tensor) => Tensor on a batch; a transforms.Transform is such a function. */
export type TransformFn = (x: Tensor) => Tensor;

/** A map-style dataset, as torch.utils.data.Dataset: `length` samples, `get(i)` → [input, target]. */
export abstract class Dataset<Y extends Target = Target> {
  /** The number of samples (Python's __len__). */
  abstract get length(): number;
  /** Sample i (Python's __getitem__): [input tensor, target]. */
  abstract get(index: number): [Tensor, Y];
}

/** @internal What the DataLoader needs to gather batches natively: raw handles, never disposed by scopes. */
export interface GatherSource {
  data: Handle;
  targets: Handle | null;
  /** Index map (a Subset's indices into the tensor dataset), or null. */
  map: Handle | null;
  transform: TransformFn | undefined;
}

/** @internal The method by which tensor-backed datasets describe themselves to the DataLoader. */
export const GATHER: unique symbol = Symbol('torchnode.data.gather');

/** @internal */
export function gatherSourceOf(dataset: unknown): GatherSource | null {
  const f = (dataset as { [GATHER]?: () => GatherSource | null } | null)?.[GATHER];
  return typeof f === 'function' ? f.call(dataset) : null;
}

/** A transform option: undefined, or a function. */
export function transformArg(v: unknown, name: string): TransformFn | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'function') return v as TransformFn;
  throw new TypeError(`${name} must be a function (a transform such as transforms.Compose([...])) (got ${describe(v)})`);
}

/** Applies a transform to a batch, checking that it gives a Tensor back. */
export function applyTransform(t: TransformFn, x: Tensor, name: string): Tensor {
  const out = t(x);
  if (!(out instanceof Tensor)) throw new TypeError(`${name} must return a Tensor (got ${describe(out)})`);
  return out;
}

export function indexArg(index: unknown, length: number): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`index must be an integer (got ${describe(index)})`);
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) throw new RangeError(`index ${index} is out of range for a dataset of ${length} samples`);
  return i;
}

/** A new int64 index handle from JS integers (not tracked by any scope). */
export function indexHandle(list: ArrayLike<number>): Handle {
  return native.fromData(Float64Array.from(list), [list.length], dtypeCode('int64'), undefined, false);
}

export interface TensorDatasetOptions {
  /** Batched transform of the inputs (get(i) runs it on a batch of one). */
  transform?: TransformFn;
}

/**
 * Samples are rows of `inputs` and `targets` (PyTorch's TensorDataset(inputs, targets)). The dataset holds
 * its own references to both tensors: disposing the caller's tensors does not free the data, and scopes
 * never dispose them; `dispose()` releases them.
 */
export class TensorDataset<Y extends Target = Tensor> extends Dataset<Y> {
  /** The inputs, samples first (torchvision's `.data`). */
  readonly data: Tensor;
  /** The targets, one per sample (torchvision's `.targets`). */
  readonly targets: Tensor;
  transform: TransformFn | undefined;

  constructor(inputs: Tensor, targets: Tensor, opts: TensorDatasetOptions = {}) {
    super();
    if (!(inputs instanceof Tensor)) throw new TypeError(`inputs must be a Tensor (got ${describe(inputs)})`);
    if (!(targets instanceof Tensor)) throw new TypeError(`targets must be a Tensor (got ${describe(targets)})`);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object (got ${describe(opts)})`);
    if (inputs.ndim < 1 || targets.ndim < 1) throw new RangeError('inputs and targets must have at least one dimension (samples first)');
    if (inputs.shape[0] !== targets.shape[0]) {
      throw new RangeError(`inputs hold ${inputs.shape[0]} samples but targets hold ${targets.shape[0]}; they must match`);
    }
    this.transform = transformArg(opts.transform, 'transform');
    // Own references (detach() is a new handle to the same storage), kept out of every scope.
    this.data = keep(wrap(native.detach(inputs.handle)));
    this.targets = keep(wrap(native.detach(targets.handle)));
  }

  get length(): number {
    return this.data.shape[0];
  }

  /** [inputs, targets], as PyTorch's TensorDataset.tensors. */
  get tensors(): [Tensor, Tensor] {
    return [this.data, this.targets];
  }

  /** Sample i: [inputs[i] (transformed), targets[i]] (a 0-d tensor here; a class number in the vision datasets). */
  get(index: number): [Tensor, Y] {
    const i = indexArg(index, this.length);
    return scope(() => [this.input(i), this.target(i)] as [Tensor, Y]);
  }

  /** @internal */
  protected input(i: number): Tensor {
    const x = this.data.select(0, i);
    return this.transform ? applyTransform(this.transform, x.unsqueeze(0), 'transform').squeeze(0) : x;
  }

  /** @internal */
  protected target(i: number): Y {
    return this.targets.select(0, i) as Y;
  }

  /**
   * The samples at `indices` as one batch [inputs[indices] (transformed), targets[indices]], gathered with
   * one index op each (no per-sample work).
   */
  getBatch(indices: Tensor | number[]): [Tensor, Tensor] {
    let idx: Handle;
    let own = false;
    if (indices instanceof Tensor) idx = indices.handle;
    else if (Array.isArray(indices)) {
      idx = indexHandle(indices.map((v) => indexArg(v, this.length)));
      own = true;
    } else throw new TypeError(`indices must be a Tensor or an array of integers (got ${describe(indices)})`);
    try {
      const [hx, hy] = native.dataGather(this.data.handle, this.targets.handle, idx, undefined, false, false);
      return scope(() => {
        let x = wrap(hx);
        const y = wrap(hy as Handle); // both wrapped before the transform runs: if it throws, the scope disposes both
        if (this.transform) x = applyTransform(this.transform, x, 'transform');
        return [x, y] as [Tensor, Tensor];
      });
    } finally {
      if (own) native.dispose(idx);
    }
  }

  /** @internal */
  [GATHER](): GatherSource | null {
    return { data: this.data.handle, targets: this.targets.handle, map: null, transform: this.transform };
  }

  /** Releases the dataset's references to its tensors. */
  dispose(): void {
    this.data.dispose();
    this.targets.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset). */
export class Subset<Y extends Target = Target> extends Dataset<Y> {
  readonly dataset: Dataset<Y>;
  readonly indices: number[];
  private map: Tensor | null = null; // kept: no scope disposes it; the GC does if dispose() never comes

  constructor(dataset: Dataset<Y>, indices: number[] | Tensor) {
    super();
    if (!(dataset instanceof Dataset)) throw new TypeError(`dataset must be a Dataset (got ${describe(dataset)})`);
    let list: number[];
    if (indices instanceof Tensor) {
      if (indices.ndim !== 1) throw new RangeError(`indices must be 1-D (got shape [${indices.shape.join(', ')}])`);
      list = Array.from(indices.data() as ArrayLike<number | bigint>, Number);
    } else if (Array.isArray(indices)) list = indices.slice();
    else throw new TypeError(`indices must be an array of integers or a Tensor (got ${describe(indices)})`);
    const n = dataset.length;
    list.forEach((v, k) => {
      if (!Number.isInteger(v)) throw new TypeError(`indices[${k}] must be an integer (got ${describe(v)})`);
      if (v < -n || v >= n) throw new RangeError(`indices[${k}] = ${v} is out of range for a dataset of ${n} samples`);
    });
    this.dataset = dataset;
    this.indices = list.map((v) => (v < 0 ? v + n : v));
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): [Tensor, Y] {
    return this.dataset.get(this.indices[indexArg(index, this.length)]);
  }

  /** @internal */
  [GATHER](): GatherSource | null {
    const base = gatherSourceOf(this.dataset);
    if (!base) return null;
    if (this.map === null) {
      const mine = indexHandle(this.indices);
      if (base.map === null) this.map = keep(wrap(mine));
      else {
        try {
          this.map = keep(wrap(native.index(base.map, [mine])));
        } finally {
          native.dispose(mine);
        }
      }
    }
    return { ...base, map: this.map.handle };
  }

  /** Releases the index tensor the DataLoader made for this subset (the dataset is not touched). */
  dispose(): void {
    if (this.map !== null) this.map.dispose();
    this.map = null;
  }
}

/** torch.Generator().manual_seed(seed) for the loader and randomSplit; undefined: the default generator. */
export function generatorFor(seed: unknown, name = 'seed'): NativeGenerator | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`${name} must be a non-negative integer below 2**64 (got ${seed})`);
    return native.dataGenerator(seed);
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new TypeError(`${name} must be a non-negative integer (got ${describe(seed)})`);
  if (seed < 0) throw new RangeError(`${name} must be non-negative (got ${seed})`);
  return native.dataGenerator(seed);
}

/** torch.randperm(n, generator) as JS numbers. */
export function randpermList(n: number, gen: NativeGenerator | undefined): number[] {
  const h = native.dataRandperm(n, gen);
  try {
    return Array.from(native.data(h) as BigInt64Array, Number);
  } finally {
    native.dispose(h);
  }
}

/**
 * Splits a dataset into non-overlapping random subsets (torch.utils.data.random_split): lengths are
 * sizes summing to dataset.length, or fractions summing to 1 (floored, the remainder dealt round-robin).
 * The permutation is torch.randperm(n) from the default generator (torch.manualSeed), or from
 * torch.Generator().manual_seed(seed): the same subsets as PyTorch for the same seed.
 */
export function randomSplit<Y extends Target>(dataset: Dataset<Y>, lengths: number[], opts: { seed?: number | bigint } = {}): Subset<Y>[] {
  if (!(dataset instanceof Dataset)) throw new TypeError(`dataset must be a Dataset (got ${describe(dataset)})`);
  if (!Array.isArray(lengths) || lengths.length === 0) throw new TypeError('lengths must be a non-empty array of numbers');
  lengths.forEach((l, k) => {
    if (typeof l !== 'number' || !Number.isFinite(l) || l < 0)
      throw new RangeError(`lengths[${k}] must be a non-negative number (got ${describe(l)})`);
  });
  const gen = generatorFor(opts.seed);
  const n = dataset.length;
  let sizes = lengths;
  const total = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) <= 1e-9 && total <= 1) {
    lengths.forEach((f, k) => {
      if (f > 1) throw new RangeError(`lengths[${k}]: fraction ${f} is not between 0 and 1`);
    });
    sizes = lengths.map((f) => Math.floor(n * f));
    const remainder = n - sizes.reduce((a, b) => a + b, 0);
    for (let k = 0; k < remainder; k++) sizes[k % sizes.length] += 1;
  }
  sizes.forEach((l, k) => {
    if (!Number.isInteger(l)) throw new TypeError(`lengths[${k}] must be an integer size, or all lengths fractions summing to 1 (got ${l})`);
  });
  if (sizes.reduce((a, b) => a + b, 0) !== n) {
    throw new RangeError(`the lengths sum to ${sizes.reduce((a, b) => a + b, 0)} but the dataset has ${n} samples`);
  }
  const perm = randpermList(n, gen);
  const out: Subset<Y>[] = [];
  let offset = 0;
  for (const l of sizes) {
    out.push(new Subset(dataset, perm.slice(offset, offset + l)));
    offset += l;
  }
  return out;
}
