/**
 * Padding, resampling (interpolate/upsample, grid sampling), pixel and channel shuffles, distances and
 * the bilinear form, as torch.nn.functional has them.
 */
import { native } from '../../core/native';
import { Tensor, handleOf, wrap } from '../../core/tensor';
import { intArg } from '../../core/args';
import { describe } from '../../core/dtype';
import { warnOnce } from '../../core/errors';
import { bindFunction } from '../../core/dispatch';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d } from './pooling';
import { tensorArg } from './args';

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
const PAD = signature<{ mode: PadMode; value: number | null }>()('F.pad', ['mode', 'value'], { mode: 'constant', value: null });
/** F.pad(input, pad, mode, value): pad is (left, right, top, bottom, …) from the last dim backwards. */
export function pad(input: Tensor, padding: number[], ...rest: ArgsOf<typeof PAD>): Tensor {
  const a = PAD.bind(rest);
  if (!Array.isArray(padding)) throw new TypeError(`pad must be a list of integers (got ${describe(padding)})`);
  return wrap(
    native.pad(
      handleOf(input, 'input'),
      padding.map((p) => intArg(p, 'pad')),
      a.mode,
      a.value ?? undefined,
    ),
  );
}

export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area' | 'nearest-exact';
export type InterpolateFields = {
  size: number | number[] | null;
  scaleFactor: number | number[] | null;
  mode: InterpolateMode;
  alignCorners: boolean | null;
  recomputeScaleFactor: boolean | null;
  antialias: boolean;
};
const INTERPOLATE = signature<InterpolateFields>()(
  'F.interpolate',
  ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor', 'antialias'],
  { size: null, scaleFactor: null, mode: 'nearest', alignCorners: null, recomputeScaleFactor: null, antialias: false },
);
// ATen's private resamplers Python calls for nearest-exact and anti-aliasing
const PRIVATE = {
  nearestExact: [1, 2, 3].map((d) =>
    bindFunction(`torch._C._nn._upsample_nearest_exact${d}d`, [
      `_upsample_nearest_exact${d}d.vec(Tensor input, SymInt[]? output_size, float[]? scale_factors) -> Tensor`,
    ]),
  ),
  bilinearAA: bindFunction('torch._C._nn._upsample_bilinear2d_aa', [
    '_upsample_bilinear2d_aa.vec(Tensor input, SymInt[]? output_size, bool align_corners, float[]? scale_factors) -> Tensor',
  ]),
  bicubicAA: bindFunction('torch._C._nn._upsample_bicubic2d_aa', [
    '_upsample_bicubic2d_aa.vec(Tensor input, SymInt[]? output_size, bool align_corners, float[]? scale_factors) -> Tensor',
  ]),
};
export type Resample = (...args: unknown[]) => Tensor;

/** Resizes (N, C, …) to `size` or by `scaleFactor` along the 1-3 spatial dims, as Python's F.interpolate (every mode). */
export function interpolate(input: Tensor, ...rest: ArgsOf<typeof INTERPOLATE>): Tensor {
  const a = INTERPOLATE.bind(rest);
  const { mode } = a;
  let alignCorners = a.alignCorners;
  if (mode === 'nearest' || mode === 'area' || mode === 'nearest-exact') {
    if (alignCorners !== null) {
      throw new RangeError('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
    }
  } else alignCorners ??= false;
  const dim = tensorArg(input).ndim - 2;
  const spatial = input.shape.slice(2);
  let outputSize: number[] | null = null;
  let scales: number[] | null = null;
  if (a.size !== null && a.scaleFactor !== null) throw new RangeError('only one of size or scale_factor should be defined');
  if (a.size !== null) {
    if (Array.isArray(a.size)) {
      if (a.size.length !== dim) {
        throw new RangeError(
          `Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of ` +
            `[${spatial.join(', ')}] and output size of [${a.size.join(', ')}]. Please provide input tensor in (N, C, d1, d2, ...,dK) format and ` +
            'output size in (o1, o2, ...,oK) format.',
        );
      }
      outputSize = a.size.map((s, i) => intArg(s, `size[${i}]`));
    } else outputSize = new Array<number>(dim).fill(intArg(a.size, 'size'));
  } else if (a.scaleFactor !== null) {
    if (Array.isArray(a.scaleFactor)) {
      if (a.scaleFactor.length !== dim) {
        throw new RangeError(
          `Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of ` +
            `[${spatial.join(', ')}] and scale_factor of shape [${a.scaleFactor.join(', ')}]. Please provide input tensor in (N, C, d1, d2, ...,dK) ` +
            'format and scale_factor in (s1, s2, ...,sK) format.',
        );
      }
      scales = a.scaleFactor;
    } else scales = new Array<number>(dim).fill(a.scaleFactor);
  } else throw new RangeError('either size or scale_factor should be defined');
  let recompute = a.recomputeScaleFactor;
  if (recompute && a.size !== null) throw new RangeError('recompute_scale_factor is not meaningful with an explicit size.');
  if (mode === 'area' && outputSize === null) recompute = true;
  if (recompute && scales) {
    // Python computes in float64: floor(size · scale)
    outputSize = spatial.map((s, i) => Math.floor(s * scales![i]));
    scales = null;
  }
  if (a.antialias && !((mode === 'bilinear' || mode === 'bicubic') && input.ndim === 4)) {
    throw new RangeError('Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input');
  }
  const rank = input.ndim;
  if (rank >= 3 && rank <= 5) {
    const d = rank - 3;
    switch (mode) {
      case 'nearest':
        return ([NN.upsampleNearest1d, NN.upsampleNearest2d, NN.upsampleNearest3d][d] as Resample)(input, outputSize, scales);
      case 'nearest-exact':
        return PRIVATE.nearestExact[d](input, outputSize, scales) as Tensor;
      case 'area':
        return [adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d][d](input, outputSize!);
      default:
    }
    const interpolating: Record<string, [number, Resample]> = {
      linear: [3, NN.upsampleLinear1d as Resample],
      bilinear: [4, (a.antialias ? PRIVATE.bilinearAA : NN.upsampleBilinear2d) as Resample],
      trilinear: [5, NN.upsampleTrilinear3d as Resample],
      bicubic: [4, (a.antialias ? PRIVATE.bicubicAA : NN.upsampleBicubic2d) as Resample],
    };
    const entry = interpolating[mode];
    if (entry && entry[0] === rank) return entry[1](input, outputSize, alignCorners, scales);
    if (entry) {
      const need = `${entry[0]}D`;
      throw new RangeError(`Got ${rank}D input, but ${mode} mode needs ${need} input`);
    }
  }
  throw new RangeError(
    `Input Error: Only 3D, 4D and 5D input Tensors supported (got ${rank}D) for the modes: nearest | linear | bilinear | ` +
      `bicubic | trilinear | area | nearest-exact (got ${mode})`,
  );
}

const UPSAMPLE = signature<{
  size: number | number[] | null;
  scaleFactor: number | number[] | null;
  mode: InterpolateMode;
  alignCorners: boolean | null;
}>()('F.upsample', ['size', 'scaleFactor', 'mode', 'alignCorners'], { size: null, scaleFactor: null, mode: 'nearest', alignCorners: null });
/** Deprecated in Python for F.interpolate, which it calls. */
export function upsample(input: Tensor, ...rest: ArgsOf<typeof UPSAMPLE>): Tensor {
  warnOnce('F.upsample', 'nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.');
  const a = UPSAMPLE.bind(rest);
  return interpolate(input, a);
}
const SIZE_SCALE = signature<{ size: number | number[] | null; scaleFactor: number | number[] | null }>()(
  'F.upsampleNearest',
  ['size', 'scaleFactor'],
  { size: null, scaleFactor: null },
);
export function upsampleNearest(input: Tensor, ...rest: ArgsOf<typeof SIZE_SCALE>): Tensor {
  warnOnce('F.upsampleNearest', 'nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.');
  return interpolate(input, { ...SIZE_SCALE.bind(rest), mode: 'nearest' });
}
export function upsampleBilinear(input: Tensor, ...rest: ArgsOf<typeof SIZE_SCALE>): Tensor {
  warnOnce('F.upsampleBilinear', 'nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.');
  return interpolate(input, { ...SIZE_SCALE.bind(rest), mode: 'bilinear', alignCorners: true });
}

const GRID_SAMPLE = signature<{
  mode: 'bilinear' | 'nearest' | 'bicubic';
  paddingMode: 'zeros' | 'border' | 'reflection';
  alignCorners: boolean | null;
}>()('F.gridSample', ['mode', 'paddingMode', 'alignCorners'], { mode: 'bilinear', paddingMode: 'zeros', alignCorners: null });
/** Samples input at grid's (x, y[, z]) locations in [−1, 1]. */
export function gridSample(input: Tensor, grid: Tensor, ...rest: ArgsOf<typeof GRID_SAMPLE>): Tensor {
  const a = GRID_SAMPLE.bind(rest);
  const modes = { bilinear: 0, nearest: 1, bicubic: 2 };
  const paddings = { zeros: 0, border: 1, reflection: 2 };
  if (!(a.mode in modes))
    throw new RangeError(`nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '${a.mode}'`);
  if (!(a.paddingMode in paddings)) {
    throw new RangeError(`nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: '${a.paddingMode}'`);
  }
  if (a.mode === 'bicubic' && tensorArg(input).ndim !== 4)
    throw new RangeError('nn.functional.grid_sample(): bicubic interpolation only supports 4D input');
  return T.gridSampler(tensorArg(input), tensorArg(grid, 'grid'), modes[a.mode], paddings[a.paddingMode], a.alignCorners ?? false);
}
const AFFINE_GRID = signature<{ alignCorners: boolean | null }>()('F.affineGrid', ['alignCorners'], { alignCorners: null });
/** The sampling grid of the affine transforms theta (N, 2, 3) or (N, 3, 4) for an output of `size`. */
export function affineGrid(theta: Tensor, size: number[], ...rest: ArgsOf<typeof AFFINE_GRID>): Tensor {
  const alignCorners = AFFINE_GRID.bind(rest).alignCorners ?? false;
  if (!tensorArg(theta, 'theta').isFloatingPoint()) throw new RangeError(`Expected theta to have floating point type, but got ${theta.dtype}`);
  return T.affineGridGenerator(theta, size, alignCorners);
}

/** (N, C·r², H, W) → (N, C, H·r, W·r). */
export const pixelShuffle = (input: Tensor, upscaleFactor: number): Tensor => T.pixelShuffle(tensorArg(input), upscaleFactor);
/** (N, C, H·r, W·r) → (N, C·r², H, W). */
export const pixelUnshuffle = (input: Tensor, downscaleFactor: number): Tensor => T.pixelUnshuffle(tensorArg(input), downscaleFactor);
/** Interleaves the channels of `groups` groups (ShuffleNet). */
export const channelShuffle = (input: Tensor, groups: number): Tensor => T.channelShuffle(tensorArg(input), groups);
const nativeShuffle = bindFunction('F.nativeChannelShuffle', ['native_channel_shuffle(Tensor self, SymInt groups) -> Tensor']);
/** channelShuffle by ATen's native kernel, as F.native_channel_shuffle. */
export const nativeChannelShuffle = (input: Tensor, groups: number): Tensor => nativeShuffle(tensorArg(input), groups) as Tensor;

const BILINEAR = signature<{ bias: Tensor | null }>()('F.bilinear', ['bias'], { bias: null });
/** y = x1ᵀ A x2 + b. */
export const bilinear = (input1: Tensor, input2: Tensor, weight: Tensor, ...rest: ArgsOf<typeof BILINEAR>): Tensor =>
  T.bilinear(tensorArg(input1, 'input1'), tensorArg(input2, 'input2'), tensorArg(weight, 'weight'), BILINEAR.bind(rest).bias);

const COSINE = signature<{ dim: number; eps: number }>()('F.cosineSimilarity', ['dim', 'eps'], { dim: 1, eps: 1e-8 });
export const cosineSimilarity = (x1: Tensor, x2: Tensor, ...rest: ArgsOf<typeof COSINE>): Tensor => {
  const a = COSINE.bind(rest);
  return T.cosineSimilarity(tensorArg(x1, 'x1'), tensorArg(x2, 'x2'), a.dim, a.eps);
};
const PAIRWISE = signature<{ p: number; eps: number; keepdim: boolean }>()('F.pairwiseDistance', ['p', 'eps', 'keepdim'], {
  p: 2,
  eps: 1e-6,
  keepdim: false,
});
export const pairwiseDistance = (x1: Tensor, x2: Tensor, ...rest: ArgsOf<typeof PAIRWISE>): Tensor => {
  const a = PAIRWISE.bind(rest);
  return T.pairwiseDistance(tensorArg(x1, 'x1'), tensorArg(x2, 'x2'), a.p, a.eps, a.keepdim);
};
const PDIST = signature<{ p: number }>()('F.pdist', ['p'], { p: 2 });
/** The p-norm distance between each pair of rows. */
export const pdist = (input: Tensor, ...rest: ArgsOf<typeof PDIST>): Tensor => T.pdist(tensorArg(input), PDIST.bind(rest).p);
