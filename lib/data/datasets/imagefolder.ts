/**
 * ImageFolder, as torchvision's: root/<class>/…/<image>, one subfolder per class, classes sorted by
 * name, files sorted within each class. Images (PNG, JPEG, WebP, TIFF) are decoded with sharp, resized to
 * one size and held in memory as one uint8 tensor [N, C, H, W].
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../native';
import { wrap, type Tensor } from '../../tensor';
import { scope } from '../../scope';
import { dtypeCode, describe } from '../../dtype';
import { DataFileError } from '../errors';
import { transformArg, type TransformFn } from '../dataset';
import { VisionDataset } from './vision';
import { rootArg } from './files';

export interface ImageFolderOptions {
  /** The folder with one subfolder per class. */
  root: string;
  /** Every image is resized to this (a number: square; [height, width]), stretched (bilinear) as
   * torchvision's Resize((h, w)) does. Without it every image must already have the first image's size. */
  size?: number | [number, number];
  /** 3 (RGB, the default: grayscale is replicated and alpha dropped, as PIL's convert('RGB')) or 1 (grayscale). */
  channels?: number;
  /** File extensions that count as images (case-insensitive). */
  extensions?: string[];
  /** Batched transform of the inputs. */
  transform?: TransformFn;
  /** How many images are decoded at once (sharp decodes off the JS thread); default the CPU count. */
  concurrency?: number;
}

export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

type Sharp = (input: string | Buffer, opts?: { raw: { width: number; height: number; channels: number } }) => {
  resize(width: number, height: number, opts: { fit: string; kernel: string }): ReturnType<Sharp>;
  removeAlpha(): ReturnType<Sharp>;
  toColourspace(space: string): ReturnType<Sharp>;
  raw(): ReturnType<Sharp>;
  toBuffer(opts: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
};

let sharpModule: Sharp | null = null;
function loadSharp(): Sharp {
  if (sharpModule) return sharpModule;
  try {
    sharpModule = require('sharp') as Sharp;
  } catch (e) {
    throw new DataFileError(`ImageFolder needs the sharp package to decode images (npm install sharp): ${(e as Error).message.split('\n')[0]}`, 'sharp');
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

function listFiles(dir: string, exts: Set<string>): string[] {
  // sorted(os.walk(dir)): folders in path order, the files of each folder sorted by name.
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    const files = entries.filter((e) => !e.isDirectory() && exts.has(path.extname(e.name).toLowerCase())).map((e) => e.name).sort();
    for (const f of files) out.push(path.join(d, f));
    const subdirs = entries.filter((e) => e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(d, e.name)).isDirectory()))
      .map((e) => e.name).sort();
    for (const s of subdirs) walk(path.join(d, s));
  };
  walk(dir);
  return out;
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
    if (opts === null || typeof opts !== 'object') throw new TypeError(`ImageFolder: options must be an object like {root, size} (got ${describe(opts)})`);
    const root = rootArg('ImageFolder', opts.root);
    const size = sizeArg(opts.size);
    const channels = opts.channels ?? 3;
    if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3 (got ${describe(channels)})`);
    const extList = opts.extensions ?? IMG_EXTENSIONS;
    if (!Array.isArray(extList) || !extList.every((e) => typeof e === 'string')) throw new TypeError('extensions must be an array of strings like [".png"]');
    const exts = new Set(extList.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
    const concurrency = opts.concurrency ?? Math.max(1, os.cpus().length);
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer (got ${describe(concurrency)})`);
    transformArg(opts.transform, 'transform');

    const classes = fs.readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(root, e.name)).isDirectory()))
      .map((e) => e.name).sort();
    if (classes.length === 0) throw new DataFileError(`ImageFolder: no class folders found in ${root}`, root);
    const samples: [string, number][] = [];
    const empty: string[] = [];
    classes.forEach((c, k) => {
      const found = listFiles(path.join(root, c), exts);
      if (found.length === 0) empty.push(c);
      for (const f of found) samples.push([f, k]);
    });
    if (empty.length > 0) {
      throw new DataFileError(`ImageFolder: found no valid file for the classes ${empty.join(', ')} in ${root}. ` +
        `Supported extensions are: ${[...exts].join(', ')}`, path.join(root, empty[0]));
    }

    loadSharp();
    const n = samples.length;
    let hw = size;
    let data: Uint8Array | null = null;
    const decode = (file: string) => decodeImage(file, size, channels);
    // The first image fixes the size when none is given; the rest are decoded `concurrency` at a time.
    const place = (k: number, img: { data: Buffer; width: number; height: number }): void => {
      if (!hw) hw = [img.height, img.width];
      if (img.height !== hw[0] || img.width !== hw[1]) {
        throw new DataFileError(`ImageFolder: ${samples[k][0]} is ${img.width}×${img.height} but the first image is ${hw[1]}×${hw[0]}; ` +
          'pass size to resize every image', samples[k][0]);
      }
      data ??= new Uint8Array(n * hw[0] * hw[1] * channels);
      data.set(img.data, k * img.data.length);
    };
    place(0, await decode(samples[0][0]));
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
    const [height, width] = hw as unknown as [number, number];
    const loaded: Loaded = {
      data: data as unknown as Uint8Array, n, channels, height, width, classes, samples,
      targets: Float64Array.from(samples, (s) => s[1]),
    };
    return new ImageFolder(opts, { [TOKEN]: loaded });
  }
}

/** Decodes one image file with sharp to raw interleaved bytes (HWC), resized to hw when given. */
export async function decodeImage(file: string, hw: [number, number] | null, channels: 1 | 3): Promise<{ data: Buffer; width: number; height: number }> {
  const sharp = loadSharp();
  try {
    // First to RGB (or grayscale) without alpha, as PIL's convert('RGB'), then resize those pixels:
    // sharp resizing an image with alpha would premultiply it first.
    const space = channels === 3 ? 'srgb' : 'b-w';
    const decoded = await sharp(file).removeAlpha().toColourspace(space).raw().toBuffer({ resolveWithObject: true });
    let { data, info } = decoded;
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
    if (hw && (info.height !== hw[0] || info.width !== hw[1])) {
      ({ data, info } = await sharp(data, { raw: { width: info.width, height: info.height, channels } })
        .resize(hw[1], hw[0], { fit: 'fill', kernel: 'linear' }).toColourspace(space).raw().toBuffer({ resolveWithObject: true }));
      if (info.channels !== channels) throw new Error(`resized to ${info.channels} channels, expected ${channels}`);
    }
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw new DataFileError(`cannot decode image ${file} (${(e as Error).message})`, file);
  }
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
  return scope(() => wrap(native.fromData(img.data, [img.height, img.width, channels], dtypeCode('uint8'), undefined, false)).permute(2, 0, 1).contiguous());
}
