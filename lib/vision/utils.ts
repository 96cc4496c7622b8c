/**
 * Tensors as pictures, as torchvision.utils: makeGrid (torchvision's make_grid, value for value),
 * saveImage (save_image: PNG, JPEG or WebP through sharp) and toImage (one CHW tensor as a sharp image,
 * as transforms.functional.to_pil_image makes a PIL one).
 *
 *     const grid = torch.vision.utils.makeGrid(featureMaps.unsqueeze(1), { nrow: 8, normalize: true });
 *     await torch.vision.utils.saveImage(batch, 'batch.png', { nrow: 4 });
 */
import type sharp from 'sharp';
import type { Sharp as SharpImage } from 'sharp';
import { Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { full } from '../generated/torch';
import { cat, stack } from '../generated/torch';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { TorchError } from '../core/errors';
import { FLOATING_DTYPES, describe } from '../core/dtype';
import { pathArg, type PathLike } from '../io/serialize';

export interface MakeGridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around the images (default 2). */
  padding?: number;
  /** Shift the values to [0, 1]: by `valueRange`, else by the min and max (of all, or of each with `scaleEach`). */
  normalize?: boolean;
  valueRange?: [number, number] | null;
  scaleEach?: boolean;
  /** The padding's value (default 0). */
  padValue?: number;
}
const GRID_OPTIONS = ['nrow', 'padding', 'normalize', 'valueRange', 'scaleEach', 'padValue'] as const;

function count(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new TypeError(`makeGrid: ${name} must be an integer of at least ${min} (got ${describe(v)})`);
  return v;
}

/**
 * torchvision.utils.make_grid: a batch (B×C×H×W, or an array of C×H×W images, or one C×H×W or H×W image)
 * laid out in rows of `nrow`, as one C×H'×W' tensor. One-channel images become three-channel, as there.
 */
export function makeGrid(images: Tensor | Tensor[], opts?: MakeGridOptions): Tensor {
  const o = optionsArg<MakeGridOptions>(opts, 'makeGrid', GRID_OPTIONS);
  const nrow = count(o.nrow ?? 8, 'nrow', 1);
  const padding = count(o.padding ?? 2, 'padding', 0);
  const range = o.valueRange ?? null;
  if (range !== null && !(Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number'))) {
    throw new TypeError(`makeGrid: valueRange must be [min, max] (got ${describe(range)})`);
  }
  if (Array.isArray(images)) {
    images.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new TypeError(`makeGrid: images[${i}] must be a Tensor (got ${describe(t)})`);
    });
  } else if (!(images instanceof Tensor)) {
    throw new TypeError(`makeGrid: images must be a Tensor or an array of Tensors (got ${describe(images)})`);
  }
  return scope(() =>
    noGrad(() => {
      let t = Array.isArray(images) ? stack(images, 0) : images;
      if (t.dim() === 2) t = t.unsqueeze(0);
      if (t.dim() === 3) {
        if (t.shape[0] === 1) t = cat([t, t, t], 0);
        t = t.unsqueeze(0);
      }
      if (t.dim() !== 4) throw new TypeError(`makeGrid: images must be B×C×H×W, C×H×W or H×W (got ${t.dim()} dims)`);
      if (t.shape[1] === 1) t = cat([t, t, t], 1);
      if (o.normalize === true) {
        t = t.clone();
        const normalizeRange = (img: Tensor): void => {
          const [low, high] = range ?? [img.min().item() as number, img.max().item() as number];
          img.clamp_(low, high);
          img.sub_(low).div_(Math.max(high - low, 1e-5));
        };
        if (o.scaleEach === true) for (let i = 0; i < t.shape[0]; i++) normalizeRange(t.narrow(0, i, 1));
        else normalizeRange(t);
      }
      if (t.shape[0] === 1) return t.squeeze(0);
      const [n, channels, h, w] = t.shape;
      const xmaps = Math.min(nrow, n);
      const ymaps = Math.ceil(n / xmaps);
      const height = h + padding;
      const width = w + padding;
      const grid = full([channels, height * ymaps + padding, width * xmaps + padding], o.padValue ?? 0, { dtype: t.dtype, device: t.device });
      for (let k = 0; k < n; k++) {
        const y = Math.floor(k / xmaps);
        const x = k % xmaps;
        grid
          .narrow(1, y * height + padding, height - padding)
          .narrow(2, x * width + padding, width - padding)
          .copy_(t.select(0, k));
      }
      return grid;
    }),
  );
}

// ---- to pixels, through sharp ----

type Sharp = typeof sharp;
let sharpModule: Sharp | null = null;
function loadSharp(who: string): Sharp {
  if (sharpModule) return sharpModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule = require('sharp') as Sharp;
  } catch (e) {
    throw new TorchError(`${who} needs the sharp package to write images (npm install sharp): ${(e as Error).message.split('\n')[0]}`);
  }
  return sharpModule;
}

interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** The H×W×C bytes of a C×H×W uint8 tensor. */
function pixelsOf(image: Tensor, who: string): Pixels {
  const [channels, height, width] = image.shape;
  if (image.dim() !== 3 || channels < 1 || channels > 4) {
    throw new TypeError(`${who}: the image must be C×H×W with 1 to 4 channels (got shape [${image.shape.join(', ')}])`);
  }
  const data = scope(() => image.permute(1, 2, 0).contiguous().cpu().data() as Uint8Array);
  return { data, width, height, channels: channels as Pixels['channels'] };
}

function sharpOf({ data, width, height, channels }: Pixels, who: string): SharpImage {
  const image = loadSharp(who)(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
  return channels === 1 ? image.toColourspace('b-w') : image; // stays one channel, as PIL's 'L'
}

export interface SaveImageOptions extends MakeGridOptions {
  /** 'png', 'jpeg' or 'webp'; by default from the file's extension. */
  format?: 'png' | 'jpeg' | 'jpg' | 'webp';
}

/**
 * torchvision.utils.save_image: makeGrid of the tensor, its values in [0, 1] scaled to bytes as there
 * (×255, +0.5, clamped, truncated), written as PNG, JPEG or WebP.
 */
export async function saveImage(images: Tensor | Tensor[], file: PathLike, opts: SaveImageOptions = {}): Promise<void> {
  const where = pathArg(file, 'saveImage');
  const { format, ...gridOpts } = optionsArg<SaveImageOptions>(opts, 'saveImage', [...GRID_OPTIONS, 'format']);
  const kind = (format ?? where.split('.').pop() ?? '').toLowerCase();
  if (!['png', 'jpeg', 'jpg', 'webp'].includes(kind)) {
    throw new TypeError(`saveImage: cannot tell the format of ${where}: give a .png, .jpg or .webp name, or { format }`);
  }
  const pixels = scope(() => {
    const grid = makeGrid(images, gridOpts);
    return pixelsOf(
      noGrad(() => grid.mul(255).add_(0.5).clamp_(0, 255).to('uint8')),
      'saveImage',
    );
  });
  const image = sharpOf(pixels, 'saveImage');
  const encoded = kind === 'png' ? image.png() : kind === 'webp' ? image.webp() : image.jpeg();
  await encoded.toFile(where);
}

/**
 * One image tensor as a sharp image (then .png().toFile(path), .toBuffer(), resize…), as
 * torchvision's to_pil_image: C×H×W (or H×W) with 1, 3 or 4 channels; float values in [0, 1] become
 * bytes as there (×255, truncated), uint8 is taken as it is.
 */
export function toImage(image: Tensor): SharpImage {
  if (!(image instanceof Tensor)) throw new TypeError(`toImage: image must be a Tensor (got ${describe(image)})`);
  const pixels = scope(() => {
    const chw = image.dim() === 2 ? image.unsqueeze(0) : image;
    if (chw.dim() !== 3 || ![1, 3, 4].includes(chw.shape[0])) {
      throw new TypeError(`toImage: the image must be H×W or C×H×W with 1, 3 or 4 channels (got shape [${image.shape.join(', ')}])`);
    }
    if (chw.dtype === 'uint8') return pixelsOf(chw, 'toImage');
    if (!FLOATING_DTYPES.has(chw.dtype)) {
      throw new TypeError(`toImage: the image must be floating point (values in [0, 1]) or uint8 (got ${chw.dtype})`);
    }
    return pixelsOf(
      noGrad(() => chw.mul(255).to('uint8')),
      'toImage',
    );
  });
  return sharpOf(pixels, 'toImage');
}
