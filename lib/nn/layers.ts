/**
 * The layers: Conv2d, Linear, BatchNorm2d, pooling, activations, Dropout, Flatten, Identity. Each one's
 * default initialisation is PyTorch's reset_parameters() and its repr PyTorch's extra_repr().
 */
import { native } from '../native';
import { describe, type Dtype } from '../dtype';
import { Tensor, boolArg, intArg, numberArg, optionsArg, pyOptions, type PyRest } from '../tensor';
import { tensor } from '../creation';
import { empty, ones, zeros } from '../generated/torch';
import { noGrad } from '../autograd';
import { Module, Parameter } from './module';
import * as F from './functional';
import * as init from './init';
import { pyRepr } from './repr';

const [TORCH_MAJOR, TORCH_MINOR] = native.buildInfo.torchVersion.split('.').map(Number);
const BN_PRINTS_BIAS = TORCH_MAJOR > 2 || (TORCH_MAJOR === 2 && TORCH_MINOR >= 13);

export interface FactoryOptions {
  device?: string;
  dtype?: Dtype;
}

function positive(v: unknown, name: string): number {
  const n = intArg(v, name);
  if (n <= 0) throw new RangeError(`${name} must be a positive integer (got ${n})`);
  return n;
}

/** PyTorch's reset_parameters for Linear and Conv: kaiming_uniform_(a=√5), bias U(±1/√fan_in). */
function resetWeightAndBias(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}

export interface Conv2dOptions extends FactoryOptions {
  stride?: F.Size2;
  padding?: F.Size2 | 'same' | 'valid';
  dilation?: F.Size2;
  groups?: number;
  bias?: boolean;
}

/** 2-D convolution, as torch.nn.Conv2d: `new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, dilation, groups, bias })`; PyTorch's initialisation. */
export class Conv2d extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: F.Size2,
    ...rest: PyRest<[stride: F.Size2, padding: F.Size2 | 'same' | 'valid', dilation: F.Size2, groups: number, bias: boolean], Conv2dOptions>) {
    super();
    const options = pyOptions('Conv2d', rest, ['stride', 'padding', 'dilation', 'groups', 'bias']);
    const opts = optionsArg<Conv2dOptions>(options, 'Conv2d', ['stride', 'padding', 'dilation', 'groups', 'bias', 'device', 'dtype']);
    this.inChannels = positive(inChannels, 'inChannels');
    this.outChannels = positive(outChannels, 'outChannels');
    this.kernelSize = F.pair(kernelSize, 'kernelSize');
    if (this.kernelSize.some((k) => k <= 0)) throw new RangeError(`kernelSize must be positive (got ${pyRepr(this.kernelSize)})`);
    this.stride = F.pair(opts.stride ?? 1, 'stride');
    this.padding = opts.padding === 'same' || opts.padding === 'valid' ? opts.padding : F.pair(opts.padding ?? 0, 'padding');
    this.dilation = F.pair(opts.dilation ?? 1, 'dilation');
    if (this.padding === 'same' && this.stride.some((st) => st !== 1)) throw new RangeError("padding='same' is not supported for strided convolutions");
    this.groups = positive(opts.groups ?? 1, 'groups');
    if (this.inChannels % this.groups || this.outChannels % this.groups) throw new RangeError('inChannels and outChannels must be divisible by groups');
    const f = { device: opts.device, dtype: opts.dtype };
    this.weight = new Parameter(empty([this.outChannels, this.inChannels / this.groups, ...this.kernelSize], f));
    this.bias = boolArg(opts.bias, 'bias', true) ? new Parameter(empty([this.outChannels], f)) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }
  forward(input: Tensor): Tensor {
    return F.conv2d(input, this.weight, { bias: this.bias, stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    // str.format in Python's repr: padding=same, unquoted
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyRepr(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyRepr(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

/** y = x Wᵀ + b, as torch.nn.Linear: `new Linear(inFeatures, outFeatures, { bias })`; PyTorch's initialisation. */
export class Linear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, ...rest: PyRest<[bias: boolean], { bias?: boolean } & FactoryOptions>) {
    super();
    const opts = optionsArg<{ bias?: boolean } & FactoryOptions>(pyOptions('Linear', rest, ['bias']), 'Linear', ['bias', 'device', 'dtype']);
    this.inFeatures = intArg(inFeatures, 'inFeatures');
    this.outFeatures = intArg(outFeatures, 'outFeatures');
    if (this.inFeatures < 0 || this.outFeatures < 0) throw new RangeError('Linear: feature counts must be non-negative');
    const f = { device: opts.device, dtype: opts.dtype };
    this.weight = new Parameter(empty([this.outFeatures, this.inFeatures], f));
    this.bias = boolArg(opts.bias, 'bias', true) ? new Parameter(empty([this.outFeatures], f)) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }
  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyRepr(this.bias !== null)}`;
  }
}

export interface BatchNormOptions extends FactoryOptions {
  eps?: number;
  /** With affine, whether to learn a bias (PyTorch 2.13's keyword; default true). */
  bias?: boolean;
  /** null: a cumulative moving average, as PyTorch's momentum=None. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalisation over (N, C, H, W), as torch.nn.BatchNorm2d, with running_mean / running_var / num_batches_tracked buffers. */
export class BatchNorm2d extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, ...rest: PyRest<[eps: number, momentum: number | null, affine: boolean, trackRunningStats: boolean], BatchNormOptions>) {
    super();
    const options = pyOptions('BatchNorm2d', rest, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    const opts = optionsArg<BatchNormOptions>(options, 'BatchNorm2d', ['eps', 'bias', 'momentum', 'affine', 'trackRunningStats', 'device', 'dtype']);
    this.numFeatures = positive(numFeatures, 'numFeatures');
    this.eps = numberArg(opts.eps ?? 1e-5, 'eps');
    this.momentum = opts.momentum === null ? null : numberArg(opts.momentum ?? 0.1, 'momentum');
    this.affine = boolArg(opts.affine, 'affine', true);
    this.trackRunningStats = boolArg(opts.trackRunningStats, 'trackRunningStats', true);
    const f = { device: opts.device, dtype: opts.dtype };
    if (this.affine) {
      this.weight = new Parameter(ones([this.numFeatures], f));
      this.bias = boolArg(opts.bias, 'bias', true) ? new Parameter(zeros([this.numFeatures], f)) : null;
    } else {
      this.weight = null;
      this.bias = null;
    }
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([this.numFeatures], f));
      this.registerBuffer('running_var', ones([this.numFeatures], f));
      this.registerBuffer('num_batches_tracked', tensor(0, { dtype: 'int64', device: opts.device }));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
  }

  /** As PyTorch's _NormBase: checkpoints before version 2 have no num_batches_tracked; it keeps its value. */
  protected override _loadFromStateDict(stateDict: Map<string, unknown>, prefix: string, localMetadata: Record<string, unknown>): void {
    const version = localMetadata.version;
    const key = `${prefix}num_batches_tracked`;
    const old = version === undefined || version === null || (typeof version === 'number' && version < 2);
    if (old && this.trackRunningStats && this.num_batches_tracked && !stateDict.has(key)) stateDict.set(key, this.num_batches_tracked);
  }

  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`input must be a Tensor (got ${describe(input)})`);
    if (input.ndim !== 4) throw new RangeError(`expected 4D input (got ${input.ndim}D input)`);
    if (input.shape[1] !== this.numFeatures) throw new RangeError(`expected input with ${this.numFeatures} channels (got ${input.shape[1]})`);
    // PyTorch's _BatchNorm.forward: count batches, pick the averaging factor, use batch stats in training.
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const n = this.num_batches_tracked;
      noGrad(() => n.add_(1));
      if (this.momentum === null) factor = 1 / (n.item() as number);
    }
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    const track = !this.training || this.trackRunningStats;
    return F.batchNorm(input, track ? this.running_mean : null, track ? this.running_var : null, {
      weight: this.weight, bias: this.bias, training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }
  override extraRepr(): string {
    // PyTorch prints bias= from 2.13, when BatchNorm gained the option; follow the linked LibTorch's version.
    const bias = BN_PRINTS_BIAS ? `bias=${pyRepr(this.bias !== null)}, ` : '';
    return `${this.numFeatures}, eps=${pyRepr(this.eps, true)}, momentum=${pyRepr(this.momentum, true)}, affine=${pyRepr(this.affine)}, ` +
      `${bias}track_running_stats=${pyRepr(this.trackRunningStats)}`;
  }
}

/** max(x, 0), as torch.nn.ReLU. */
export class ReLU extends Module {
  readonly opts: { inplace?: boolean };
  constructor(...rest: PyRest<[inplace: boolean], { inplace?: boolean }>) {
    super();
    this.opts = optionsArg(pyOptions('ReLU', rest, ['inplace']), 'ReLU', ['inplace']);
  }
  forward(input: Tensor): Tensor {
    return F.relu(input, { inplace: this.opts.inplace });
  }
  override extraRepr(): string {
    return this.opts.inplace ? 'inplace=True' : '';
  }
}

/** 1 / (1 + e⁻ˣ), as torch.nn.Sigmoid. */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}
/** tanh(x), as torch.nn.Tanh. */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}
/** The piecewise-linear sigmoid, as torch.nn.Hardsigmoid. */
export class Hardsigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.hardsigmoid(input);
  }
}
/** x · hardsigmoid(x), as torch.nn.Hardswish. */
export class Hardswish extends Module {
  forward(input: Tensor): Tensor {
    return F.hardswish(input);
  }
}
/** x · sigmoid(x), as torch.nn.SiLU. */
export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return F.silu(input);
  }
}
/** The Gaussian error linear unit, as torch.nn.GELU (`{ approximate: 'none' | 'tanh' }`). */
export class GELU extends Module {
  constructor(readonly opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    optionsArg(opts, 'GELU', ['approximate']);
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, this.opts);
  }
  override extraRepr(): string {
    return `approximate='${this.opts.approximate ?? 'none'}'`;
  }
}
/** Softmax along `dim`, as torch.nn.Softmax. */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
    intArg(dim, 'dim');
  }
  forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
/** Returns its input, as torch.nn.Identity. */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** Flattens dimensions startDim..endDim (default 1..-1), as torch.nn.Flatten. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)), as torch.nn.Dropout. */
export class Dropout extends Module {
  readonly p: number;
  readonly opts: { inplace?: boolean };
  constructor(...rest: PyRest<[p: number, inplace: boolean], { p?: number; inplace?: boolean }>) {
    super();
    const o = optionsArg<{ p?: number; inplace?: boolean }>(pyOptions('Dropout', rest, ['p', 'inplace']), 'Dropout', ['p', 'inplace']);
    const p = (this.p = o.p ?? 0.5);
    this.opts = { inplace: o.inplace };
    if (!(numberArg(p, 'p') >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  }
  forward(input: Tensor): Tensor {
    return F.dropout(input, { p: this.p, training: this.training, inplace: this.opts.inplace });
  }
  override extraRepr(): string {
    return `p=${pyRepr(this.p, true)}, inplace=${pyRepr(!!this.opts.inplace)}`;
  }
}

/** 2-D max pooling, as torch.nn.MaxPool2d. */
export class MaxPool2d extends Module {
  readonly opts: F.Pool2dOptions;
  constructor(readonly kernelSize: F.Size2,
    ...rest: PyRest<[stride: F.Size2 | null, padding: F.Size2, dilation: F.Size2, returnIndices: false, ceilMode: boolean], F.Pool2dOptions>) {
    super();
    const o = pyOptions('MaxPool2d', rest, ['stride', 'padding', 'dilation', 'returnIndices', 'ceilMode']);
    if (o.returnIndices === false) delete o.returnIndices;  // the default; true is refused below (no indices yet)
    if (o.stride === null) delete o.stride;  // Python's stride=None: the kernel size
    this.opts = optionsArg(o, 'MaxPool2d', ['stride', 'padding', 'dilation', 'ceilMode']);
    F.pair(kernelSize, 'kernelSize');
  }
  forward(input: Tensor): Tensor {
    return F.maxPool2d(input, this.kernelSize, { ...this.opts, stride: this.opts.stride ?? this.kernelSize }); // Python's module: stride=None is kernel_size
  }
  override extraRepr(): string {
    const o = this.opts;
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(o.stride ?? this.kernelSize)}, padding=${pyRepr(o.padding ?? 0)}, ` +
      `dilation=${pyRepr(o.dilation ?? 1)}, ceil_mode=${pyRepr(!!o.ceilMode)}`;
  }
}

/** 2-D average pooling, as torch.nn.AvgPool2d. */
export class AvgPool2d extends Module {
  readonly opts: F.AvgPool2dOptions;
  constructor(readonly kernelSize: F.Size2,
    ...rest: PyRest<[stride: F.Size2 | null, padding: F.Size2, ceilMode: boolean, countIncludePad: boolean, divisorOverride: number | null], F.AvgPool2dOptions>) {
    super();
    const o = pyOptions('AvgPool2d', rest, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    if (o.stride === null) delete o.stride;  // Python's stride=None: the kernel size
    this.opts = optionsArg(o, 'AvgPool2d', ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    F.pair(kernelSize, 'kernelSize');
  }
  forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, { ...this.opts, stride: this.opts.stride ?? this.kernelSize }); // Python's module: stride=None is kernel_size
  }
  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.opts.stride ?? this.kernelSize)}, padding=${pyRepr(this.opts.padding ?? 0)}`;
  }
}

/** Average pooling to a fixed output size, as torch.nn.AdaptiveAvgPool2d. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: F.Size2) {
    super();
    F.pair(outputSize, 'outputSize');
  }
  forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool2d(input, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}

/** Average pooling over (D, H, W) to a fixed output size, as torch.nn.AdaptiveAvgPool3d. */
export class AdaptiveAvgPool3d extends Module {
  constructor(readonly outputSize: number | [number, number, number]) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool3d(input, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}

/** Cross-entropy of logits and class indices (or probabilities), as torch.nn.CrossEntropyLoss (weight, ignoreIndex, labelSmoothing, reduction). */
export class CrossEntropyLoss extends Module {
  constructor(readonly opts: F.CrossEntropyOptions = {}) {
    super();
    optionsArg(opts, 'CrossEntropyLoss', ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    F.reductionCode(opts.reduction);
    if (opts.weight) this.registerBuffer('weight', opts.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, this.opts);
  }
}

/** Mean squared error, as torch.nn.MSELoss. */
export class MSELoss extends Module {
  constructor(readonly opts: { reduction?: F.Reduction } = {}) {
    super();
    optionsArg(opts, 'MSELoss', ['reduction']);
    F.reductionCode(opts.reduction);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.opts);
  }
}

/** Negative log-likelihood of log-probabilities, as torch.nn.NLLLoss. */
export class NLLLoss extends Module {
  constructor(readonly opts: Omit<F.CrossEntropyOptions, 'labelSmoothing'> = {}) {
    super();
    optionsArg(opts, 'NLLLoss', ['weight', 'ignoreIndex', 'reduction']);
    F.reductionCode(opts.reduction);
    if (opts.weight) this.registerBuffer('weight', opts.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, this.opts);
  }
}

