/**
 * Pooling layers, as torch.nn's pooling.py: each keeps its arguments as Python does (kernel size and
 * stride as given, stride defaulting to the kernel size) and prints them as Python prints them.
 */
import type { Tensor } from '../../core/tensor';
import { Module } from '../module';
import * as F from '../functional';
import { pyRepr } from '../repr';
import { signature, type ArgsOf, type Signature } from '../../core/signature';
import { type AdaptiveSize } from '../functional/pooling';
import { avgPool1dSig, avgPoolSig, fractionalSignature, type AvgPoolFields, type Size } from '../functional/args';

// Python's nn.MaxPoolNd takes returnIndices before ceilMode (F.max_poolNd after it); errors list the options in this order
export type MaxPoolFields = { stride: Size | null; padding: Size; dilation: Size; returnIndices: boolean; ceilMode: boolean };
const maxSig = (who: string) =>
  signature<MaxPoolFields>()(who, ['stride', 'padding', 'dilation', 'returnIndices', 'ceilMode'], {
    stride: null,
    padding: 0,
    dilation: 1,
    returnIndices: false,
    ceilMode: false,
  });
const MAX = [maxSig('MaxPool1d'), maxSig('MaxPool2d'), maxSig('MaxPool3d')];
type MaxPoolArgs = ArgsOf<(typeof MAX)[0]>;

/** What MaxPool1d/2d/3d share (PyTorch's _MaxPoolNd). */
export abstract class MaxPoolNd extends Module {
  readonly stride: Size;
  readonly padding: Size;
  readonly dilation: Size;
  readonly returnIndices: boolean;
  readonly ceilMode: boolean;
  protected abstract readonly op: typeof F.maxPool1d;
  protected constructor(
    dims: number,
    readonly kernelSize: Size,
    rest: readonly unknown[],
  ) {
    super();
    const a = MAX[dims - 1].bind(rest);
    this.stride = a.stride ?? kernelSize;
    ({ padding: this.padding, dilation: this.dilation, returnIndices: this.returnIndices, ceilMode: this.ceilMode } = a);
  }
  /** The pooled input; with returnIndices, [output, indices]. */
  forward(input: Tensor): Tensor {
    return this.op(input, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode, this.returnIndices);
  }
  override extraRepr(): string {
    return (
      `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}, ` +
      `dilation=${pyRepr(this.dilation)}, ceil_mode=${pyRepr(this.ceilMode)}`
    );
  }
}
/** As torch.nn.MaxPool1d(kernelSize, stride, padding, dilation, returnIndices, ceilMode). */
export class MaxPool1d extends MaxPoolNd {
  protected readonly op = F.maxPool1d;
  constructor(kernelSize: Size, ...rest: MaxPoolArgs) {
    super(1, kernelSize, rest);
  }
}
/** As torch.nn.MaxPool2d(kernelSize, stride, padding, dilation, returnIndices, ceilMode). */
export class MaxPool2d extends MaxPoolNd {
  protected readonly op = F.maxPool2d;
  constructor(kernelSize: Size, ...rest: MaxPoolArgs) {
    super(2, kernelSize, rest);
  }
}
/** As torch.nn.MaxPool3d(kernelSize, stride, padding, dilation, returnIndices, ceilMode). */
export class MaxPool3d extends MaxPoolNd {
  protected readonly op = F.maxPool3d;
  constructor(kernelSize: Size, ...rest: MaxPoolArgs) {
    super(3, kernelSize, rest);
  }
}

const AVG1 = avgPool1dSig('AvgPool1d');
const AVG = [AVG1, avgPoolSig('AvgPool2d'), avgPoolSig('AvgPool3d')];
export type { AvgPoolFields };
export type AvgPoolArgs = ArgsOf<Signature<AvgPoolFields, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']>>;

/** What AvgPool1d/2d/3d share. */
export abstract class AvgPoolNd extends Module {
  readonly stride: Size;
  readonly padding: Size;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  protected constructor(
    private readonly dims: number,
    readonly kernelSize: Size,
    rest: readonly unknown[],
  ) {
    super();
    const a = AVG[dims - 1].bind(rest) as AvgPoolFields;
    this.stride = a.stride ?? kernelSize;
    ({ padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad } = a);
    this.divisorOverride = a.divisorOverride ?? null;
  }
  forward(input: Tensor): Tensor {
    if (this.dims === 1) return F.avgPool1d(input, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad);
    const op = this.dims === 2 ? F.avgPool2d : F.avgPool3d;
    return op(input, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride);
  }
  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}
/** As torch.nn.AvgPool1d(kernelSize, stride, padding, ceilMode, countIncludePad); its sizes kept as 1-tuples, as Python's. */
export class AvgPool1d extends AvgPoolNd {
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof AVG1>) {
    super(1, F.ntuple(1, kernelSize, 'kernelSize'), rest);
    const self = this as { stride: Size; padding: Size };
    self.stride = F.ntuple(1, this.stride, 'stride');
    self.padding = F.ntuple(1, this.padding, 'padding');
  }
}
/** As torch.nn.AvgPool2d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride). */
export class AvgPool2d extends AvgPoolNd {
  constructor(kernelSize: Size, ...rest: AvgPoolArgs) {
    super(2, kernelSize, rest);
  }
}
/** As torch.nn.AvgPool3d(kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride). */
export class AvgPool3d extends AvgPoolNd {
  constructor(kernelSize: Size, ...rest: AvgPoolArgs) {
    super(3, kernelSize, rest);
  }
}

/** Average pooling to a fixed output size, as torch.nn.AdaptiveAvgPool1d/2d/3d(outputSize). */
abstract class AdaptiveAvgPoolNd extends Module {
  protected abstract readonly op: (x: Tensor, size: AdaptiveSize) => Tensor;
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }
  forward(input: Tensor): Tensor {
    return this.op(input, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}
export class AdaptiveAvgPool1d extends AdaptiveAvgPoolNd {
  protected readonly op = F.adaptiveAvgPool1d;
}
export class AdaptiveAvgPool2d extends AdaptiveAvgPoolNd {
  protected readonly op = F.adaptiveAvgPool2d;
}
export class AdaptiveAvgPool3d extends AdaptiveAvgPoolNd {
  protected readonly op = F.adaptiveAvgPool3d;
}

const ADAPTIVE_MAX = signature<{ returnIndices: boolean }>()('AdaptiveMaxPool', ['returnIndices'], { returnIndices: false });
/** Max pooling to a fixed output size, as torch.nn.AdaptiveMaxPool1d/2d/3d(outputSize, returnIndices). */
abstract class AdaptiveMaxPoolNd extends Module {
  readonly returnIndices: boolean;
  protected abstract readonly op: typeof F.adaptiveMaxPool1d;
  constructor(
    readonly outputSize: AdaptiveSize,
    ...rest: ArgsOf<typeof ADAPTIVE_MAX>
  ) {
    super();
    this.returnIndices = ADAPTIVE_MAX.bind(rest).returnIndices;
  }
  forward(input: Tensor): Tensor {
    return this.op(input, this.outputSize, this.returnIndices);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}
export class AdaptiveMaxPool1d extends AdaptiveMaxPoolNd {
  protected readonly op = F.adaptiveMaxPool1d;
}
export class AdaptiveMaxPool2d extends AdaptiveMaxPoolNd {
  protected readonly op = F.adaptiveMaxPool2d;
}
export class AdaptiveMaxPool3d extends AdaptiveMaxPoolNd {
  protected readonly op = F.adaptiveMaxPool3d;
}

const LP = signature<{ stride: Size | null; ceilMode: boolean }>()('LPPool', ['stride', 'ceilMode'], { stride: null, ceilMode: false });
/** The p-norm of each window, as torch.nn.LPPool1d/2d/3d(normType, kernelSize, stride, ceilMode). */
abstract class LPPoolNd extends Module {
  readonly stride: Size | null;
  readonly ceilMode: boolean;
  protected abstract readonly op: typeof F.lpPool1d;
  constructor(
    readonly normType: number,
    readonly kernelSize: Size,
    ...rest: ArgsOf<typeof LP>
  ) {
    super();
    ({ stride: this.stride, ceilMode: this.ceilMode } = LP.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return this.op(input, this.normType, this.kernelSize, this.stride, this.ceilMode);
  }
  override extraRepr(): string {
    return `norm_type=${pyRepr(this.normType)}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, ceil_mode=${pyRepr(this.ceilMode)}`;
  }
}
export class LPPool1d extends LPPoolNd {
  protected readonly op = F.lpPool1d;
}
export class LPPool2d extends LPPoolNd {
  protected readonly op = F.lpPool2d;
}
export class LPPool3d extends LPPoolNd {
  protected readonly op = F.lpPool3d;
}

const UNPOOL = signature<{ stride: Size | null; padding: Size }>()('MaxUnpool', ['stride', 'padding'], { stride: null, padding: 0 });
/** The inverse of max pooling given its indices, as torch.nn.MaxUnpool1d/2d/3d(kernelSize, stride, padding). */
abstract class MaxUnpoolNd extends Module {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  protected abstract readonly op: typeof F.maxUnpool1d;
  protected constructor(dims: number, kernelSize: Size, rest: readonly unknown[]) {
    super();
    const a = UNPOOL.bind(rest);
    this.kernelSize = F.ntuple(dims, kernelSize, 'kernelSize');
    this.stride = F.ntuple(dims, a.stride ?? kernelSize, 'stride');
    this.padding = F.ntuple(dims, a.padding, 'padding');
  }
  forward(input: Tensor, indices: Tensor, outputSize: number[] | null = null): Tensor {
    return this.op(input, indices, this.kernelSize, this.stride, this.padding, outputSize);
  }
  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}
export class MaxUnpool1d extends MaxUnpoolNd {
  protected readonly op = F.maxUnpool1d;
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof UNPOOL>) {
    super(1, kernelSize, rest);
  }
}
export class MaxUnpool2d extends MaxUnpoolNd {
  protected readonly op = F.maxUnpool2d;
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof UNPOOL>) {
    super(2, kernelSize, rest);
  }
}
export class MaxUnpool3d extends MaxUnpoolNd {
  protected readonly op = F.maxUnpool3d;
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof UNPOOL>) {
    super(3, kernelSize, rest);
  }
}

const FRACTIONAL = fractionalSignature('FractionalMaxPool');
/** Max pooling over pseudo-random regions, as torch.nn.FractionalMaxPool2d/3d(kernelSize, outputSize, outputRatio, returnIndices). */
abstract class FractionalMaxPoolNd extends Module {
  declare _random_samples: Tensor | null;
  readonly kernelSize: number[];
  readonly outputSize: number[] | null;
  readonly outputRatio: number[] | null;
  readonly returnIndices: boolean;
  protected constructor(
    private readonly dims: 2 | 3,
    kernelSize: Size,
    rest: readonly unknown[],
  ) {
    super();
    const a = FRACTIONAL.bind(rest);
    const who = `FractionalMaxPool${dims}d`;
    this.kernelSize = F.ntuple(dims, kernelSize, 'kernelSize');
    this.returnIndices = a.returnIndices;
    this.registerBuffer('_random_samples', a._randomSamples);
    this.outputSize = a.outputSize === null ? null : F.ntuple(dims, a.outputSize, 'outputSize');
    const ratio = a.outputRatio;
    this.outputRatio = ratio === null ? null : typeof ratio === 'number' ? new Array<number>(dims).fill(ratio) : ratio;
    if (a.outputSize === null && ratio === null) throw new RangeError(`${who} requires specifying either an output size, or a pooling ratio`);
    if (a.outputSize !== null && ratio !== null) throw new RangeError('only one of output_size and output_ratio may be specified');
    if (this.outputRatio && !this.outputRatio.every((r) => r > 0 && r < 1)) {
      throw new RangeError(`output_ratio must be between 0 and 1 (got ${pyRepr(ratio)})`);
    }
  }
  forward(input: Tensor): Tensor {
    const op = this.dims === 2 ? F.fractionalMaxPool2d : F.fractionalMaxPool3d;
    return op(input, this.kernelSize, this.outputSize, this.outputRatio, this.returnIndices, this._random_samples);
  }
}
export class FractionalMaxPool2d extends FractionalMaxPoolNd {
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof FRACTIONAL>) {
    super(2, kernelSize, rest);
  }
}
export class FractionalMaxPool3d extends FractionalMaxPoolNd {
  constructor(kernelSize: Size, ...rest: ArgsOf<typeof FRACTIONAL>) {
    super(3, kernelSize, rest);
  }
}
