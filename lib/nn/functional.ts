/**
 * torch.nn.functional: one native call each, arguments validated and named here. Sizes given as a
 * number mean the same along each spatial dim, as PyTorch's _pair.
 */
import { native } from '../native';
import { describe } from '../dtype';
import { Tensor, boolArg, handleOf, intArg, numberArg, wrap } from '../tensor';

export type Size2 = number | [number, number];
export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTIONS: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export function pair(v: unknown, name: string): [number, number] {
  if (typeof v === 'number') return [intArg(v, name), v];
  if (Array.isArray(v) && v.length === 2) return [intArg(v[0], name), intArg(v[1], name)];
  throw new TypeError(`${name} must be an integer or a pair of integers (got ${describe(v)})`);
}

export function reductionCode(r: unknown): number {
  const code = REDUCTIONS[(r ?? 'mean') as Reduction];
  if (code === undefined) throw new TypeError(`reduction must be 'none', 'mean' or 'sum' (got ${describe(r)})`);
  return code;
}

function optHandle(t: unknown, name: string) {
  return t === undefined || t === null ? undefined : handleOf(t, name);
}

export interface Conv2dOptions {
  bias?: Tensor | null;
  stride?: Size2;
  padding?: Size2 | 'same' | 'valid';
  dilation?: Size2;
  groups?: number;
}
export function conv2d(input: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const padding = opts.padding === 'same' || opts.padding === 'valid' ? opts.padding : pair(opts.padding ?? 0, 'padding');
  return wrap(native.conv2d(handleOf(input, 'input'), handleOf(weight, 'weight'), optHandle(opts.bias, 'bias'),
    pair(opts.stride ?? 1, 'stride'), padding, pair(opts.dilation ?? 1, 'dilation'), intArg(opts.groups ?? 1, 'groups')));
}

export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(native.linear(handleOf(input, 'input'), handleOf(weight, 'weight'), optHandle(bias, 'bias')));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** F.batch_norm: in training, running stats (when given) are updated in place with momentum. */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  if (opts.training) {
    // Python's F.batch_norm check (LibTorch has none): one value per channel makes the variance NaN.
    const size = handleCheck(input).shape;
    if (size[0] * size.slice(2).reduce((a, b) => a * b, 1) === 1) {
      throw new RangeError(`Expected more than 1 value per channel when training, got input size [${size.join(', ')}]`);
    }
  }
  return wrap(native.batchNorm(handleOf(input, 'input'), optHandle(runningMean, 'runningMean'), optHandle(runningVar, 'runningVar'),
    optHandle(opts.weight, 'weight'), optHandle(opts.bias, 'bias'), boolArg(opts.training, 'training', false),
    numberArg(opts.momentum ?? 0.1, 'momentum'), numberArg(opts.eps ?? 1e-5, 'eps')));
}

export interface Pool2dOptions {
  stride?: Size2 | null;
  padding?: Size2;
  dilation?: Size2;
  ceilMode?: boolean;
}
export function maxPool2d(input: Tensor, kernelSize: Size2, opts: Pool2dOptions = {}): Tensor {
  const k = pair(kernelSize, 'kernelSize');
  return wrap(native.maxPool2d(handleOf(input, 'input'), k, pair(opts.stride ?? k, 'stride'), pair(opts.padding ?? 0, 'padding'),
    pair(opts.dilation ?? 1, 'dilation'), boolArg(opts.ceilMode, 'ceilMode', false)));
}

export interface AvgPool2dOptions {
  stride?: Size2 | null;
  padding?: Size2;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}
export function avgPool2d(input: Tensor, kernelSize: Size2, opts: AvgPool2dOptions = {}): Tensor {
  const k = pair(kernelSize, 'kernelSize');
  return wrap(native.avgPool2d(handleOf(input, 'input'), k, pair(opts.stride ?? k, 'stride'), pair(opts.padding ?? 0, 'padding'),
    boolArg(opts.ceilMode, 'ceilMode', false), boolArg(opts.countIncludePad, 'countIncludePad', true),
    opts.divisorOverride === undefined || opts.divisorOverride === null ? undefined : intArg(opts.divisorOverride, 'divisorOverride')));
}

export function adaptiveAvgPool2d(input: Tensor, outputSize: Size2): Tensor {
  return wrap(native.adaptiveAvgPool2d(handleOf(input, 'input'), pair(outputSize, 'outputSize')));
}
export function adaptiveAvgPool3d(input: Tensor, outputSize: number | [number, number, number]): Tensor {
  const size = typeof outputSize === 'number' ? [outputSize, outputSize, outputSize] : outputSize;
  if (!Array.isArray(size) || size.length !== 3) throw new TypeError('outputSize must be an integer or 3 integers');
  return wrap(native.adaptiveAvgPool3d(handleOf(input, 'input'), size.map((s) => intArg(s, 'outputSize'))));
}
export function adaptiveMaxPool2d(input: Tensor, outputSize: Size2): Tensor {
  return wrap(native.adaptiveMaxPool2d(handleOf(input, 'input'), pair(outputSize, 'outputSize')));
}

export function dropout(input: Tensor, opts: { p?: number; training?: boolean; inplace?: boolean } = {}): Tensor {
  const p = numberArg(opts.p ?? 0.5, 'p');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (opts.inplace) {
    native.dropout(handleOf(input, 'input'), p, boolArg(opts.training, 'training', true), true);
    return input;
  }
  return wrap(native.dropout(handleOf(input, 'input'), p, boolArg(opts.training, 'training', true), false));
}

export function relu(input: Tensor, opts: { inplace?: boolean } = {}): Tensor {
  return opts.inplace ? input.relu_() : input.relu();
}
export const sigmoid = (input: Tensor): Tensor => input.sigmoid();
export const tanh = (input: Tensor): Tensor => input.tanh();
export const hardsigmoid = (input: Tensor): Tensor => input.hardsigmoid();
export const hardswish = (input: Tensor): Tensor => input.hardswish();
export const silu = (input: Tensor): Tensor => input.silu();
export const mish = (input: Tensor): Tensor => input.mish();
export const relu6 = (input: Tensor): Tensor => input.relu6();
export function gelu(input: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const a = opts.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new TypeError(`approximate must be 'none' or 'tanh' (got ${describe(a)})`);
  return wrap(native.gelu(handleOf(input, 'input'), a));
}
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(native.leakyRelu(handleOf(input, 'input'), numberArg(negativeSlope, 'negativeSlope')));
}
export function softmax(input: Tensor, dim: number): Tensor {
  return handleCheck(input).softmax(dim);
}
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return handleCheck(input).logSoftmax(dim);
}
function handleCheck(t: unknown): Tensor {
  handleOf(t, 'input');
  return t as Tensor;
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}
/** F.cross_entropy: target holds class indices (int64) or class probabilities (float, same shape). */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const smoothing = numberArg(opts.labelSmoothing ?? 0, 'labelSmoothing');
  if (!(smoothing >= 0 && smoothing <= 1)) throw new RangeError(`labelSmoothing must be between 0.0 and 1.0 (got ${smoothing})`);
  return wrap(native.crossEntropy(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    reductionCode(opts.reduction), intArg(opts.ignoreIndex ?? -100, 'ignoreIndex'), smoothing));
}
export function nllLoss(input: Tensor, target: Tensor, opts: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  return wrap(native.nllLoss(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    reductionCode(opts.reduction), intArg(opts.ignoreIndex ?? -100, 'ignoreIndex')));
}
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  return wrap(native.mseLoss(handleOf(input, 'input'), handleOf(target, 'target'), reductionCode(opts.reduction)));
}
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  return wrap(native.l1Loss(handleOf(input, 'input'), handleOf(target, 'target'), reductionCode(opts.reduction)));
}
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  return wrap(native.binaryCrossEntropyWithLogits(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    optHandle(opts.posWeight, 'posWeight'), reductionCode(opts.reduction)));
}

/** F.pad: pad is (left, right, top, bottom, …) from the last dim backwards; mode 'constant' | 'reflect' | 'replicate' | 'circular'. */
export function pad(input: Tensor, padding: number[], opts: { mode?: string; value?: number } = {}): Tensor {
  return wrap(native.pad(handleOf(input, 'input'), padding.map((p) => intArg(p, 'pad')), opts.mode ?? 'constant', opts.value));
}
