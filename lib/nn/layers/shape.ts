/**
 * Layers that reshape, resample or compare: Flatten, Unflatten, PixelShuffle/Unshuffle, ChannelShuffle,
 * Upsample (and its nearest/bilinear 2-d forms), CosineSimilarity and PairwiseDistance, as torch.nn has them.
 */
import type { Tensor } from '../../core/tensor';
import { describe } from '../../core/dtype';
import { Module } from '../module';
import * as F from '../functional';
import { pyFloat, pyRepr } from '../repr';
import { signature, type ArgsOf, type Signature } from '../../core/signature';
import { functionalModule } from './activation';

const FLATTEN = signature<{ startDim: number; endDim: number }>()('Flatten', ['startDim', 'endDim'], { startDim: 1, endDim: -1 });
/** Flattens dims startDim..endDim, as torch.nn.Flatten(startDim, endDim). */
export const Flatten = functionalModule(
  'Flatten',
  FLATTEN,
  (x, a) => x.flatten(a.startDim, a.endDim),
  (a) => `start_dim=${a.startDim}, end_dim=${a.endDim}`,
);

/** Splits dim into unflattenedSize, as torch.nn.Unflatten(dim, unflattenedSize). */
export class Unflatten extends Module {
  constructor(
    readonly dim: number,
    readonly unflattenedSize: number[],
  ) {
    super();
    if (!Array.isArray(unflattenedSize) || !unflattenedSize.every(Number.isInteger)) {
      throw new TypeError(`unflattened_size must be tuple of ints, but found type ${describe(unflattenedSize)}`);
    }
  }
  forward(input: Tensor): Tensor {
    return input.unflatten(this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyRepr(this.unflattenedSize)}`;
  }
}

/** (N, C·r², H, W) → (N, C, H·r, W·r), as torch.nn.PixelShuffle(upscaleFactor). */
export const PixelShuffle = functionalModule(
  'PixelShuffle',
  signature<{ upscaleFactor: number }>()('PixelShuffle', ['upscaleFactor'], { upscaleFactor: NaN }),
  (x, a) => F.pixelShuffle(x, a.upscaleFactor),
  (a) => `upscale_factor=${a.upscaleFactor}`,
  requireInt('upscaleFactor'),
);
/** (N, C, H·r, W·r) → (N, C·r², H, W), as torch.nn.PixelUnshuffle(downscaleFactor). */
export const PixelUnshuffle = functionalModule(
  'PixelUnshuffle',
  signature<{ downscaleFactor: number }>()('PixelUnshuffle', ['downscaleFactor'], { downscaleFactor: NaN }),
  (x, a) => F.pixelUnshuffle(x, a.downscaleFactor),
  (a) => `downscale_factor=${a.downscaleFactor}`,
  requireInt('downscaleFactor'),
);
/** Interleaves the channels of `groups` groups, as torch.nn.ChannelShuffle(groups). */
export const ChannelShuffle = functionalModule(
  'ChannelShuffle',
  signature<{ groups: number }>()('ChannelShuffle', ['groups'], { groups: NaN }),
  (x, a) => F.channelShuffle(x, a.groups),
  (a) => `groups=${a.groups}`,
  requireInt('groups'),
);
/** A required integer argument (the signature's NaN default marks it missing). */
function requireInt<K extends string>(name: K) {
  return (a: Record<K, number>) => {
    if (!Number.isInteger(a[name])) throw new TypeError(`missing or non-integer required argument '${name}' (got ${describe(a[name])})`);
  };
}

export type UpsampleFields = {
  size: number | number[] | null;
  scaleFactor: number | number[] | null;
  mode: F.InterpolateMode;
  alignCorners: boolean | null;
  recomputeScaleFactor: boolean | null;
};
const UPSAMPLE = signature<UpsampleFields>()('Upsample', ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor'], {
  size: null,
  scaleFactor: null,
  mode: 'nearest',
  alignCorners: null,
  recomputeScaleFactor: null,
});
/** Resizes by F.interpolate, as torch.nn.Upsample(size, scaleFactor, mode, alignCorners, recomputeScaleFactor). */
export class Upsample extends Module {
  readonly size: number | number[] | null;
  readonly scaleFactor: number | number[] | null;
  readonly mode: F.InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;
  constructor(...rest: ArgsOf<typeof UPSAMPLE>) {
    super();
    ({
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
      recomputeScaleFactor: this.recomputeScaleFactor,
    } = UPSAMPLE.bind(rest));
    if (this.scaleFactor === 0) this.scaleFactor = null; // Python's `float(s) if s else None`
  }
  forward(input: Tensor): Tensor {
    return F.interpolate(input, this.size, this.scaleFactor, this.mode, this.alignCorners, { recomputeScaleFactor: this.recomputeScaleFactor });
  }
  override extraRepr(): string {
    const s = this.scaleFactor;
    const info = s !== null ? `scale_factor=${Array.isArray(s) ? `(${s.map(pyFloat).join(', ')})` : pyFloat(s)}` : `size=${pyRepr(this.size)}`;
    return `${info}, mode=${pyRepr(this.mode)}`;
  }
}
export type SizeScaleArgs = ArgsOf<Signature<SizeScaleFields, ['size', 'scaleFactor']>>;
export type SizeScaleFields = { size: number | number[] | null; scaleFactor: number | number[] | null };
const sizeScale = (name: string) => signature<SizeScaleFields>()(name, ['size', 'scaleFactor'], { size: null, scaleFactor: null });
const NEAREST = sizeScale('UpsamplingNearest2d');
const BILINEAR = sizeScale('UpsamplingBilinear2d');
/** Nearest-neighbour upsampling, as torch.nn.UpsamplingNearest2d(size, scaleFactor). */
export class UpsamplingNearest2d extends Upsample {
  constructor(...rest: SizeScaleArgs) {
    super({ ...NEAREST.bind(rest), mode: 'nearest' });
  }
}
/** Bilinear upsampling with aligned corners, as torch.nn.UpsamplingBilinear2d(size, scaleFactor). */
export class UpsamplingBilinear2d extends Upsample {
  constructor(...rest: SizeScaleArgs) {
    super({ ...BILINEAR.bind(rest), mode: 'bilinear', alignCorners: true });
  }
}

const COSINE = signature<{ dim: number; eps: number }>()('CosineSimilarity', ['dim', 'eps'], { dim: 1, eps: 1e-8 });
/** Cosine similarity along dim, as torch.nn.CosineSimilarity(dim, eps). */
export class CosineSimilarity extends Module {
  readonly dim: number;
  readonly eps: number;
  constructor(...rest: ArgsOf<typeof COSINE>) {
    super();
    ({ dim: this.dim, eps: this.eps } = COSINE.bind(rest));
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    return F.cosineSimilarity(x1, x2, this.dim, this.eps);
  }
}
const PAIRWISE = signature<{ p: number; eps: number; keepdim: boolean }>()('PairwiseDistance', ['p', 'eps', 'keepdim'], {
  p: 2,
  eps: 1e-6,
  keepdim: false,
});
/** The p-norm distance between rows, as torch.nn.PairwiseDistance(p, eps, keepdim). */
export class PairwiseDistance extends Module {
  readonly norm: number;
  readonly eps: number;
  readonly keepdim: boolean;
  constructor(...rest: ArgsOf<typeof PAIRWISE>) {
    super();
    const a = PAIRWISE.bind(rest);
    ({ p: this.norm, eps: this.eps, keepdim: this.keepdim } = a);
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    return F.pairwiseDistance(x1, x2, this.norm, this.eps, this.keepdim);
  }
}

// Each class above as a type too (`let act: ReLU`), as a class declaration gives.
export type ChannelShuffle = InstanceType<typeof ChannelShuffle>;
export type Flatten = InstanceType<typeof Flatten>;
export type PixelShuffle = InstanceType<typeof PixelShuffle>;
export type PixelUnshuffle = InstanceType<typeof PixelUnshuffle>;
