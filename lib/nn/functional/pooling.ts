/**
 * Pooling in 1-3 dims as torch.nn.functional has it: max (with indices), average, adaptive, power-average
 * (LP), max-unpooling and fractional max. Python's positional order, or any argument by name; stride
 * null is the kernel size (passed to ATen as [], as Python does).
 */
import { native } from '../../core/native';
import { Tensor, handleOf, wrap } from '../../core/tensor';
import { intArg } from '../../core/args';
import { describe } from '../../core/dtype';
import { scope } from '../../core/scope';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { rand } from '../../generated/torch';
import { signature, type ArgsOf } from '../../core/signature';
import { avgPool1dSig, avgPoolSig, fractionalSignature, ntuple, tensorArg, type Size } from './args';

export type Dims = 1 | 2 | 3;
const strideOf = (dims: Dims, stride: Size | null) => (stride === null ? [] : ntuple(dims, stride, 'stride'));

export type MaxPoolFields = { stride: Size | null; padding: Size; dilation: Size; ceilMode: boolean; returnIndices: boolean };
const maxPoolSig = (who: string) =>
  signature<MaxPoolFields>()(who, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'], {
    stride: null,
    padding: 0,
    dilation: 1,
    ceilMode: false,
    returnIndices: false,
  });
const MAX_POOL = [maxPoolSig('F.maxPool1d'), maxPoolSig('F.maxPool2d'), maxPoolSig('F.maxPool3d')];
type MaxPoolArgs = ArgsOf<(typeof MAX_POOL)[0]>;

function maxPool(dims: Dims, input: Tensor, kernelSize: Size, rest: readonly unknown[]): Tensor | [Tensor, Tensor] {
  const a = MAX_POOL[dims - 1].bind(rest);
  const k = ntuple(dims, kernelSize, 'kernelSize');
  const args = [
    tensorArg(input),
    k,
    strideOf(dims, a.stride),
    ntuple(dims, a.padding, 'padding'),
    ntuple(dims, a.dilation, 'dilation'),
    a.ceilMode,
  ] as const;
  if (a.returnIndices) {
    const op = [T.maxPool1dWithIndices, NN.maxPool2dWithIndices, NN.maxPool3dWithIndices][dims - 1] as (...x: unknown[]) => [Tensor, Tensor];
    return op(...args);
  }
  if (dims === 2) return wrap(native.maxPool2d(handleOf(input, 'input'), k, args[2], args[3], args[4], a.ceilMode));
  return ((dims === 1 ? T.maxPool1d : T.maxPool3d) as (...x: unknown[]) => Tensor)(...args);
}
/** F.max_pool1d(input, kernelSize, stride, padding, dilation, ceilMode, returnIndices): with returnIndices, [output, indices]. */
export function maxPool1d(input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs): Tensor;
export function maxPool1d(input: Tensor, kernelSize: Size, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return maxPool(1, input, kernelSize, rest);
}
/** F.max_pool2d(input, kernelSize, stride, padding, dilation, ceilMode, returnIndices): with returnIndices, [output, indices]. */
export function maxPool2d(input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs): Tensor;
export function maxPool2d(input: Tensor, kernelSize: Size, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return maxPool(2, input, kernelSize, rest);
}
/** F.max_pool3d(input, kernelSize, stride, padding, dilation, ceilMode, returnIndices): with returnIndices, [output, indices]. */
export function maxPool3d(input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs): Tensor;
export function maxPool3d(input: Tensor, kernelSize: Size, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return maxPool(3, input, kernelSize, rest);
}
/** The [output, indices] forms, as Python's F.max_poolNd_with_indices. */
export const maxPool1dWithIndices = (input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs) =>
  maxPool(1, input, kernelSize, withReturnIndices(rest, 4)) as [Tensor, Tensor];
export const maxPool2dWithIndices = (input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs) =>
  maxPool(2, input, kernelSize, withReturnIndices(rest, 4)) as [Tensor, Tensor];
export const maxPool3dWithIndices = (input: Tensor, kernelSize: Size, ...rest: MaxPoolArgs) =>
  maxPool(3, input, kernelSize, withReturnIndices(rest, 4)) as [Tensor, Tensor];
/** `rest` with returnIndices true: in its positional slot (`at`) when the call reaches it, else in the options object. */
function withReturnIndices(rest: readonly unknown[], at: number): unknown[] {
  const last = rest[rest.length - 1];
  const hasOptions = last !== null && typeof last === 'object' && !Array.isArray(last) && !(last instanceof Tensor);
  const positional = hasOptions ? rest.slice(0, -1) : [...rest];
  if (positional.length > at) {
    positional[at] = true;
    return hasOptions ? [...positional, last] : positional;
  }
  return [...positional, { ...(hasOptions ? (last as object) : {}), returnIndices: true }];
}

export type { AvgPoolFields } from './args';
const AVG_POOL1D = avgPool1dSig('F.avgPool1d');
const AVG_POOL2D = avgPoolSig('F.avgPool2d');
const AVG_POOL3D = avgPoolSig('F.avgPool3d');

/** F.avg_pool1d(input, kernelSize, stride, padding, ceilMode, countIncludePad). */
export function avgPool1d(input: Tensor, kernelSize: Size, ...rest: ArgsOf<typeof AVG_POOL1D>): Tensor {
  const a = AVG_POOL1D.bind(rest);
  return T.avgPool1d(
    tensorArg(input),
    ntuple(1, kernelSize, 'kernelSize'),
    strideOf(1, a.stride),
    ntuple(1, a.padding, 'padding'),
    a.ceilMode,
    a.countIncludePad,
  );
}
/** F.avg_pool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride). */
export function avgPool2d(input: Tensor, kernelSize: Size, ...rest: ArgsOf<typeof AVG_POOL2D>): Tensor {
  const a = AVG_POOL2D.bind(rest);
  return wrap(
    native.avgPool2d(
      handleOf(input, 'input'),
      ntuple(2, kernelSize, 'kernelSize'),
      strideOf(2, a.stride),
      ntuple(2, a.padding, 'padding'),
      a.ceilMode,
      a.countIncludePad,
      a.divisorOverride === null ? undefined : intArg(a.divisorOverride, 'divisorOverride'),
    ),
  );
}
/** F.avg_pool3d(input, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride). */
export function avgPool3d(input: Tensor, kernelSize: Size, ...rest: ArgsOf<typeof AVG_POOL3D>): Tensor {
  const a = AVG_POOL3D.bind(rest);
  return NN.avgPool3d(
    tensorArg(input),
    ntuple(3, kernelSize, 'kernelSize'),
    strideOf(3, a.stride),
    ntuple(3, a.padding, 'padding'),
    a.ceilMode,
    a.countIncludePad,
    a.divisorOverride,
  );
}

/** An adaptive output size: a number for every dim, or per dim with null keeping the input's (Python's _list_with_default). */
export type AdaptiveSize = number | (number | null)[];
function adaptiveSize(dims: Dims, size: AdaptiveSize, input: Tensor): number[] {
  if (typeof size === 'number') return ntuple(dims, size, 'outputSize');
  if (!Array.isArray(size) || size.length !== dims) throw new TypeError(`outputSize must be an integer or ${dims} integers (got ${describe(size)})`);
  const shape = input.shape;
  return size.map((s, i) => (s === null ? shape[shape.length - dims + i] : ntuple(1, s, `outputSize[${i}]`)[0]));
}
export const adaptiveAvgPool1d = (input: Tensor, outputSize: AdaptiveSize): Tensor =>
  T.adaptiveAvgPool1d(tensorArg(input), adaptiveSize(1, outputSize, input));
export const adaptiveAvgPool2d = (input: Tensor, outputSize: AdaptiveSize): Tensor =>
  wrap(native.adaptiveAvgPool2d(handleOf(input, 'input'), adaptiveSize(2, outputSize, input)));
export const adaptiveAvgPool3d = (input: Tensor, outputSize: AdaptiveSize): Tensor =>
  wrap(native.adaptiveAvgPool3d(handleOf(input, 'input'), adaptiveSize(3, outputSize, input)));

const ADAPTIVE_MAX = signature<{ returnIndices: boolean }>()('F.adaptiveMaxPool', ['returnIndices'], { returnIndices: false });
type AdaptiveMaxArgs = ArgsOf<typeof ADAPTIVE_MAX>;
function adaptiveMax(dims: Dims, input: Tensor, outputSize: AdaptiveSize, rest: readonly unknown[]): Tensor | [Tensor, Tensor] {
  const { returnIndices } = ADAPTIVE_MAX.bind(rest);
  const op = [T.adaptiveMaxPool1d, NN.adaptiveMaxPool2d, NN.adaptiveMaxPool3d][dims - 1] as (x: Tensor, s: number[]) => [Tensor, Tensor];
  const [out, indices] = op(tensorArg(input), adaptiveSize(dims, outputSize, input));
  if (returnIndices) return [out, indices];
  indices.dispose();
  return out;
}
/** F.adaptive_max_pool1d(input, outputSize, returnIndices). */
export function adaptiveMaxPool1d(input: Tensor, outputSize: AdaptiveSize, ...rest: AdaptiveMaxArgs): Tensor;
export function adaptiveMaxPool1d(input: Tensor, outputSize: AdaptiveSize, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return adaptiveMax(1, input, outputSize, rest);
}
/** F.adaptive_max_pool2d(input, outputSize, returnIndices). */
export function adaptiveMaxPool2d(input: Tensor, outputSize: AdaptiveSize, ...rest: AdaptiveMaxArgs): Tensor;
export function adaptiveMaxPool2d(input: Tensor, outputSize: AdaptiveSize, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return adaptiveMax(2, input, outputSize, rest);
}
/** F.adaptive_max_pool3d(input, outputSize, returnIndices). */
export function adaptiveMaxPool3d(input: Tensor, outputSize: AdaptiveSize, ...rest: AdaptiveMaxArgs): Tensor;
export function adaptiveMaxPool3d(input: Tensor, outputSize: AdaptiveSize, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return adaptiveMax(3, input, outputSize, rest);
}

const LP_POOL = signature<{ stride: Size | null; ceilMode: boolean }>()('F.lpPool', ['stride', 'ceilMode'], { stride: null, ceilMode: false });
function lpPool(dims: Dims, input: Tensor, normType: number, kernelSize: Size, rest: readonly unknown[]): Tensor {
  const a = LP_POOL.bind(rest);
  const k = ntuple(dims, kernelSize, 'kernelSize');
  const max = [maxPool1d, maxPool2d, maxPool3d][dims - 1];
  const avg = [avgPool1d, avgPool2d, avgPool3d][dims - 1] as (x: Tensor, k: Size, o: object) => Tensor;
  tensorArg(input);
  return scope(() => {
    if (normType === Infinity) return max(input.abs(), k, a.stride, 0, 1, a.ceilMode);
    if (normType === -Infinity) return max(input.abs().neg(), k, a.stride, 0, 1, a.ceilMode).neg();
    const out = avg(input.pow(normType), k, { stride: a.stride, padding: 0, ceilMode: a.ceilMode });
    // Python's (sign(out) * relu(|out|)) * prod(kernel), to the 1/p
    return out
      .sign()
      .mul(out.abs().relu())
      .mul(k.reduce((x, y) => x * y, 1))
      .pow(1 / normType);
  });
}
type LpArgs = ArgsOf<typeof LP_POOL>;
/** F.lp_pool1d(input, normType, kernelSize, stride, ceilMode): the p-norm of each window. */
export const lpPool1d = (input: Tensor, normType: number, kernelSize: Size, ...rest: LpArgs): Tensor => lpPool(1, input, normType, kernelSize, rest);
export const lpPool2d = (input: Tensor, normType: number, kernelSize: Size, ...rest: LpArgs): Tensor => lpPool(2, input, normType, kernelSize, rest);
export const lpPool3d = (input: Tensor, normType: number, kernelSize: Size, ...rest: LpArgs): Tensor => lpPool(3, input, normType, kernelSize, rest);

const UNPOOL = signature<{ stride: Size | null; padding: Size; outputSize: number[] | null }>()('F.maxUnpool', ['stride', 'padding', 'outputSize'], {
  stride: null,
  padding: 0,
  outputSize: null,
});
/** Python's _unpool_output_size: the default size, or outputSize (optionally with N, C) checked against it. */
function unpoolSize(input: Tensor, k: number[], stride: number[], padding: number[], outputSize: number[] | null): number[] {
  const shape = input.shape;
  const n = k.length;
  const dflt = k.map((kd, d) => (shape[shape.length - n + d] - 1) * stride[d] + kd - 2 * padding[d]);
  let out = dflt;
  if (outputSize !== null) {
    const size = outputSize.length === n + 2 ? outputSize.slice(2) : outputSize;
    if (size.length !== n) {
      throw new RangeError(`output_size should be a sequence containing ${n} or ${n + 2} elements, but it has a length of '${size.length}'`);
    }
    size.forEach((s, d) => {
      const [lo, hi] = [dflt[d] - stride[d], dflt[d] + stride[d]];
      if (!(lo < s && s < hi)) throw new RangeError(`invalid output_size "[${outputSize.join(', ')}]" (dim ${d} must be between ${lo} and ${hi})`);
    });
    out = size;
  }
  out.forEach((s, d) => {
    if (s < 0) throw new RangeError(`max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[${d}]=${s}`);
  });
  return out;
}
function maxUnpool(dims: Dims, input: Tensor, indices: Tensor, kernelSize: Size, rest: readonly unknown[]): Tensor {
  const a = UNPOOL.bind(rest);
  const k = ntuple(dims, kernelSize, 'kernelSize');
  const stride = a.stride === null ? k : ntuple(dims, a.stride, 'stride');
  const padding = ntuple(dims, a.padding, 'padding');
  const size = unpoolSize(tensorArg(input), k, stride, padding, a.outputSize);
  tensorArg(indices, 'indices');
  if (dims === 3) return NN.maxUnpool3d(input, indices, size, stride, padding);
  if (dims === 2) return NN.maxUnpool2d(input, indices, size);
  // 1-d as Python does it: a 2-d unpool over a trailing unit dim
  return scope(() => NN.maxUnpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), [...size, 1]).squeeze(-1));
}
type UnpoolArgs = ArgsOf<typeof UNPOOL>;
/** F.max_unpool1d(input, indices, kernelSize, stride, padding, outputSize): the inverse of max_pool1d's indices. */
export const maxUnpool1d = (input: Tensor, indices: Tensor, kernelSize: Size, ...rest: UnpoolArgs): Tensor =>
  maxUnpool(1, input, indices, kernelSize, rest);
export const maxUnpool2d = (input: Tensor, indices: Tensor, kernelSize: Size, ...rest: UnpoolArgs): Tensor =>
  maxUnpool(2, input, indices, kernelSize, rest);
export const maxUnpool3d = (input: Tensor, indices: Tensor, kernelSize: Size, ...rest: UnpoolArgs): Tensor =>
  maxUnpool(3, input, indices, kernelSize, rest);

const FRACTIONAL = fractionalSignature('F.fractionalMaxPool');
function fractionalMaxPool(dims: 2 | 3, input: Tensor, kernelSize: Size, rest: readonly unknown[]): Tensor | [Tensor, Tensor] {
  const a = FRACTIONAL.bind(rest);
  const name = `fractional_max_pool${dims}d`;
  tensorArg(input);
  let size: number[];
  if (a.outputSize !== null) size = ntuple(dims, a.outputSize, 'outputSize');
  else if (a.outputRatio !== null) {
    const ratio = typeof a.outputRatio === 'number' ? new Array<number>(dims).fill(a.outputRatio) : a.outputRatio;
    if (ratio.length !== dims) throw new RangeError(`${name} requires output_ratio to either be a single Int or tuple of Ints.`);
    const shape = input.shape;
    size = ratio.map((r, i) => Math.trunc(shape[shape.length - dims + i] * r));
  } else throw new RangeError(`${name} requires specifying either an output_size or an output_ratio`);
  const samples =
    a._randomSamples ??
    rand([input.ndim === dims + 1 ? 1 : input.shape[0], input.shape[input.ndim - dims - 1], dims], { dtype: input.dtype, device: input.device });
  try {
    const op = (dims === 2 ? NN.fractionalMaxPool2d : NN.fractionalMaxPool3d) as (...x: unknown[]) => [Tensor, Tensor];
    const [out, indices] = op(input, ntuple(dims, kernelSize, 'kernelSize'), size, samples);
    if (a.returnIndices) return [out, indices];
    indices.dispose();
    return out;
  } finally {
    if (samples !== a._randomSamples) samples.dispose();
  }
}
type FractionalArgs = ArgsOf<typeof FRACTIONAL>;
/** F.fractional_max_pool2d(input, kernelSize, outputSize, outputRatio, returnIndices): pseudo-random pooling regions. */
export function fractionalMaxPool2d(input: Tensor, kernelSize: Size, ...rest: FractionalArgs): Tensor;
export function fractionalMaxPool2d(input: Tensor, kernelSize: Size, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return fractionalMaxPool(2, input, kernelSize, rest);
}
/** F.fractional_max_pool3d(input, kernelSize, outputSize, outputRatio, returnIndices). */
export function fractionalMaxPool3d(input: Tensor, kernelSize: Size, ...rest: FractionalArgs): Tensor;
export function fractionalMaxPool3d(input: Tensor, kernelSize: Size, ...rest: unknown[]): Tensor | [Tensor, Tensor] {
  return fractionalMaxPool(3, input, kernelSize, rest);
}

/** [output, indices], as Python's F.adaptive_max_poolNd_with_indices. */
export const adaptiveMaxPool1dWithIndices = (input: Tensor, outputSize: AdaptiveSize) =>
  adaptiveMax(1, input, outputSize, [true]) as [Tensor, Tensor];
export const adaptiveMaxPool2dWithIndices = (input: Tensor, outputSize: AdaptiveSize) =>
  adaptiveMax(2, input, outputSize, [true]) as [Tensor, Tensor];
export const adaptiveMaxPool3dWithIndices = (input: Tensor, outputSize: AdaptiveSize) =>
  adaptiveMax(3, input, outputSize, [true]) as [Tensor, Tensor];
/** [output, indices], as Python's F.fractional_max_poolNd_with_indices. */
export const fractionalMaxPool2dWithIndices = (input: Tensor, kernelSize: Size, ...rest: FractionalArgs) =>
  fractionalMaxPool(2, input, kernelSize, withReturnIndices(rest, 2)) as [Tensor, Tensor];
export const fractionalMaxPool3dWithIndices = (input: Tensor, kernelSize: Size, ...rest: FractionalArgs) =>
  fractionalMaxPool(3, input, kernelSize, withReturnIndices(rest, 2)) as [Tensor, Tensor];
