/**
 * Batched image transforms, as torchvision.transforms names them, working on a whole batch [N, C, H, W]
 * (or one image [C, H, W]) with torch ops on the batch's own device: no per-pixel JavaScript. Random
 * transforms draw per sample from torch's generator on that device, so torch.manualSeed makes them
 * reproducible.
 *
 *     const { Compose, ToTensor, RandomCrop, RandomHorizontalFlip, Normalize } = torch.data.transforms;
 *     const train = Compose([ToTensor(), RandomCrop(32, { padding: 4 }), RandomHorizontalFlip(),
 *       Normalize([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])]);
 *     const x = train(batch); // a transform is a function of a batch
 *
 * As torchvision's v2 transforms, each one is an nn.Module (no parameters or buffers): it goes into an
 * nn.Sequential before a model, takes forward hooks, and Compose holds its steps as submodules '0', '1', ….
 * The base forward checks the input and runs the subclass's transform(x) in a scope. Each transform can
 * be made with or without `new`. Every intermediate tensor is disposed: only the result is new.
 */
import { Tensor } from '../core/tensor';
import { keep, scope } from '../core/scope';
import { describe, FLOATING_DTYPES } from '../core/dtype';
import { tensor } from '../core/creation';
import { arange, rand, randint } from '../generated/torch';
import { where } from '../generated/torch';
import { pad } from '../nn/functional';
import { Module, type AnyModule } from '../nn/module';

/** A transform is callable on a batch: `t(x)`. */
export interface Transform {
  (x: Tensor): Tensor;
}

/**
 * The base of the transforms, an nn.Module as torchvision's v2 Transform: subclasses implement
 * transform(x); forward(x) checks that x is a Tensor and runs transform(x) in a scope, so calling the
 * transform (`t(x)`, which also runs its forward hooks) frees every intermediate.
 *
 * Errors raised inside a call are prefixed by Module's call with the transform's name, or its path
 * within a Compose or Sequential ('3 (Normalize): …'), as a layer's are. A forward hook on a step of a
 * Compose runs inside the Compose's scope: the intermediates it sees are freed when the Compose returns,
 * so a hook that holds on to one keep()s it.
 */
export abstract class Transform extends Module {
  override forward(x: Tensor): Tensor {
    if (!((x as unknown) instanceof Tensor)) throw new TypeError(`input must be a Tensor (got ${describe(x)})`);
    return scope(() => this.transform(x));
  }

  /** The transform of a batch [N, C, H, W] or one image [C, H, W]. Call the transform itself (`t(x)`) to free intermediates. */
  abstract transform(x: Tensor): Tensor;
}

/** A class that can also be called without `new`, as torchvision's transforms are in Python. */
type Newless<C extends new (...args: never[]) => unknown> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);
function newless<C extends new (...args: never[]) => unknown>(cls: C): Newless<C> {
  return new Proxy(cls, { apply: (target, _this, args) => Reflect.construct(target, args) }) as Newless<C>;
}

function numberList(v: unknown, name: string): number[] {
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${name} must be a number or a non-empty array of numbers (got ${describe(v)})`);
  list.forEach((x, k) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new TypeError(`${name}[${k}] must be a finite number (got ${describe(x)})`);
  });
  return list as number[];
}

function checkImage(x: Tensor): void {
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RangeError(`expected a batch [N, C, H, W] or an image [C, H, W] (got shape [${x.shape.join(', ')}])`);
  }
}

/** Runs f on x as a batch: an image [C, H, W] goes in as [1, C, H, W] and comes back as [C, H, W]. */
function batched(x: Tensor, f: (b: Tensor) => Tensor): Tensor {
  return x.ndim === 3 ? f(x.unsqueeze(0)).squeeze(0) : f(x);
}

// ---- ToTensor ----

const CHANNELS = new Set([1, 3, 4]);

class ToTensorT extends Transform {
  readonly channelsLast: boolean | undefined;
  /**
   * uint8 images (0–255) → float32 in [0, 1] (x / 255), as torchvision's ToTensor; floating-point input
   * is not scaled. Channels-last input (NHWC, HWC) is permuted to channels-first: `channelsLast`
   * says which layout the input has; left out, it is [.., H, W, C] when the last dim is 1, 3 or 4 and
   * the channel dim is not (a [H, W] image becomes [1, H, W]).
   */
  constructor(opts: { channelsLast?: boolean } = {}) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`ToTensor: options must be an object (got ${describe(opts)})`);
    if (opts.channelsLast !== undefined && typeof opts.channelsLast !== 'boolean') {
      throw new TypeError(`channelsLast must be a boolean (got ${describe(opts.channelsLast)})`);
    }
    this.channelsLast = opts.channelsLast;
  }

  transform(x: Tensor): Tensor {
    let t = x;
    if (t.ndim === 2) t = t.unsqueeze(0);
    checkImage(t);
    const s = t.shape;
    const last = this.channelsLast ?? (CHANNELS.has(s[s.length - 1]) && !CHANNELS.has(s[s.length - 3]));
    if (last) t = (t.ndim === 4 ? t.permute(0, 3, 1, 2) : t.permute(2, 0, 1)).contiguous();
    const dtype = t.dtype;
    if (dtype === 'uint8') return t.to('float32').div(255);
    if (FLOATING_DTYPES.has(dtype)) return t;
    throw new TypeError(`expected uint8 images (0–255) or floating-point ones (got ${dtype})`);
  }

  override extraRepr(): string {
    return this.channelsLast === undefined ? '' : `channelsLast=${this.channelsLast}`;
  }
}

// ---- Normalize ----

// Each Normalize's cached [mean, std] tensors by `${dtype}@${device}`: kept outside the module, so they are
// not attributes (not in stateDict(), not shared by a deepcopy) and go with the Normalize when it is collected.
const normalizeCache = new WeakMap<NormalizeT, Map<string, [Tensor, Tensor]>>();

class NormalizeT extends Transform {
  readonly mean: number[];
  readonly std: number[];
  readonly inplace: boolean;

  /** (x − mean[c]) / std[c] per channel, as torchvision's Normalize; the input must be floating point. */
  constructor(mean: number[] | number, std: number[] | number, opts: { inplace?: boolean } = {}) {
    super();
    this.mean = numberList(mean, 'mean').slice();
    this.std = numberList(std, 'std').slice();
    if (this.mean.length !== this.std.length && this.mean.length !== 1 && this.std.length !== 1) {
      throw new RangeError(`mean has ${this.mean.length} values but std has ${this.std.length}`);
    }
    const zero = this.std.findIndex((v) => v === 0);
    if (zero >= 0) throw new RangeError(`std[${zero}] is 0, which would divide by zero`);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`Normalize: options must be an object (got ${describe(opts)})`);
    if (opts.inplace !== undefined && typeof opts.inplace !== 'boolean')
      throw new TypeError(`inplace must be a boolean (got ${describe(opts.inplace)})`);
    this.inplace = opts.inplace ?? false;
  }

  // mean and std as [C, 1, 1] tensors of the batch's dtype on its device, made once per (dtype, device):
  // a fresh host-to-device copy per batch would synchronise a CUDA pipeline.
  private constants(x: Tensor): [Tensor, Tensor] {
    let cache = normalizeCache.get(this);
    if (!cache) normalizeCache.set(this, (cache = new Map()));
    const key = `${x.dtype}@${x.device}`;
    let c = cache.get(key);
    if (!c) {
      const opts = { dtype: x.dtype, device: x.device };
      c = [keep(tensor(Float64Array.from(this.mean), opts).view(-1, 1, 1)), keep(tensor(Float64Array.from(this.std), opts).view(-1, 1, 1))];
      cache.set(key, c);
    }
    return c;
  }

  transform(x: Tensor): Tensor {
    checkImage(x);
    if (!FLOATING_DTYPES.has(x.dtype)) throw new TypeError(`input must be a floating-point tensor (got ${x.dtype}); apply ToTensor() first`);
    const c = x.shape[x.ndim - 3];
    for (const [name, v] of [
      ['mean', this.mean],
      ['std', this.std],
    ] as const) {
      if (v.length !== 1 && v.length !== c) throw new RangeError(`${name} has ${v.length} values but the input has ${c} channels`);
    }
    const [mean, std] = this.constants(x);
    return this.inplace ? x.sub_(mean).div_(std) : x.sub(mean).div(std);
  }

  /** Releases the cached mean and std tensors. */
  dispose(): void {
    const cache = normalizeCache.get(this);
    if (!cache) return;
    for (const [m, s] of cache.values()) {
      m.dispose();
      s.dispose();
    }
    cache.clear();
  }

  override extraRepr(): string {
    return `mean=[${this.mean.join(', ')}], std=[${this.std.join(', ')}]`;
  }
}

// ---- RandomCrop ----

const PADDING_MODES: Record<string, string> = { constant: 'constant', edge: 'replicate', reflect: 'reflect', circular: 'circular' };

export interface RandomCropOptions {
  /** Padding before cropping: all sides, [left/right, top/bottom] or [left, top, right, bottom]. */
  padding?: number | number[];
  /** Pads an image smaller than the crop up to it (by the shortfall on each side, as torchvision). */
  padIfNeeded?: boolean;
  /** The value of constant padding (default 0). */
  fill?: number;
  /** 'constant' (default), 'edge', 'reflect' or 'circular'. */
  paddingMode?: 'constant' | 'edge' | 'reflect' | 'circular';
}

function sizePair(size: unknown, name: string): [number, number] {
  const hw = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(hw) || hw.length < 1 || hw.length > 2 || !hw.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) {
    throw new TypeError(`${name} must be an integer or [height, width] (got ${describe(size)})`);
  }
  const pair = (hw.length === 1 ? [hw[0], hw[0]] : hw) as [number, number];
  if (pair[0] <= 0 || pair[1] <= 0) throw new RangeError(`${name} must be positive (got [${pair.join(', ')}])`);
  return pair;
}

/** torchvision's padding forms → [left, top, right, bottom]. */
function paddingArg(p: unknown): [number, number, number, number] {
  const list = typeof p === 'number' ? [p] : p;
  if (!Array.isArray(list) || ![1, 2, 4].includes(list.length) || !list.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) {
    throw new TypeError(`padding must be an integer or an array of 1, 2 or 4 integers (got ${describe(p)})`);
  }
  if (list.some((v: number) => v < 0)) throw new RangeError(`padding must be non-negative (got [${list.join(', ')}])`);
  if (list.length === 1) return [list[0], list[0], list[0], list[0]];
  if (list.length === 2) return [list[0], list[1], list[0], list[1]];
  return list as [number, number, number, number];
}

class RandomCropT extends Transform {
  readonly size: [number, number];
  readonly padding: [number, number, number, number] | null;
  readonly padIfNeeded: boolean;
  readonly fill: number;
  readonly paddingMode: string;

  /**
   * A random size[0] × size[1] window of each image (its own offsets per sample), after optional
   * padding. Offsets are torch.randint(0, H − h + 1, [N]) then torch.randint(0, W − w + 1, [N]) on the
   * batch's device; when the (padded) image is already the crop size nothing is drawn.
   */
  constructor(size: number | [number, number], opts: RandomCropOptions = {}) {
    super();
    this.size = sizePair(size, 'size');
    if (opts === null || typeof opts !== 'object') throw new TypeError(`RandomCrop: options must be an object (got ${describe(opts)})`);
    this.padding = opts.padding === undefined || opts.padding === null ? null : paddingArg(opts.padding);
    if (opts.padIfNeeded !== undefined && typeof opts.padIfNeeded !== 'boolean')
      throw new TypeError(`padIfNeeded must be a boolean (got ${describe(opts.padIfNeeded)})`);
    this.padIfNeeded = opts.padIfNeeded ?? false;
    if (opts.fill !== undefined && (typeof opts.fill !== 'number' || !Number.isFinite(opts.fill)))
      throw new TypeError(`fill must be a number (got ${describe(opts.fill)})`);
    this.fill = opts.fill ?? 0;
    const mode = opts.paddingMode ?? 'constant';
    if (typeof mode !== 'string' || !(mode in PADDING_MODES)) {
      throw new TypeError(
        `paddingMode must be one of ${Object.keys(PADDING_MODES)
          .map((m) => `'${m}'`)
          .join(', ')} (got ${describe(mode)})`,
      );
    }
    this.paddingMode = mode;
  }

  private pad(x: Tensor, [l, t, r, b]: number[]): Tensor {
    if (l === 0 && t === 0 && r === 0 && b === 0) return x;
    const mode = PADDING_MODES[this.paddingMode];
    return pad(x, [l, r, t, b], mode === 'constant' ? { mode, value: this.fill } : { mode });
  }

  transform(x: Tensor): Tensor {
    checkImage(x);
    return batched(x, (b) => {
      const [h, w] = this.size;
      let img = this.padding ? this.pad(b, this.padding) : b;
      if (this.padIfNeeded) {
        const [H, W] = img.shape.slice(2);
        if (W < w) img = this.pad(img, [w - W, 0, w - W, 0]);
        if (H < h) img = this.pad(img, [0, h - H, 0, h - H]);
      }
      const [N, C, H, W] = img.shape;
      if (H < h || W < w) {
        throw new RangeError(`the crop size (${h}, ${w}) is larger than the (padded) image size (${H}, ${W})`);
      }
      if (H === h && W === w) return img;
      const device = img.device;
      const i = randint(0, H - h + 1, [N], { device });
      const j = randint(0, W - w + 1, [N], { device });
      // Rows i..i+h−1 and columns j..j+w−1 of each sample: one gather over each sample's flattened
      // plane, at (i + r) · W + j + s (no per-sample loop).
      const start = i.mul(W).add(j).view(N, 1);
      const offsets = arange(h, { dtype: 'int64', device })
        .mul(W)
        .view(h, 1)
        .add(arange(w, { dtype: 'int64', device }))
        .view(1, h * w);
      const index = start
        .add(offsets)
        .view(N, 1, h * w)
        .expand(N, C, h * w);
      return img
        .reshape(N, C, H * W)
        .gather(2, index)
        .view(N, C, h, w);
    });
  }

  override extraRepr(): string {
    const pad = this.padding ? `[${this.padding.join(', ')}]` : 'None';
    return `size=(${this.size.join(', ')}), padding=${pad}`;
  }
}

// ---- flips ----

function probability(p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`p must be a probability between 0 and 1 (got ${describe(p)})`);
  return p;
}

/** What RandomHorizontalFlip and RandomVerticalFlip share: sample n flipped along `dim` where torch.rand(N) < p (one draw per sample, on the batch's device). */
abstract class RandomFlipT extends Transform {
  readonly p: number;
  /** The flipped dim (a getter, so that `p` stays the one attribute, as Python's). */
  protected abstract get dim(): number;
  constructor(p = 0.5) {
    super();
    this.p = probability(p);
  }
  transform(x: Tensor): Tensor {
    checkImage(x);
    return batched(x, (b) => {
      const n = b.shape[0];
      const mask = rand([n], { device: b.device }).lt(this.p).view(n, 1, 1, 1);
      return where(mask, b.flip(this.dim), b);
    });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Mirrors each image left–right with probability p, independently per sample. */
class RandomHorizontalFlipT extends RandomFlipT {
  protected get dim(): number {
    return -1;
  }
}

/** Flips each image top–bottom with probability p, independently per sample. */
class RandomVerticalFlipT extends RandomFlipT {
  protected get dim(): number {
    return -2;
  }
}

// ---- composition ----

class ComposeT extends Transform {
  /**
   * Applies the transforms in order. Each is registered as a submodule '0', '1', … (as nn.Sequential's
   * modules): a Module as it is, any other function wrapped in a Lambda.
   */
  constructor(transforms: ((x: Tensor) => Tensor)[]) {
    super();
    if (!Array.isArray(transforms)) throw new TypeError(`Compose takes an array of transforms (got ${describe(transforms)})`);
    transforms.forEach((t, k) => {
      if (typeof t !== 'function') throw new TypeError(`transforms[${k}] must be a transform (a function of a batch) (got ${describe(t)})`);
    });
    transforms.forEach((t, k) => this.registerModule(String(k), t instanceof Module ? t : new LambdaT(t)));
  }
  /** The steps in order (its submodules, a step placed twice included twice). */
  get transforms(): Module[] {
    return [...this.attributeModules()].map(([, m]) => m);
  }
  transform(x: Tensor): Tensor {
    let out = x;
    this.transforms.forEach((t, k) => {
      out = (t as AnyModule)(out) as Tensor;
      if (!((out as unknown) instanceof Tensor)) throw new TypeError(`transforms[${k}] returned ${describe(out)}, not a Tensor`);
    });
    return out;
  }
  /** torchvision's Compose repr: one step a line, indented by four. */
  override toString(): string {
    return `Compose(${this.transforms.map((t) => `\n    ${t.toString()}`).join('')}\n)`;
  }
}

class LambdaT extends Transform {
  readonly fn: (x: Tensor) => Tensor;
  /** A user function of a batch as a transform. */
  constructor(fn: (x: Tensor) => Tensor) {
    super();
    if (typeof fn !== 'function') throw new TypeError(`Lambda takes a function (got ${describe(fn)})`);
    this.fn = fn;
  }
  transform(x: Tensor): Tensor {
    const out = this.fn(x);
    if (!((out as unknown) instanceof Tensor)) throw new TypeError(`the function returned ${describe(out)}, not a Tensor`);
    return out;
  }
  /** The function's name, if it has one (a Module given as the function is shown as the child `fn`). */
  override extraRepr(): string {
    return this.fn instanceof Module ? '' : this.fn.name;
  }
}

// Named classes, callable with or without `new`.
Object.defineProperty(ToTensorT, 'name', { value: 'ToTensor' });
Object.defineProperty(NormalizeT, 'name', { value: 'Normalize' });
Object.defineProperty(RandomCropT, 'name', { value: 'RandomCrop' });
Object.defineProperty(RandomHorizontalFlipT, 'name', { value: 'RandomHorizontalFlip' });
Object.defineProperty(RandomVerticalFlipT, 'name', { value: 'RandomVerticalFlip' });
Object.defineProperty(ComposeT, 'name', { value: 'Compose' });
Object.defineProperty(LambdaT, 'name', { value: 'Lambda' });

export const ToTensor = newless(ToTensorT);
export type ToTensor = ToTensorT;
export const Normalize = newless(NormalizeT);
export type Normalize = NormalizeT;
export const RandomCrop = newless(RandomCropT);
export type RandomCrop = RandomCropT;
export const RandomHorizontalFlip = newless(RandomHorizontalFlipT);
export type RandomHorizontalFlip = RandomHorizontalFlipT;
export const RandomVerticalFlip = newless(RandomVerticalFlipT);
export type RandomVerticalFlip = RandomVerticalFlipT;
export const Compose = newless(ComposeT);
export type Compose = ComposeT;
export const Lambda = newless(LambdaT);
export type Lambda = LambdaT;
/** The classes behind the transforms above (types only: construct them through ToTensor, Normalize, …). */
export type { ToTensorT, NormalizeT, RandomCropT, RandomHorizontalFlipT, RandomVerticalFlipT, ComposeT, LambdaT, Newless };

/** @internal True if t starts with ToTensor (directly or as Compose's first step): the loader can fuse
 * its uint8 → float32 / 255 into the native gather. */
export function startsWithToTensor(t: unknown): boolean {
  if (t instanceof ToTensorT) return true;
  if (t instanceof ComposeT) return t.transforms.length > 0 && startsWithToTensor(t.transforms[0]);
  return false;
}
