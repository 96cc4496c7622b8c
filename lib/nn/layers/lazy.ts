/**
 * The lazy layers, as torch.nn's: LazyLinear, LazyConv1d-3d, LazyConvTranspose1d-3d, LazyBatchNorm1d-3d
 * and LazyInstanceNorm1d-3d learn their input size from the first input. Until then their parameters are
 * empty placeholders; the first call makes them (with the layer's usual initialisation, the same random
 * draws as Python's) and the module becomes the plain layer (Linear, Conv2d, …), as Python's __class__
 * swap does. Make the optimizer after that first call, as PyTorch's docs say.
 */
import type { Tensor } from '../../core/tensor';
import { empty, ones, zeros } from '../../generated/torch';
import { Parameter } from '../module';
import { Linear } from './linear';
import {
  Conv1d,
  Conv2d,
  Conv3d,
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  type ConvArgs,
  type ConvNd,
  type ConvTransposeArgs,
} from './conv';
import {
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  InstanceNorm1d,
  InstanceNorm2d,
  InstanceNorm3d,
  type NormArgs,
  type NormBase,
  type NormFields,
} from './normalization';
import { signature } from '../../core/signature';
import type { Size } from '../functional/args';

type Writable<T> = { -readonly [K in keyof T]: T[K] };
/** A parameter of `shape` like the placeholder `like` (its dtype and device); the placeholder is freed. */
function fresh(like: Tensor, shape: number[]): Parameter {
  const p = new Parameter(empty(shape, { dtype: like.dtype, device: like.device }));
  like.dispose();
  return p;
}

/** What every lazy layer does at its first call: size itself from the input, initialise, become `target`. */
function materialize(module: object, target: { prototype: object }, size: () => void, reset: () => void): void {
  size();
  Object.setPrototypeOf(module, target.prototype);
  reset();
}

/** A Linear whose inFeatures comes from its first input, as torch.nn.LazyLinear(outFeatures, bias). */
export class LazyLinear extends Linear {
  static readonly lazy = true;
  constructor(outFeatures: number, ...rest: ConstructorParameters<typeof Linear> extends [number, number, ...infer R] ? R : never) {
    super(0, outFeatures, ...rest);
  }
  // placeholders only until the first call: no random draws now (Python draws them then)
  override resetParameters(): void {}
  override forward(input: Tensor): Tensor {
    const self = this as Writable<Linear>;
    materialize(
      this,
      Linear,
      () => {
        self.inFeatures = input.shape[input.ndim - 1];
        self.weight = fresh(this.weight, [this.outFeatures, self.inFeatures]);
        if (this.bias) self.bias = fresh(this.bias, [this.outFeatures]);
      },
      () => this.resetParameters(),
    );
    return this.forward(input);
  }
}

/** The conv layers' first call: inChannels from the input (unbatched or batched), weight and bias made, reset. */
function lazyConv(m: ConvNd, input: Tensor, target: { prototype: object }): void {
  const self = m as Writable<ConvNd>;
  materialize(
    m,
    target,
    () => {
      const batched = m.dims + 2;
      if (input.ndim !== batched && input.ndim !== batched - 1) {
        throw new RangeError(
          `Expected ${batched - 1}D (unbatched) or ${batched}D (batched) input to Lazy${target.prototype.constructor.name}, but got input of ` +
            `size: [${input.shape.join(', ')}]`,
        );
      }
      self.inChannels = input.ndim === batched ? input.shape[1] : input.shape[0];
      if (m.inChannels % m.groups !== 0) throw new RangeError('in_channels must be divisible by groups');
      const shape = m.transposed ? [m.inChannels, m.outChannels / m.groups] : [m.outChannels, m.inChannels / m.groups];
      self.weight = fresh(m.weight, [...shape, ...m.kernelSize]);
      if (m.bias) self.bias = fresh(m.bias, [m.outChannels]);
    },
    () => m.resetParameters(),
  );
}
type ConvRest = ConvArgs;
/** torch.nn.LazyConv1d(outChannels, kernelSize, stride, padding, …): inChannels from the first input. */
export class LazyConv1d extends Conv1d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvRest) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor): Tensor {
    lazyConv(this, input, Conv1d);
    return this.forward(input);
  }
}
/** torch.nn.LazyConv2d(outChannels, kernelSize, stride, padding, …): inChannels from the first input. */
export class LazyConv2d extends Conv2d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvRest) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor): Tensor {
    lazyConv(this, input, Conv2d);
    return this.forward(input);
  }
}
/** torch.nn.LazyConv3d(outChannels, kernelSize, stride, padding, …): inChannels from the first input. */
export class LazyConv3d extends Conv3d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvRest) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor): Tensor {
    lazyConv(this, input, Conv3d);
    return this.forward(input);
  }
}
/** torch.nn.LazyConvTranspose1d(outChannels, kernelSize, …): inChannels from the first input. */
export class LazyConvTranspose1d extends ConvTranspose1d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor, outputSize?: number[] | null): Tensor {
    lazyConv(this, input, ConvTranspose1d);
    return this.forward(input, outputSize);
  }
}
/** torch.nn.LazyConvTranspose2d(outChannels, kernelSize, …): inChannels from the first input. */
export class LazyConvTranspose2d extends ConvTranspose2d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor, outputSize?: number[] | null): Tensor {
    lazyConv(this, input, ConvTranspose2d);
    return this.forward(input, outputSize);
  }
}
/** torch.nn.LazyConvTranspose3d(outChannels, kernelSize, …): inChannels from the first input. */
export class LazyConvTranspose3d extends ConvTranspose3d {
  static readonly lazy = true;
  constructor(outChannels: number, kernelSize: Size, ...rest: ConvTransposeArgs) {
    super(0, outChannels, kernelSize, ...rest);
  }
  override resetParameters(): void {}
  override forward(input: Tensor, outputSize?: number[] | null): Tensor {
    lazyConv(this, input, ConvTranspose3d);
    return this.forward(input, outputSize);
  }
}

/** The norm layers' first call: numFeatures = input.shape[1] (Python's rule, unbatched input included), parameters and statistics made, reset. */
function lazyNorm(m: NormBase, input: Tensor, target: { prototype: object }): void {
  const self = m as Writable<NormBase>;
  materialize(
    m,
    target,
    () => {
      const n = (self.numFeatures = input.shape[1]);
      if (m.weight) self.weight = fresh(m.weight, [n]);
      if (m.bias) self.bias = fresh(m.bias, [n]);
      if (m.running_mean) {
        const f = { dtype: m.running_mean.dtype, device: m.running_mean.device };
        const [mean, variance] = [m.running_mean, m.running_var!];
        m.registerBuffer('running_mean', zeros([n], f));
        m.registerBuffer('running_var', ones([n], f));
        mean.dispose();
        variance.dispose();
      }
    },
    () => m.resetParameters(),
  );
}
// Python's lazy instance norms default to affine and trackRunningStats on (the plain ones to off).
const LAZY_INSTANCE = signature<NormFields>()('LazyInstanceNorm', ['eps', 'momentum', 'affine', 'trackRunningStats', 'device', 'dtype'], {
  eps: 1e-5,
  momentum: 0.1,
  affine: true,
  trackRunningStats: true,
  bias: true,
  device: null,
  dtype: null,
});
const lazyNormArgs = (rest: NormArgs): NormArgs => [LAZY_INSTANCE.bind(rest)];
/** torch.nn.LazyBatchNorm1d(eps, momentum, affine, trackRunningStats): numFeatures from the first input. */
export class LazyBatchNorm1d extends BatchNorm1d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...rest);
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, BatchNorm1d);
    return this.forward(input);
  }
}
/** torch.nn.LazyBatchNorm2d(eps, momentum, affine, trackRunningStats): numFeatures from the first input. */
export class LazyBatchNorm2d extends BatchNorm2d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...rest);
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, BatchNorm2d);
    return this.forward(input);
  }
}
/** torch.nn.LazyBatchNorm3d(eps, momentum, affine, trackRunningStats): numFeatures from the first input. */
export class LazyBatchNorm3d extends BatchNorm3d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...rest);
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, BatchNorm3d);
    return this.forward(input);
  }
}
/** torch.nn.LazyInstanceNorm1d(eps, momentum, affine = true, trackRunningStats = true): numFeatures from the first input. */
export class LazyInstanceNorm1d extends InstanceNorm1d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...lazyNormArgs(rest));
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, InstanceNorm1d);
    return this.forward(input);
  }
}
/** torch.nn.LazyInstanceNorm2d(eps, momentum, affine = true, trackRunningStats = true): numFeatures from the first input. */
export class LazyInstanceNorm2d extends InstanceNorm2d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...lazyNormArgs(rest));
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, InstanceNorm2d);
    return this.forward(input);
  }
}
/** torch.nn.LazyInstanceNorm3d(eps, momentum, affine = true, trackRunningStats = true): numFeatures from the first input. */
export class LazyInstanceNorm3d extends InstanceNorm3d {
  static readonly lazy = true;
  constructor(...rest: NormArgs) {
    super(0, ...lazyNormArgs(rest));
  }
  override forward(input: Tensor): Tensor {
    lazyNorm(this, input, InstanceNorm3d);
    return this.forward(input);
  }
}
