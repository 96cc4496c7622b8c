/**
 * ImageFolder, as torchvision's: root/<class>/…/<image>, one subfolder per class, classes sorted by
 * name, files sorted within each class. Images (PNG, JPEG, WebP, TIFF) are decoded with sharp, resized to
 * one size and held in memory as one uint8 tensor [N, C, H, W].
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../native';
import { wrap, type Tensor } from '../../core/tensor';
import { scope } from '../../core/scope';
import { dtypeCode, describe } from '../../core/dtype';
import { DataFileError } from '../errors';
import { transformArg, type TransformFn } from '../dataset';
import { VisionDataset } from './vision';
import { rootArg } from './files';

export interface ImageFolderOptions {
  /** The folder with one subfolder per class. */
  root: string;
  /** Every image is resized to this (a number: square; [height, width]), stretched as torchvision's
   * Resize((h, w)) does a uint8 image tensor (bilinear, antialias). Without it every image must already have
   * the first image's size. */
  size?: number | [number, number];
  /** 3 (RGB, the default: grayscale is replicated and alpha dropped, as PIL's convert('RGB')) or 1 (PIL's
   * convert('L') luma, as torchvision's Grayscale). */
  channels?: number;
  /** File extensions that count as images (case-insensitive). */
  extensions?: string[];
  /** Batched transform of the inputs. */
  transform?: TransformFn;
  /** How many images are decoded at once (sharp decodes off the JS thread); default the CPU count. */
  concurrency?: number;
}

export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

type Sharp = (
  input: string | Buffer,
  opts?: { raw: { width: number; height: number; channels: number } },
) => {
  removeAlpha(): ReturnType<Sharp>;
  toColourspace(space: string): ReturnType<Sharp>;
  raw(): ReturnType<Sharp>;
  toBuffer(opts: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
};

let sharpModule: Sharp | null = null;
function loadSharp(): Sharp {
  if (sharpModule) return sharpModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: most datasets need no image decoder
    sharpModule = require('sharp') as Sharp;
  } catch (e) {
    throw new DataFileError(
      `ImageFolder needs the sharp package to decode images (npm install sharp): ${(e as Error).message.split('\n')[0]}`,
      'sharp',
    );
  }
  return sharpModule;
}

const TOKEN: unique symbol = Symbol('ImageFolder');

interface Loaded {
  data: Uint8Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  targets: Float64Array;
  classes: string[];
  samples: [string, number][];
}

/** Python's order of str (by code point); JS's default sort goes by UTF-16 unit, which differs above U+FFFF. */
function byCodePoint(a: string, b: string): number {
  const [ia, ib] = [a[Symbol.iterator](), b[Symbol.iterator]()];
  for (;;) {
    const [x, y] = [ia.next(), ib.next()];
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

// A directory, or a link to one (os.walk's followlinks); a dangling link is neither, as is_dir() says.
function isDir(e: fs.Dirent, full: string): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return fs.statSync(full).isDirectory();
  } catch {
    return false;
  }
}

function readDir(d: string): fs.Dirent[] {
  try {
    return fs.readdirSync(d, { withFileTypes: true });
  } catch (e) {
    throw new DataFileError(`ImageFolder: cannot read the folder ${d}: ${(e as Error).message}`, d);
  }
}

/** The class folders of root, as torchvision's find_classes: sorted subfolder names (links to folders too). */
export function findClasses(root: string): string[] {
  return readDir(root)
    .filter((e) => isDir(e, path.join(root, e.name)))
    .map((e) => e.name)
    .sort(byCodePoint);
}

function listFiles(dir: string, exts: Set<string>): string[] {
  // torchvision: for root, _, fnames in sorted(os.walk(dir, followlinks=True)): for fname in sorted(fnames).
  // sorted() orders whole folder paths, so 'x-z' and 'x.y' come before 'x/y'.
  const folders: [string, string[]][] = [];
  const walk = (d: string): void => {
    const files: string[] = [];
    const subdirs: string[] = [];
    for (const e of readDir(d)) {
      const full = path.join(d, e.name);
      if (isDir(e, full)) subdirs.push(full);
      else if (exts.has(path.extname(e.name).toLowerCase())) files.push(e.name);
    }
    folders.push([d, files.sort(byCodePoint)]);
    for (const s of subdirs) walk(s);
  };
  walk(dir);
  folders.sort(([a], [b]) => byCodePoint(a, b));
  return folders.flatMap(([d, files]) => files.map((f) => path.join(d, f)));
}

function sizeArg(size: unknown): [number, number] | null {
  if (size === undefined || size === null) return null;
  const hw = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(hw) || hw.length !== 2 || !hw.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) {
    throw new TypeError(`size must be an integer or [height, width] (got ${describe(size)})`);
  }
  if (hw[0] <= 0 || hw[1] <= 0) throw new RangeError(`size must be positive (got [${hw.join(', ')}])`);
  return hw as [number, number];
}

/**
 * torchvision's ImageFolder, decoded up front: `await ImageFolder.load({root, size})`. `classes` are the
 * subfolder names sorted, `classToIdx` maps them to indices, `samples` lists [path, class] in dataset
 * order, `data` is uint8 [N, C, H, W] and `targets` int64 [N].
 */
export class ImageFolder extends VisionDataset {
  readonly root: string;
  /** [file path, class index] per sample (torchvision's samples / imgs). */
  readonly samples: [string, number][];

  /** @internal Use `await ImageFolder.load(opts)`: decoding is asynchronous. */
  constructor(opts: ImageFolderOptions, token?: unknown) {
    const loaded = (token as { [TOKEN]?: Loaded } | undefined)?.[TOKEN];
    if (!loaded) throw new TypeError('ImageFolder: use `await ImageFolder.load({root, size})` (images are decoded asynchronously)');
    const data = wrap(native.fromData(loaded.data, [loaded.n, loaded.height, loaded.width, loaded.channels], dtypeCode('uint8'), undefined, false));
    const nchw = data.permute(0, 3, 1, 2).contiguous();
    const targets = wrap(native.fromData(loaded.targets, [loaded.n], dtypeCode('int64'), undefined, false));
    data.dispose();
    try {
      super(nchw, targets, loaded.classes, { transform: transformArg(opts.transform, 'transform') });
    } finally {
      nchw.dispose();
      targets.dispose();
    }
    this.root = path.resolve(opts.root);
    this.samples = loaded.samples;
  }

  /** torchvision's other name for samples. */
  get imgs(): [string, number][] {
    return this.samples;
  }

  static async load(opts: ImageFolderOptions): Promise<ImageFolder> {
    if (opts === null || typeof opts !== 'object')
      throw new TypeError(`ImageFolder: options must be an object like {root, size} (got ${describe(opts)})`);
    const root = rootArg('ImageFolder', opts.root);
    const size = sizeArg(opts.size);
    const channels = opts.channels ?? 3;
    if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3 (got ${describe(channels)})`);
    const extList = opts.extensions ?? IMG_EXTENSIONS;
    if (!Array.isArray(extList) || !extList.every((e) => typeof e === 'string'))
      throw new TypeError('extensions must be an array of strings like [".png"]');
    const exts = new Set(extList.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
    const concurrency = opts.concurrency ?? Math.max(1, os.cpus().length);
    if (!Number.isSafeInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer (got ${describe(concurrency)})`);
    transformArg(opts.transform, 'transform');

    const classes = findClasses(root);
    if (classes.length === 0) throw new DataFileError(`ImageFolder: no class folders found in ${root}`, root);
    const samples: [string, number][] = [];
    const empty: string[] = [];
    classes.forEach((c, k) => {
      const found = listFiles(path.join(root, c), exts);
      if (found.length === 0) empty.push(c);
      for (const f of found) samples.push([f, k]);
    });
    if (empty.length > 0) {
      throw new DataFileError(
        `ImageFolder: found no valid file for the classes ${empty.join(', ')} in ${root}. ` + `Supported extensions are: ${[...exts].join(', ')}`,
        path.join(root, empty[0]),
      );
    }

    loadSharp();
    const n = samples.length;
    const decode = (file: string) => decodeImage(file, size, channels);
    // The first image fixes the size when none is given; the rest are decoded `concurrency` at a time.
    const first = await decode(samples[0][0]);
    const [height, width] = size ?? [first.height, first.width];
    const data = new Uint8Array(n * height * width * channels);
    const place = (k: number, img: { data: Buffer; width: number; height: number }): void => {
      if (img.height !== height || img.width !== width) {
        throw new DataFileError(
          `ImageFolder: ${samples[k][0]} is ${img.width}×${img.height} but the first image is ${width}×${height}; ` +
            'pass size to resize every image',
          samples[k][0],
        );
      }
      data.set(img.data, k * img.data.length);
    };
    place(0, first);
    let next = 1;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < n) {
        const k = next++;
        try {
          place(k, await decode(samples[k][0]));
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    const loaded: Loaded = {
      data,
      n,
      channels,
      height,
      width,
      classes,
      samples,
      targets: Float64Array.from(samples, (s) => s[1]),
    };
    return new ImageFolder(opts, { [TOKEN]: loaded });
  }
}

/**
 * Decodes one image file to raw interleaved bytes (HWC), resized to hw when given, as torchvision's
 * ImageFolder + Resize((h, w)) make it: sharp decodes to RGB without alpha (PIL's convert('RGB')); gray is
 * PIL's convert('L') luma; the resize is torchvision's on a uint8 tensor (bilinear, antialias), run by LibTorch.
 */
export async function decodeImage(
  file: string,
  hw: [number, number] | null,
  channels: 1 | 3,
): Promise<{ data: Buffer; width: number; height: number }> {
  const sharp = loadSharp();
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataFileError(`cannot decode image ${file} (${(e as Error).message})`, file);
  }
  const { info } = decoded;
  if (info.channels !== 3) throw new DataFileError(`cannot decode image ${file} (decoded ${info.channels} channels, expected 3)`, file);
  const data = channels === 3 ? decoded.data : luma(decoded.data);
  if (!hw || (info.height === hw[0] && info.width === hw[1])) return { data, width: info.width, height: info.height };
  return { data: resizeHWC(data, info.height, info.width, channels, hw), width: hw[1], height: hw[0] };
}

// PIL's convert('L') of 8-bit RGB: (R·19595 + G·38470 + B·7471 + 2^15) >> 16, ITU-R 601-2 luma.
function luma(rgb: Buffer): Buffer {
  const out = Buffer.alloc(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = (rgb[3 * i] * 19595 + rgb[3 * i + 1] * 38470 + rgb[3 * i + 2] * 7471 + 0x8000) >>> 16;
  return out;
}

// torchvision's resize of a uint8 CHW tensor: F.interpolate(bilinear, align_corners=False, antialias=True).
function resizeHWC(data: Buffer, height: number, width: number, channels: number, hw: [number, number]): Buffer {
  return scope(() => {
    const img = wrap(native.fromData(data, [1, height, width, channels], dtypeCode('uint8'), undefined, false)).permute(0, 3, 1, 2);
    const out = wrap(native.interpolate(img.contiguous().handle, hw, 'bilinear', false, true));
    const bytes = out.permute(0, 2, 3, 1).contiguous().data() as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });
}

/**
 * One image file as a uint8 tensor [C, H, W] (C = channels, 3 by default), resized to size when given:
 * what an ImageFolder sample is, for predicting on a single file.
 */
export async function readImage(file: string, opts: { size?: number | [number, number]; channels?: number } = {}): Promise<Tensor> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`readImage: file must be a path (got ${describe(file)})`);
  if (opts === null || typeof opts !== 'object') throw new TypeError(`readImage: options must be an object (got ${describe(opts)})`);
  const channels = opts.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3 (got ${describe(channels)})`);
  if (!fs.existsSync(file)) throw new DataFileError(`readImage: ${file} does not exist`, file);
  const img = await decodeImage(file, sizeArg(opts.size), channels);
  return scope(() =>
    wrap(native.fromData(img.data, [img.height, img.width, channels], dtypeCode('uint8'), undefined, false))
      .permute(2, 0, 1)
      .contiguous(),
  );
}
