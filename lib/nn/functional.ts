/**
 * torch.nn.functional: one native call each, arguments validated and named here. Sizes given as a
 * number mean the same along each spatial dim, as PyTorch's _pair.
 */
import { native, type Handle } from '../native';
import { describe } from '../dtype';
import { Tensor, boolArg, handleOf, intArg, numberArg, optionsArg, pyOptions, sameShape, wrap, type PyRest } from '../tensor';
import { TorchError, TorchValueError, warnOnce } from '../errors';
import type { Dtype } from '../dtype';
import { nnFunctions } from '../surface';

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

// F.name's options: an unknown or snake_case one is a TypeError, as Python's unexpected keyword argument.
function fopts<T extends object>(opts: unknown, name: string, known: readonly string[]): T {
  return optionsArg<T>(opts, `F.${name}`, known);
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
/** F.conv2d(input, weight, bias, stride, padding, dilation, groups): Python's order, or any of them by name. */
export function conv2d(input: Tensor, weight: Tensor,
  ...rest: PyRest<[bias: Tensor | null, stride: Size2, padding: Size2 | 'same' | 'valid', dilation: Size2, groups: number], Conv2dOptions>): Tensor {
  const opts = fopts<Conv2dOptions>(pyOptions('conv2d', rest, ['bias', 'stride', 'padding', 'dilation', 'groups']), 'conv2d', ['bias', 'stride', 'padding', 'dilation', 'groups']);
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
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const opts = fopts<BatchNormOptions>(options, 'batchNorm', ['weight', 'bias', 'training', 'momentum', 'eps']);
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
/** F.max_pool2d(input, kernelSize, stride, padding, dilation, ceilMode): Python's order, or by name. */
export function maxPool2d(input: Tensor, kernelSize: Size2,
  ...rest: PyRest<[stride: Size2, padding: Size2, dilation: Size2, ceilMode: boolean], Pool2dOptions>): Tensor {
  const opts = fopts<Pool2dOptions>(pyOptions('maxPool2d', rest, ['stride', 'padding', 'dilation', 'ceilMode']), 'maxPool2d', ['stride', 'padding', 'dilation', 'ceilMode']);
  const k = pair(kernelSize, 'kernelSize');
  // No stride is ATen's empty list (the kernel size), as Python passes it: grad_fn._saved_stride is () then
  return wrap(native.maxPool2d(handleOf(input, 'input'), k, opts.stride == null ? [] : pair(opts.stride, 'stride'), pair(opts.padding ?? 0, 'padding'),
    pair(opts.dilation ?? 1, 'dilation'), boolArg(opts.ceilMode, 'ceilMode', false)));
}

export interface AvgPool2dOptions {
  stride?: Size2 | null;
  padding?: Size2;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}
/** F.avg_pool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride): Python's order, or by name. */
export function avgPool2d(input: Tensor, kernelSize: Size2,
  ...rest: PyRest<[stride: Size2, padding: Size2, ceilMode: boolean, countIncludePad: boolean, divisorOverride: number], AvgPool2dOptions>): Tensor {
  const opts = fopts<AvgPool2dOptions>(pyOptions('avgPool2d', rest, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']), 'avgPool2d', ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const k = pair(kernelSize, 'kernelSize');
  return wrap(native.avgPool2d(handleOf(input, 'input'), k, opts.stride == null ? [] : pair(opts.stride, 'stride'), pair(opts.padding ?? 0, 'padding'),
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

export function dropout(input: Tensor, options: { p?: number; training?: boolean; inplace?: boolean } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'dropout', ['p', 'training', 'inplace']);
  const p = numberArg(opts.p ?? 0.5, 'p');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (opts.inplace) {
    native.dropout(handleOf(input, 'input'), p, boolArg(opts.training, 'training', true), true);
    return input;
  }
  return wrap(native.dropout(handleOf(input, 'input'), p, boolArg(opts.training, 'training', true), false));
}

export function relu(input: Tensor, options: { inplace?: boolean } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'relu', ['inplace']);
  return opts.inplace ? input.relu_() : input.relu();
}
export const sigmoid = (input: Tensor): Tensor => input.sigmoid();
export const tanh = (input: Tensor): Tensor => input.tanh();
export const hardsigmoid = (input: Tensor): Tensor => nnFunctions.hardsigmoid(input);
export const hardswish = (input: Tensor): Tensor => nnFunctions.hardswish(input);
export const silu = (input: Tensor): Tensor => nnFunctions.silu(input);
export const mish = (input: Tensor): Tensor => nnFunctions.mish(input);
export const relu6 = (input: Tensor): Tensor => nnFunctions.relu6(input);
export function gelu(input: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const a = fopts<typeof options>(options, 'gelu', ['approximate']).approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new TypeError(`approximate must be 'none' or 'tanh' (got ${describe(a)})`);
  return wrap(native.gelu(handleOf(input, 'input'), a));
}
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(native.leakyRelu(handleOf(input, 'input'), numberArg(negativeSlope, 'negativeSlope')));
}
export function elu(input: Tensor, options: { alpha?: number } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'elu', ['alpha']);
  return wrap(native.elu(handleOf(input, 'input'), numberArg(opts.alpha ?? 1, 'alpha')));
}
export function softplus(input: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'softplus', ['beta', 'threshold']);
  return wrap(native.softplus(handleOf(input, 'input'), numberArg(opts.beta ?? 1, 'beta'), numberArg(opts.threshold ?? 20, 'threshold')));
}
export function hardtanh(input: Tensor, options: { minVal?: number; maxVal?: number } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'hardtanh', ['minVal', 'maxVal']);
  const [lo, hi] = [numberArg(opts.minVal ?? -1, 'minVal'), numberArg(opts.maxVal ?? 1, 'maxVal')];
  if (hi <= lo) throw new RangeError(`hardtanh: maxVal must be greater than minVal (got ${lo}, ${hi})`);
  return wrap(native.hardtanh(handleOf(input, 'input'), lo, hi));
}

/** F.interpolate of (N, C, H, W) to `size`: mode 'nearest' (default) or 'bilinear' (alignCorners, default false; antialias). */
export function interpolate(input: Tensor, options: { size: Size2; mode?: 'nearest' | 'bilinear'; alignCorners?: boolean; antialias?: boolean }): Tensor {
  const opts = fopts<typeof options>(options, 'interpolate', ['size', 'mode', 'alignCorners', 'antialias']);
  const antialias = boolArg(opts.antialias, 'antialias', false);
  if (antialias && opts.mode !== 'bilinear') throw new RangeError('Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input');
  const mode = opts.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') throw new TypeError(`interpolate: mode must be 'nearest' or 'bilinear' (got ${describe(mode)})`);
  if (mode === 'nearest' && opts.alignCorners !== undefined) {
    throw new RangeError('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
  }
  if (handleCheck(input).ndim !== 4) throw new RangeError(`interpolate: expected a 4-D (N, C, H, W) input (got ${input.ndim}-D)`);
  return wrap(native.interpolate(input.handle, pair(opts.size, 'size'), mode, boolArg(opts.alignCorners, 'alignCorners', false), antialias));
}

export function softmax(input: Tensor, dim: number, opts?: { dtype?: Dtype }): Tensor {
  return handleCheck(input).softmax(dim, fopts(opts, 'softmax', ['dtype']));
}
export function logSoftmax(input: Tensor, dim: number, opts?: { dtype?: Dtype }): Tensor {
  return handleCheck(input).logSoftmax(dim, fopts(opts, 'logSoftmax', ['dtype']));
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
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const opts = fopts<CrossEntropyOptions>(options, 'crossEntropy', ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const smoothing = numberArg(opts.labelSmoothing ?? 0, 'labelSmoothing');
  if (!(smoothing >= 0 && smoothing <= 1)) throw new RangeError(`labelSmoothing must be between 0.0 and 1.0 (got ${smoothing})`);
  return wrap(native.crossEntropy(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    reductionCode(opts.reduction), intArg(opts.ignoreIndex ?? -100, 'ignoreIndex'), smoothing));
}
export function nllLoss(input: Tensor, target: Tensor, options: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  const opts = fopts<CrossEntropyOptions>(options, 'nllLoss', ['weight', 'ignoreIndex', 'reduction']);
  return wrap(native.nllLoss(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    reductionCode(opts.reduction), intArg(opts.ignoreIndex ?? -100, 'ignoreIndex')));
}
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'mseLoss', ['reduction']);
  return broadcastLoss(input, target, 'mseLoss', (x, y) => native.mseLoss(x, y, reductionCode(opts.reduction)));
}
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'l1Loss', ['reduction']);
  return broadcastLoss(input, target, 'l1Loss', (x, y) => native.l1Loss(x, y, reductionCode(opts.reduction)));
}

/**
 * As Python's F.mse_loss / F.l1_loss: input and target of different sizes are broadcast against each other
 * first (with Python's warning, once), so the gradient is taken over the broadcast elements.
 */
function broadcastLoss(input: Tensor, target: Tensor, name: string, loss: (x: Handle, y: Handle) => Handle): Tensor {
  const [x, y] = [handleOf(input, 'input'), handleOf(target, 'target')];
  const [xs, ys] = [input.shape, target.shape];
  if (sameShape(xs, ys)) return wrap(loss(x, y));
  warnOnce(`F.${name}.broadcast`, `F.${name}: using a target size ([${ys.join(', ')}]) that is different to the input size ([${xs.join(', ')}]). ` +
    'This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.');
  const n = Math.max(xs.length, ys.length);
  const shape = Array.from({ length: n }, (_, i) => {
    const [a, b] = [xs[xs.length - n + i] ?? 1, ys[ys.length - n + i] ?? 1];
    if (a !== b && a !== 1 && b !== 1) {
      throw new TorchError(`The size of tensor a (${a}) must match the size of tensor b (${b}) at non-singleton dimension ${i}`);
    }
    return a === 1 ? b : a;
  });
  // torch.broadcast_tensors: expanded views, whose backward sums back over the broadcast dims
  const bx = native.expand(x, shape);
  let by: Handle;
  try {
    by = native.expand(y, shape);
  } catch (e) {
    native.dispose(bx);
    throw e;
  }
  try {
    return wrap(loss(bx, by));
  } finally {
    native.dispose(bx);
    native.dispose(by);
  }
}
/** F.smooth_l1_loss: squared below beta, absolute above; beta 0 is l1Loss (as Python's). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'smoothL1Loss', ['reduction', 'beta']);
  const beta = numberArg(opts.beta ?? 1, 'beta');
  if (beta < 0) throw new RangeError(`smoothL1Loss: beta must be non-negative (got ${beta})`);
  const reduction = reductionCode(opts.reduction);
  return broadcastLoss(input, target, 'smoothL1Loss', (x, y) => (beta === 0 ? native.l1Loss(x, y, reduction) : native.smoothL1Loss(x, y, reduction, beta)));
}

/** F.binary_cross_entropy of probabilities; target of input's size (Python's rule); weight broadcast to it. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'binaryCrossEntropy', ['weight', 'reduction']);
  const [xs, ys] = [handleCheck(input).shape, handleCheck(target).shape];
  if (!sameShape(xs, ys)) {
    throw new TorchValueError(`Using a target size ([${ys.join(', ')}]) that is different to the input size ([${xs.join(', ')}]) is deprecated. ` +
      'Please ensure they have the same size.');
  }
  const weight = optHandle(opts.weight, 'weight');
  const expanded = weight === undefined ? undefined : native.expand(weight, ys);
  try {
    return wrap(native.binaryCrossEntropy(handleOf(input, 'input'), handleOf(target, 'target'), expanded, reductionCode(opts.reduction)));
  } finally {
    if (expanded !== undefined) native.dispose(expanded);
  }
}

export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'binaryCrossEntropyWithLogits', ['weight', 'posWeight', 'reduction']);
  const [xs, ys] = [handleCheck(input).shape, handleCheck(target).shape];
  if (!sameShape(xs, ys)) {
    throw new TorchValueError(`Target size ([${ys.join(', ')}]) must be the same as input size ([${xs.join(', ')}])`);
  }
  return wrap(native.binaryCrossEntropyWithLogits(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(opts.weight, 'weight'),
    optHandle(opts.posWeight, 'posWeight'), reductionCode(opts.reduction)));
}

/** F.pad: pad is (left, right, top, bottom, …) from the last dim backwards; mode 'constant' | 'reflect' | 'replicate' | 'circular'. */
export function pad(input: Tensor, padding: number[], options: { mode?: string; value?: number } = {}): Tensor {
  const opts = fopts<typeof options>(options, 'pad', ['mode', 'value']);
  return wrap(native.pad(handleOf(input, 'input'), padding.map((p) => intArg(p, 'pad')), opts.mode ?? 'constant', opts.value));
}
