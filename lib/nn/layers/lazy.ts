/**
 * The lazy layers, as torch.nn's: LazyLinear, LazyConv1d-3d, LazyConvTranspose1d-3d, LazyBatchNorm1d-3d
 * and LazyInstanceNorm1d-3d learn their input size from the first input. Until then their parameters are
 * empty placeholders; the first call makes them (with the layer's usual initialisation, the same random
 * draws as Python's) and the module becomes the plain layer (Linear, Conv2d, …), as Python's __class__
 * swap does. Make the optimizer after that first call, as PyTorch's docs say.
 */
import { Tensor } from '../../core/tensor';
import { TorchError } from '../../core/errors';
import { empty, ones, zeros } from '../../generated/torch';
import { Parameter, getattr, onLoadStateDict, setattr, type Module } from '../module';
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
type Target = { prototype: object; name: string };

const SLOTS = ['weight', 'bias', 'running_mean', 'running_var'] as const;
/**
 * The parameters and buffers each lazy layer has not sized yet, by name (Python's UninitializedParameter
 * and UninitializedBuffer): all those it has until a state dict or the first call sizes them.
 */
const unsizedSlots = new WeakMap<Module, Set<string>>();
function unsized(m: Module): Set<string> {
  let names = unsizedSlots.get(m);
  if (!names) unsizedSlots.set(m, (names = new Set(SLOTS.filter((n) => getattr(m, n) instanceof Tensor))));
  return names;
}

/**
 * Python's _lazy_load_hook: a placeholder the state dict has a tensor for takes that tensor's shape
 * (dtype and device its own), so the load fills it. The load settles it: kept (the placeholder freed) or,
 * when the load is refused, undone, so that a refused load changes nothing.
 */
function sizeFromStateDict(m: Module, stateDict: Map<string, unknown>, prefix: string): ((loaded: boolean) => void) | void {
  const names = unsized(m);
  const swapped: [string, Tensor, Tensor][] = [];
  for (const name of names) {
    const [given, placeholder] = [stateDict.get(prefix + name), getattr(m, name)];
    if (!(given instanceof Tensor) || !(placeholder instanceof Tensor)) continue;
    const blank = empty(given.shape, { dtype: placeholder.dtype, device: placeholder.device });
    const sized = placeholder instanceof Parameter ? new Parameter(blank, placeholder.requiresGrad) : blank;
    if (sized !== blank) blank.dispose();
    if (sized instanceof Parameter) setattr(m, name, sized);
    else m.registerBuffer(name, sized);
    swapped.push([name, placeholder, sized]);
  }
  if (swapped.length === 0) return;
  return (loaded) => {
    for (const [name, placeholder, sized] of swapped) {
      if (loaded) {
        names.delete(name);
        placeholder.dispose();
      } else {
        if (placeholder instanceof Parameter) setattr(m, name, placeholder);
        else m.registerBuffer(name, placeholder);
        sized.dispose();
      }
    }
  };
}

/** A parameter of `shape` like the placeholder `like` (its dtype and device); the placeholder is freed. */
function fresh(like: Tensor, shape: number[]): Parameter {
  const p = new Parameter(empty(shape, { dtype: like.dtype, device: like.device }));
  like.dispose();
  return p;
}

/** How a lazy layer sizes itself: from its first input (then initialised), or from the tensors a state dict gave. */
interface Sizing {
  fromInput(): void;
  fromStateDict(): void;
  reset(): void;
}
/**
 * What every lazy layer does at its first call: size itself, then become `target`. A layer a state dict
 * sized whole keeps those tensors (Python's rule: no reset then) and reads its sizes from them (where
 * Python's conv and norm layers keep 0); one a state dict sized in part is refused, as Python's cannot
 * size the rest either.
 */
function materialize(module: Module, target: Target, sizing: Sizing): void {
  const names = unsized(module);
  const all = SLOTS.filter((n) => getattr(module, n) instanceof Tensor);
  const fromInput = names.size === all.length;
  if (fromInput) sizing.fromInput();
  else if (names.size > 0) {
    const loaded = all.filter((n) => !names.has(n));
    throw new TorchError(
      `Lazy${target.name}: ${loaded.join(', ')} came from a state dict but ${[...names].join(', ')} did not; ` +
        'load every parameter and buffer of a lazy layer, or none',
    );
  } else sizing.fromStateDict();
  unsizedSlots.delete(module);
  Object.setPrototypeOf(module, target.prototype);
  if (fromInput) sizing.reset();
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
    const given = input.shape[input.ndim - 1];
    // a weight a state dict sized must agree with the input (Python's check)
    if (this.weight.shape[1] !== 0 && given !== this.weight.shape[1]) {
      throw new TorchError(`The in_features inferred from input: ${given} is not equal to in_features from self.weight: ${this.weight.shape[1]}`);
    }
    materialize(this, Linear, {
      fromInput: () => {
        self.inFeatures = given;
        self.weight = fresh(this.weight, [this.outFeatures, self.inFeatures]);
        if (this.bias) self.bias = fresh(this.bias, [this.outFeatures]);
      },
      fromStateDict: () => (self.inFeatures = given),
      reset: () => this.resetParameters(),
    });
    return this.forward(input);
  }
}

/** The conv layers' first call: inChannels from the input (unbatched or batched), weight and bias made, reset. */
function lazyConv(m: ConvNd, input: Tensor, target: Target): void {
  const self = m as Writable<ConvNd>;
  materialize(m, target, {
    fromInput: () => {
      const batched = m.dims + 2;
      if (input.ndim !== batched && input.ndim !== batched - 1) {
        throw new RangeError(
          `Expected ${batched - 1}D (unbatched) or ${batched}D (batched) input to Lazy${target.name}, but got input of ` +
            `size: [${input.shape.join(', ')}]`,
        );
      }
      self.inChannels = input.ndim === batched ? input.shape[1] : input.shape[0];
      if (m.inChannels % m.groups !== 0) throw new RangeError('in_channels must be divisible by groups');
      const shape = m.transposed ? [m.inChannels, m.outChannels / m.groups] : [m.outChannels, m.inChannels / m.groups];
      self.weight = fresh(m.weight, [...shape, ...m.kernelSize]);
      if (m.bias) self.bias = fresh(m.bias, [m.outChannels]);
    },
    fromStateDict: () => (self.inChannels = m.transposed ? m.weight.shape[0] : m.weight.shape[1] * m.groups),
    reset: () => m.resetParameters(),
  });
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
function lazyNorm(m: NormBase, input: Tensor, target: Target): void {
  const self = m as Writable<NormBase>;
  materialize(m, target, {
    fromInput: () => {
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
    fromStateDict: () => (self.numFeatures = (m.running_mean ?? m.weight)!.shape[0]),
    reset: () => m.resetParameters(),
  });
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

// Every lazy layer sizes its placeholders from a state dict loaded before its first call.
for (const Lazy of [
  LazyLinear,
  LazyConv1d,
  LazyConv2d,
  LazyConv3d,
  LazyConvTranspose1d,
  LazyConvTranspose2d,
  LazyConvTranspose3d,
  LazyBatchNorm1d,
  LazyBatchNorm2d,
  LazyBatchNorm3d,
  LazyInstanceNorm1d,
  LazyInstanceNorm2d,
  LazyInstanceNorm3d,
]) {
  onLoadStateDict(Lazy, sizeFromStateDict);
}
