/** Deterministic random images and labels, for benchmarks and tests that need no files. */
import { wrap } from '../../core/tensor';
import { describe } from '../../core/dtype';
import { native } from '../native';
import { transformArg, type TransformFn } from '../dataset';
import { VisionDataset } from './vision';

export interface SyntheticOptions {
  /** Number of samples. */
  size: number;
  /** Shape of one image, channels first (default [3, 32, 32], CIFAR's). */
  shape?: number[];
  /** Labels are 0 … numClasses − 1 (default 10). */
  numClasses?: number;
  /** The same seed gives the same data (default 0). */
  seed?: number;
  transform?: TransformFn;
}

/**
 * `size` uint8 images of `shape` and int64 labels, drawn from torch.Generator().manual_seed(seed) exactly as
 *
 *     g = torch.Generator().manual_seed(seed)
 *     data = torch.randint(0, 256, (size, *shape), generator=g, dtype=torch.uint8)
 *     targets = torch.randint(0, num_classes, (size,), generator=g)
 *
 * so Python can make the same set. The global generator (torch.manualSeed) is not touched.
 */
export class SyntheticDataset extends VisionDataset {
  readonly seed: number;

  constructor(opts: SyntheticOptions) {
    if (opts === null || typeof opts !== 'object')
      throw new TypeError(`SyntheticDataset: options must be an object like {size, shape, numClasses, seed} (got ${describe(opts)})`);
    const { size, shape = [3, 32, 32], numClasses = 10, seed = 0 } = opts;
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) throw new TypeError(`size must be an integer (got ${describe(size)})`);
    if (size < 0) throw new RangeError(`size must be non-negative (got ${size})`);
    if (!Array.isArray(shape)) throw new TypeError(`shape must be an array of integers (got ${describe(shape)})`);
    shape.forEach((s, k) => {
      if (typeof s !== 'number' || !Number.isSafeInteger(s)) throw new TypeError(`shape[${k}] must be an integer (got ${describe(s)})`);
      if (s <= 0) throw new RangeError(`shape[${k}] must be positive (got ${s})`);
    });
    if (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses))
      throw new TypeError(`numClasses must be an integer (got ${describe(numClasses)})`);
    if (numClasses < 1) throw new RangeError(`numClasses must be at least 1 (got ${numClasses})`);
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new TypeError(`seed must be an integer (got ${describe(seed)})`);
    if (seed < 0) throw new RangeError(`seed must be non-negative (got ${seed})`);
    const transform = transformArg(opts.transform, 'transform');
    const [hx, hy] = native.dataSynthetic(size, shape, numClasses, seed);
    const data = wrap(hx);
    const targets = wrap(hy);
    try {
      super(
        data,
        targets,
        Array.from({ length: numClasses }, (_, k) => String(k)),
        { transform },
      );
    } finally {
      data.dispose();
      targets.dispose();
    }
    this.seed = seed;
  }
}
