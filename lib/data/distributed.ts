/**
 * DistributedSampler, as torch.utils.data.distributed.DistributedSampler: each rank's share of a
 * dataset, for a DataLoader's `sampler` option. Every rank draws the same permutation (from
 * torch.Generator().manual_seed(seed + epoch), so the same indices as PyTorch), pads it to a multiple
 * of numReplicas with its own first indices (or drops the tail with dropLast), and takes every
 * numReplicas-th index starting at its rank.
 *
 *     const sampler = new torch.data.DistributedSampler(train, { shuffle: true, seed: 0 });
 *     const loader = new torch.data.DataLoader(train, { batchSize: 64, sampler });
 *     for (let epoch = 0; epoch < epochs; epoch++) {
 *       sampler.setEpoch(epoch);          // a new order each epoch (the Trainer does this itself)
 *       for await (const [x, y] of loader) { ... }
 *     }
 */
import { describe } from '../core/dtype';
import { getRank, getWorldSize, isInitialized } from '../distributed';
import { native } from './native';
import { randpermList } from './dataset';

/** What a DataLoader's `sampler` option takes: dataset indices in order, and how many. */
export interface Sampler extends Iterable<number> {
  readonly length: number;
}

export interface DistributedSamplerOptions {
  /** Number of processes sharing the dataset (default: the default group's world size). */
  numReplicas?: number;
  /** This process's rank among them (default: its rank in the default group). */
  rank?: number;
  /** A new random order every epoch (default true). */
  shuffle?: boolean;
  /** Base seed of the order; the same on every rank (default 0). */
  seed?: number;
  /** Drop the tail so every rank gets the same number of samples without padding (default false). */
  dropLast?: boolean;
}

export class DistributedSampler implements Sampler {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** This rank's number of samples per epoch. */
  readonly numSamples: number;
  /** numSamples × numReplicas: the padded (or cut) size of the permutation. */
  readonly totalSize: number;
  epoch = 0;
  private readonly datasetLength: number;

  constructor(dataset: { readonly length: number }, opts: DistributedSamplerOptions = {}) {
    const n = dataset?.length;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new TypeError(`DistributedSampler: dataset must have a length (got ${describe(dataset)})`);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`DistributedSampler: options must be an object (got ${describe(opts)})`);
    const needGroup = opts.numReplicas === undefined || opts.rank === undefined;
    if (needGroup && !isInitialized()) {
      throw new TypeError('DistributedSampler: give numReplicas and rank, or call torch.distributed.initProcessGroup first');
    }
    this.numReplicas = opts.numReplicas ?? getWorldSize();
    this.rank = opts.rank ?? getRank();
    if (!Number.isSafeInteger(this.numReplicas) || this.numReplicas < 1) {
      throw new RangeError(`DistributedSampler: numReplicas must be a positive integer (got ${describe(opts.numReplicas)})`);
    }
    if (!Number.isSafeInteger(this.rank) || this.rank < 0 || this.rank >= this.numReplicas) {
      throw new RangeError(`Invalid rank ${describe(this.rank)}, rank should be in the interval [0, ${this.numReplicas - 1}]`);
    }
    this.shuffle = flag(opts.shuffle, true, 'shuffle');
    this.dropLast = flag(opts.dropLast, false, 'dropLast');
    this.seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(this.seed) || this.seed < 0)
      throw new RangeError(`DistributedSampler: seed must be a non-negative integer (got ${describe(opts.seed)})`);
    this.datasetLength = n;
    this.numSamples =
      this.dropLast && n % this.numReplicas !== 0 ? Math.ceil((n - this.numReplicas) / this.numReplicas) : Math.ceil(n / this.numReplicas);
    this.totalSize = this.numSamples * this.numReplicas;
  }

  /** The epoch whose order the next iteration uses: call it before each epoch, with the same value on every rank. */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`setEpoch: epoch must be a non-negative integer (got ${describe(epoch)})`);
    this.epoch = epoch;
  }

  get length(): number {
    return this.numSamples;
  }

  /** This rank's dataset indices for the current epoch. */
  indices(): number[] {
    const n = this.datasetLength;
    let indices = this.shuffle ? randpermList(n, native.dataGenerator(this.seed + this.epoch)) : Array.from({ length: n }, (_, i) => i);
    if (!this.dropLast) {
      const padding = this.totalSize - indices.length;
      if (padding > 0 && indices.length > 0) {
        const repeated: number[] = [];
        while (repeated.length < padding) repeated.push(...indices);
        indices = indices.concat(repeated.slice(0, padding));
      }
    } else {
      indices = indices.slice(0, this.totalSize);
    }
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(indices[i]);
    return mine;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}

function flag(v: unknown, fallback: boolean, name: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`DistributedSampler: ${name} must be a boolean (got ${describe(v)})`);
  return v;
}
