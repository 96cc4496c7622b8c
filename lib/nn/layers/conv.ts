/**
 * Convolution layers, as torch.nn's conv.py: one base (_ConvNd) normalises the arguments once and keeps
 * them in PyTorch-named fields; forward passes them straight to the functional. Conv1d/2d/3d,
 * ConvTranspose1d/2d/3d, and Unfold/Fold.
 */
import type { Tensor } from '../../core/tensor';
import { empty } from '../../generated/torch';
import { Module, Parameter } from '../module';
import * as F from '../functional';
import { conv2dOp } from '../functional/raw';
import * as init from '../init';
import { pyRepr } from '../repr';
import { signature, type ArgsOf, type Signature } from '../../core/signature';
import type { Size } from '../functional/args';
import type { Dtype } from '../../core/dtype';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES: readonly string[] = ['zeros', 'reflect', 'replicate', 'circular'];

export type ConvFields = {
  stride: Size;
  padding: Size | 'same' | 'valid';
  dilation: Size;
  groups: number;
  bias: boolean;
  paddingMode: PaddingMode;
  device: string | null;
  dtype: Dtype | null;
};
const CONV_DEFAULTS: ConvFields = { stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, paddingMode: 'zeros', device: null, dtype: null };
export type ConvPositional = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'device', 'dtype'];
export type ConvTransposePositional = ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', 'device', 'dtype'];
const convSig = (who: string) =>
  signature<ConvFields>()(who, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'device', 'dtype'], CONV_DEFAULTS);
export type ConvTFields = Omit<ConvFields, 'padding'> & { padding: Size; outputPadding: Size };
const convTSig = (who: string) =>
  signature<ConvTFields>()(who, ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', 'device', 'dtype'], {
    ...CONV_DEFAULTS,
    padding: 0,
    outputPadding: 0,
  });
export type ConvArgs = ArgsOf<Signature<ConvFields, ConvPositional>>;
export type ConvTransposeArgs = ArgsOf<Signature<ConvTFields, ConvTransposePositional>>;
const SIGS = { Conv1d: convSig('Conv1d'), Conv2d: convSig('Conv2d'), Conv3d: convSig('Conv3d') };
const T_SIGS = {
  ConvTranspose1d: convTSig('ConvTranspose1d'),
  ConvTranspose2d: convTSig('ConvTranspose2d'),
  ConvTranspose3d: convTSig('ConvTranspose3d'),
};

function positive(v: unknown, name: string): number {
  if (!(typeof v === 'number' && Number.isInteger(v))) throw new TypeError(`${name} must be an integer (got ${pyRepr(v)})`);
  if (v <= 0) throw new RangeError(`${name} must be a positive integer (got ${v})`);
  return v;
}
const tuple = (dims: number, v: unknown, name: string) => F.ntuple(dims, v, name);

/** What Conv and ConvTranspose share (PyTorch's _ConvNd): the configuration, the parameters, their initialisation and repr. */
export abstract class ConvNd extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly transposed: boolean;
  readonly outputPadding: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** F.pad's argument for a padding mode other than zeros: each dim's padding twice, last dim first. */
  protected readonly reversedPaddingRepeatedTwice: number[];

  protected constructor(
    readonly dims: number,
    inChannels: number,
    outChannels: number,
    kernelSize: Size,
    transposed: boolean,
    a: ConvFields & { outputPadding?: Size },
  ) {
    super();
    const who = this.constructor.name;
    // a Lazy class starts with 0 channels in, known at its first call
    this.inChannels = (new.target as { lazy?: boolean }).lazy && inChannels === 0 ? 0 : positive(inChannels, 'inChannels');
    this.outChannels = positive(outChannels, 'outChannels') && outChannels;
    if (!(Number.isInteger(a.groups) && a.groups > 0)) throw new RangeError('groups must be a positive integer');
    if (inChannels % a.groups) throw new RangeError('in_channels must be divisible by groups');
    if (outChannels % a.groups) throw new RangeError('out_channels must be divisible by groups');
    this.kernelSize = tuple(dims, kernelSize, 'kernelSize');
    if (this.kernelSize.some((k) => k <= 0)) throw new RangeError(`kernelSize must be positive (got ${pyRepr(kernelSize)})`);
    this.stride = tuple(dims, a.stride, 'stride');
    this.dilation = tuple(dims, a.dilation, 'dilation');
    if (typeof a.padding === 'string') {
      if (a.padding !== 'same' && a.padding !== 'valid') {
        throw new RangeError(`Invalid padding string '${a.padding}', should be one of ['valid', 'same']`);
      }
      if (a.padding === 'same' && this.stride.some((s) => s !== 1)) throw new RangeError("padding='same' is not supported for strided convolutions");
      this.padding = a.padding;
    } else this.padding = tuple(dims, a.padding, 'padding');
    if (!PADDING_MODES.includes(a.paddingMode)) {
      throw new RangeError(`padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got padding_mode='${a.paddingMode}'`);
    }
    if (transposed && a.paddingMode !== 'zeros') throw new RangeError(`Only "zeros" padding mode is supported for ${who}`);
    this.transposed = transposed;
    this.outputPadding = tuple(dims, a.outputPadding ?? 0, 'outputPadding');
    this.groups = a.groups;
    this.paddingMode = a.paddingMode;
    this.reversedPaddingRepeatedTwice = this.reversedPadding();
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? undefined };
    const shape = transposed ? [inChannels, outChannels / a.groups] : [outChannels, inChannels / a.groups];
    this.weight = new Parameter(empty([...shape, ...this.kernelSize], f));
    this.bias = a.bias ? new Parameter(empty([outChannels], f)) : null;
    this.resetParameters();
  }

  private reversedPadding(): number[] {
    if (this.padding === 'valid') return new Array<number>(2 * this.dims).fill(0);
    if (this.padding === 'same') {
      // as _ConvNd: total = dilation·(kernel−1), the odd one extra on the right
      const pairs = this.kernelSize.map((k, d) => {
        const total = this.dilation[d] * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      });
      return pairs.reverse().flat();
    }
    return [...this.padding].reverse().flatMap((p) => [p, p]);
  }

  /** PyTorch's reset_parameters: kaiming_uniform_(a=√5), bias U(±1/√fan_in). */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) init.uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyRepr(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyRepr(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyRepr(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }

  /** The convolution with a non-zeros padding mode: F.pad first, then no padding. */
  protected padded(input: Tensor, conv: (x: Tensor, padding: number[] | 'same' | 'valid') => Tensor): Tensor {
    if (this.paddingMode === 'zeros') return conv(input, this.padding);
    const x = F.pad(input, this.reversedPaddingRepeatedTwice, { mode: this.paddingMode });
    try {
      return conv(x, new Array<number>(this.dims).fill(0));
    } finally {
      x.dispose();
    }
  }
}

/** 1-D convolution, as torch.nn.Conv1d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode). */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvArgs) {
    super(1, inChannels, outChannels, kernelSize, false, SIGS.Conv1d.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return this.padded(input, (x, padding) => F.conv1d(x, this.weight, this.bias, this.stride, padding, this.dilation, this.groups));
  }
}
/** 2-D convolution, as torch.nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode). */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvArgs) {
    super(2, inChannels, outChannels, kernelSize, false, SIGS.Conv2d.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return this.padded(input, (x, padding) => conv2dOp(x, this.weight, this.bias, this.stride, padding, this.dilation, this.groups));
  }
}
/** 3-D convolution, as torch.nn.Conv3d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode). */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvArgs) {
    super(3, inChannels, outChannels, kernelSize, false, SIGS.Conv3d.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return this.padded(input, (x, padding) => F.conv3d(x, this.weight, this.bias, this.stride, padding, this.dilation, this.groups));
  }
}

/** What the ConvTransposeNd share: forward's optional outputSize picks the output padding (PyTorch's _output_padding). */
export abstract class ConvTransposeNd extends ConvNd {
  protected abstract readonly op: typeof F.convTranspose1d;
  forward(input: Tensor, outputSize?: number[] | null): Tensor {
    const outputPadding = this.outputPaddingFor(input, outputSize ?? null);
    return this.op(input, this.weight, this.bias, this.stride, this.padding as number[], outputPadding, this.groups, this.dilation);
  }
  private outputPaddingFor(input: Tensor, outputSize: number[] | null): number[] {
    if (outputSize === null) return this.outputPadding;
    const n = this.dims;
    const nonSpatial = input.ndim === n + 2 ? 2 : 1;
    const size = outputSize.length === nonSpatial + n ? outputSize.slice(nonSpatial) : outputSize;
    if (size.length !== n) {
      throw new RangeError(
        `ConvTranspose${n}D: for ${input.ndim}D input, output_size must have ${n} or ${nonSpatial + n} elements (got ${size.length})`,
      );
    }
    const padding = this.padding as number[];
    const min = size.map(
      (_, d) => (input.shape[d + nonSpatial] - 1) * this.stride[d] - 2 * padding[d] + this.dilation[d] * (this.kernelSize[d] - 1) + 1,
    );
    const max = min.map((m, d) => m + this.stride[d] - 1);
    if (size.some((s, d) => s < min[d] || s > max[d])) {
      throw new RangeError(
        `requested an output size of [${size.join(', ')}], but valid sizes range from [${min.join(', ')}] to [${max.join(', ')}] ` +
          `(for an input of [${input.shape.slice(nonSpatial).join(', ')}])`,
      );
    }
    return size.map((s, d) => s - min[d]);
  }
}
/** 1-D transposed convolution, as torch.nn.ConvTranspose1d(inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation). */
export class ConvTranspose1d extends ConvTransposeNd {
  protected readonly op = F.convTranspose1d;
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(1, inChannels, outChannels, kernelSize, true, T_SIGS.ConvTranspose1d.bind(rest));
  }
}
/** 2-D transposed convolution, as torch.nn.ConvTranspose2d. */
export class ConvTranspose2d extends ConvTransposeNd {
  protected readonly op = F.convTranspose2d;
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(2, inChannels, outChannels, kernelSize, true, T_SIGS.ConvTranspose2d.bind(rest));
  }
}
/** 3-D transposed convolution, as torch.nn.ConvTranspose3d. */
export class ConvTranspose3d extends ConvTransposeNd {
  protected readonly op = F.convTranspose3d;
  constructor(inChannels: number, outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(3, inChannels, outChannels, kernelSize, true, T_SIGS.ConvTranspose3d.bind(rest));
  }
}

export type FoldFields = { dilation: Size; padding: Size; stride: Size };
const FOLD_ARGS = signature<FoldFields>()('Fold', ['dilation', 'padding', 'stride'], { dilation: 1, padding: 0, stride: 1 });
const UNFOLD_ARGS = signature<FoldFields>()('Unfold', ['dilation', 'padding', 'stride'], { dilation: 1, padding: 0, stride: 1 });
const foldRepr = (m: FoldFields & { kernelSize: Size }) =>
  `kernel_size=${pyRepr(m.kernelSize)}, dilation=${pyRepr(m.dilation)}, padding=${pyRepr(m.padding)}, stride=${pyRepr(m.stride)}`;
/** Sliding local blocks as columns, as torch.nn.Unfold(kernelSize, dilation, padding, stride). */
export class Unfold extends Module {
  readonly dilation: Size;
  readonly padding: Size;
  readonly stride: Size;
  constructor(
    readonly kernelSize: Size,
    ...rest: ArgsOf<typeof UNFOLD_ARGS>
  ) {
    super();
    ({ dilation: this.dilation, padding: this.padding, stride: this.stride } = UNFOLD_ARGS.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return F.unfold(input, this.kernelSize, this.dilation, this.padding, this.stride);
  }
  override extraRepr(): string {
    return foldRepr(this);
  }
}
/** Columns summed back into an image, as torch.nn.Fold(outputSize, kernelSize, dilation, padding, stride). */
export class Fold extends Module {
  readonly dilation: Size;
  readonly padding: Size;
  readonly stride: Size;
  constructor(
    readonly outputSize: Size,
    readonly kernelSize: Size,
    ...rest: ArgsOf<typeof FOLD_ARGS>
  ) {
    super();
    ({ dilation: this.dilation, padding: this.padding, stride: this.stride } = FOLD_ARGS.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return F.fold(input, this.outputSize, this.kernelSize, this.dilation, this.padding, this.stride);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}, ${foldRepr(this)}`;
  }
}
