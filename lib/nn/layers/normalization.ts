/**
 * Normalisation layers, as torch.nn's batchnorm.py, instancenorm.py and normalization.py: BatchNorm1d/2d/3d
 * and InstanceNorm1d/2d/3d on one base (PyTorch's _NormBase), LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm.
 */
import { native } from '../../core/native';
import { Tensor } from '../../core/tensor';
import { describe, type Dtype } from '../../core/dtype';
import { warnOnce } from '../../core/errors';
import { tensor } from '../../core/creation';
import { empty, ones, stack, zeros, zerosLike } from '../../generated/torch';
import { einsum } from '../../core/ops';
import { isGradEnabled } from '../../core/autograd';
import { scope } from '../../core/scope';
import { noGrad } from '../../core/autograd';
import { Module, Parameter } from '../module';
import * as F from '../functional';
import { batchNormOp } from '../functional/raw';
import * as init from '../init';
import { pyFloat, pyRepr } from '../repr';
import { signature, type ArgsOf, type Signature } from '../../core/signature';

const [TORCH_MAJOR, TORCH_MINOR] = native.buildInfo.torchVersion.split('.').map(Number);
/** PyTorch prints bias= for batch, instance and group norm from 2.13, when they gained the option; follow the linked LibTorch. */
const PRINTS_BIAS = TORCH_MAJOR > 2 || (TORCH_MAJOR === 2 && TORCH_MINOR >= 13);

export type NormFactory = { device: string | null; dtype: Dtype | null };
const factory = (a: NormFactory) => ({ device: a.device ?? undefined, dtype: a.dtype ?? undefined });
export type NormFields = { eps: number; momentum: number | null; affine: boolean; trackRunningStats: boolean; bias: boolean } & NormFactory;
const normSig = (who: string, affine: boolean, track: boolean) =>
  signature<NormFields>()(who, ['eps', 'momentum', 'affine', 'trackRunningStats', 'device', 'dtype'], {
    eps: 1e-5,
    momentum: 0.1,
    affine,
    trackRunningStats: track,
    bias: true,
    device: null,
    dtype: null,
  });
export type NormPositional = ['eps', 'momentum', 'affine', 'trackRunningStats', 'device', 'dtype'];
export type NormArgs = ArgsOf<Signature<NormFields, NormPositional>>;
/** The options of BatchNorm and InstanceNorm layers. */
export type BatchNormOptions = Partial<NormFields>;

/** What batch and instance norm share (PyTorch's _NormBase): affine parameters, running statistics, repr, old checkpoints. */
export abstract class NormBase extends Module {
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

  protected constructor(numFeatures: number, a: NormFields) {
    super();
    const lazy = (new.target as { lazy?: boolean }).lazy && numFeatures === 0; // a Lazy class: known at its first call
    if (!lazy && !(typeof numFeatures === 'number' && Number.isInteger(numFeatures) && numFeatures > 0)) {
      throw new RangeError(`numFeatures must be a positive integer (got ${describe(numFeatures)})`);
    }
    this.numFeatures = numFeatures;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.trackRunningStats = a.trackRunningStats;
    const f = factory(a);
    this.weight = this.affine ? new Parameter(ones([numFeatures], f)) : null;
    this.bias = this.affine && a.bias ? new Parameter(zeros([numFeatures], f)) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures], f) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures], f) : null);
    this.registerBuffer('num_batches_tracked', track ? tensor(0, { dtype: 'int64', device: f.device }) : null);
  }

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => {
      this.running_mean!.zero_();
      this.running_var!.fill_(1);
      this.num_batches_tracked!.zero_();
    });
  }
  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      init.ones_(this.weight!);
      if (this.bias) init.zeros_(this.bias);
    }
  }

  /** As PyTorch's _NormBase: checkpoints before version 2 have no num_batches_tracked; it keeps its value. */
  protected override _loadFromStateDict(stateDict: Map<string, unknown>, prefix: string, localMetadata: Record<string, unknown>): void {
    const version = localMetadata.version;
    const key = `${prefix}num_batches_tracked`;
    const old = version === undefined || version === null || (typeof version === 'number' && version < 2);
    if (old && this.trackRunningStats && this.num_batches_tracked && !stateDict.has(key)) stateDict.set(key, this.num_batches_tracked);
  }

  override extraRepr(): string {
    const bias = PRINTS_BIAS ? `bias=${pyRepr(this.bias !== null)}, ` : '';
    return (
      `${this.numFeatures}, eps=${pyRepr(this.eps, true)}, momentum=${pyRepr(this.momentum, true)}, affine=${pyRepr(this.affine)}, ` +
      `${bias}track_running_stats=${pyRepr(this.trackRunningStats)}`
    );
  }
}

/** Batch normalisation (PyTorch's _BatchNorm): the batch's statistics in training, the running ones in eval. */
export abstract class BatchNormNd extends NormBase {
  /** The input ranks this layer takes. */
  protected abstract readonly ranks: readonly number[];
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`input must be a Tensor (got ${describe(input)})`);
    const shape = input.shape;
    if (!this.ranks.includes(shape.length))
      throw new RangeError(`expected ${this.ranks.map((r) => `${r}D`).join(' or ')} input (got ${shape.length}D input)`);
    // (Python has no such check; without per-channel tensors any channel count goes through, as there)
    const perChannel = this.weight !== null || this.bias !== null || this.running_mean !== null;
    if (perChannel && shape[1] !== this.numFeatures) throw new RangeError(`expected input with ${this.numFeatures} channels (got ${shape[1]})`);
    // PyTorch's _BatchNorm.forward: count batches, pick the averaging factor, use batch stats in training.
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      this.num_batches_tracked.add_(1); // a buffer: never requires grad, so nothing is recorded
      if (this.momentum === null) factor = 1 / (this.num_batches_tracked.item() as number);
    }
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    if (useBatchStats && shape[0] * shape.slice(2).reduce((x, y) => x * y, 1) === 1) {
      // F.batch_norm's check (LibTorch has none): one value per channel makes the variance NaN
      throw new RangeError(`Expected more than 1 value per channel when training, got input size [${shape.join(', ')}]`);
    }
    const track = !this.training || this.trackRunningStats;
    return batchNormOp(
      input,
      track ? this.running_mean : null,
      track ? this.running_var : null,
      this.weight,
      this.bias,
      useBatchStats,
      factor,
      this.eps,
    );
  }
}
const BN = [normSig('BatchNorm1d', true, true), normSig('BatchNorm2d', true, true), normSig('BatchNorm3d', true, true)];
/** As torch.nn.BatchNorm1d(numFeatures, eps, momentum, affine, trackRunningStats) over (N, C) or (N, C, L). */
export class BatchNorm1d extends BatchNormNd {
  protected readonly ranks = [2, 3];
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, BN[0].bind(rest));
  }
}
/** As torch.nn.BatchNorm2d(numFeatures, eps, momentum, affine, trackRunningStats) over (N, C, H, W). */
export class BatchNorm2d extends BatchNormNd {
  protected readonly ranks = [4];
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, BN[1].bind(rest));
  }
}
/** As torch.nn.BatchNorm3d(numFeatures, eps, momentum, affine, trackRunningStats) over (N, C, D, H, W). */
export class BatchNorm3d extends BatchNormNd {
  protected readonly ranks = [5];
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, BN[2].bind(rest));
  }
}

/** Instance normalisation (PyTorch's _InstanceNorm): each sample's channels over their spatial dims; affine and running stats off by default. */
export abstract class InstanceNormNd extends NormBase {
  protected abstract readonly spatialDims: number;
  forward(input: Tensor): Tensor {
    const noBatch = this.spatialDims + 1;
    if (!(input instanceof Tensor)) throw new TypeError(`input must be a Tensor (got ${describe(input)})`);
    if (input.ndim !== noBatch && input.ndim !== noBatch + 1)
      throw new RangeError(`expected ${noBatch}D or ${noBatch + 1}D input (got ${input.ndim}D input)`);
    const featureDim = input.ndim - noBatch;
    if (input.shape[featureDim] !== this.numFeatures) {
      if (this.affine) {
        throw new RangeError(
          `expected input's size at dim=${featureDim} to match num_features (${this.numFeatures}), but got: ${input.shape[featureDim]}.`,
        );
      }
      warnOnce(
        `${this.constructor.name}.numFeatures`,
        `input's size at dim=${featureDim} does not match num_features. You can silence this warning by ` +
          'not passing in num_features, which is not used because affine=False',
      );
    }
    const apply = (x: Tensor) =>
      F.instanceNorm(
        x,
        this.running_mean,
        this.running_var,
        this.weight,
        this.bias,
        this.training || !this.trackRunningStats,
        this.momentum ?? 0,
        this.eps,
      );
    if (input.ndim === noBatch + 1) return apply(input);
    const x = input.unsqueeze(0);
    try {
      return apply(x).squeeze_(0);
    } finally {
      x.dispose();
    }
  }
  /** As _InstanceNorm: a checkpoint from before 0.4 with running stats this layer does not track is an error naming them. */
  protected override _loadFromStateDict(stateDict: Map<string, unknown>, prefix: string, localMetadata: Record<string, unknown>): void {
    if (localMetadata.version == null && !this.trackRunningStats) {
      const keys = ['running_mean', 'running_var'].map((n) => prefix + n).filter((k) => stateDict.has(k));
      if (keys.length) {
        const klass = this.constructor.name;
        throw new RangeError(
          `Unexpected running stats buffer(s) ${keys.map((k) => `"${k}"`).join(' and ')} for ${klass} with ` +
            `track_running_stats=False. If state_dict is a checkpoint saved before 0.4.0, this may be expected because ${klass} does not track ` +
            `running stats by default since 0.4.0. Please remove these keys from state_dict. If the running stats are actually needed, instead set ` +
            `track_running_stats=True in ${klass} to enable them. See the documentation of ${klass} for details.`,
        );
      }
    }
    super._loadFromStateDict(stateDict, prefix, localMetadata);
  }
}
const IN = [normSig('InstanceNorm1d', false, false), normSig('InstanceNorm2d', false, false), normSig('InstanceNorm3d', false, false)];
/** As torch.nn.InstanceNorm1d(numFeatures, eps, momentum, affine, trackRunningStats) over (N, C, L) or (C, L). */
export class InstanceNorm1d extends InstanceNormNd {
  protected readonly spatialDims = 1;
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, IN[0].bind(rest));
  }
}
/** As torch.nn.InstanceNorm2d over (N, C, H, W) or (C, H, W). */
export class InstanceNorm2d extends InstanceNormNd {
  protected readonly spatialDims = 2;
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, IN[1].bind(rest));
  }
}
/** As torch.nn.InstanceNorm3d over (N, C, D, H, W) or (C, D, H, W). */
export class InstanceNorm3d extends InstanceNormNd {
  protected readonly spatialDims = 3;
  constructor(numFeatures: number, ...rest: NormArgs) {
    super(numFeatures, IN[2].bind(rest));
  }
}

const shapeOf = (s: number | number[]) => (typeof s === 'number' ? [s] : [...s]);

const LAYER_NORM = signature<{ eps: number; elementwiseAffine: boolean; bias: boolean } & NormFactory>()(
  'LayerNorm',
  ['eps', 'elementwiseAffine', 'bias', 'device', 'dtype'],
  { eps: 1e-5, elementwiseAffine: true, bias: true, device: null, dtype: null },
);
/** Normalises over the trailing normalizedShape dims, as torch.nn.LayerNorm(normalizedShape, eps, elementwiseAffine, bias). */
export class LayerNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  constructor(normalizedShape: number | number[], ...rest: ArgsOf<typeof LAYER_NORM>) {
    super();
    const a = LAYER_NORM.bind(rest);
    this.normalizedShape = shapeOf(normalizedShape);
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    const f = factory(a);
    this.weight = a.elementwiseAffine ? new Parameter(empty(this.normalizedShape, f)) : null;
    this.bias = a.elementwiseAffine && a.bias ? new Parameter(empty(this.normalizedShape, f)) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }
  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `${pyRepr(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyRepr(this.elementwiseAffine)}, bias=${pyRepr(this.bias !== null)}`;
  }
}

const RMS_NORM = signature<{ eps: number | null; elementwiseAffine: boolean } & NormFactory>()(
  'RMSNorm',
  ['eps', 'elementwiseAffine', 'device', 'dtype'],
  { eps: null, elementwiseAffine: true, device: null, dtype: null },
);
/** x / RMS(x) over the trailing normalizedShape dims, times weight, as torch.nn.RMSNorm(normalizedShape, eps, elementwiseAffine). */
export class RMSNorm extends Module {
  declare weight: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly elementwiseAffine: boolean;
  constructor(normalizedShape: number | number[], ...rest: ArgsOf<typeof RMS_NORM>) {
    super();
    const a = RMS_NORM.bind(rest);
    this.normalizedShape = shapeOf(normalizedShape);
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    this.weight = a.elementwiseAffine ? new Parameter(empty(this.normalizedShape, factory(a))) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
  }
  forward(input: Tensor): Tensor {
    return F.rmsNorm(input, this.normalizedShape, this.weight, this.eps);
  }
  override extraRepr(): string {
    return `${pyRepr(this.normalizedShape)}, eps=${this.eps === null ? 'None' : pyFloat(this.eps)}, elementwise_affine=${pyRepr(this.elementwiseAffine)}`;
  }
}

const GROUP_NORM = signature<{ eps: number; affine: boolean; bias: boolean } & NormFactory>()('GroupNorm', ['eps', 'affine', 'device', 'dtype'], {
  eps: 1e-5,
  affine: true,
  bias: true,
  device: null,
  dtype: null,
});
/** Normalises each of numGroups channel groups, as torch.nn.GroupNorm(numGroups, numChannels, eps, affine). */
export class GroupNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly eps: number;
  readonly affine: boolean;
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    ...rest: ArgsOf<typeof GROUP_NORM>
  ) {
    super();
    const a = GROUP_NORM.bind(rest);
    if (numChannels % numGroups !== 0) throw new RangeError(`num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`);
    this.eps = a.eps;
    this.affine = a.affine;
    const f = factory(a);
    this.weight = a.affine ? new Parameter(empty([numChannels], f)) : null;
    this.bias = a.affine && a.bias ? new Parameter(empty([numChannels], f)) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }
  forward(input: Tensor): Tensor {
    return F.groupNorm(input, this.numGroups, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    const bias = PRINTS_BIAS ? `, bias=${pyRepr(this.bias !== null)}` : '';
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyRepr(this.affine)}${bias}`;
  }
}

const LRN = signature<{ alpha: number; beta: number; k: number }>()('LocalResponseNorm', ['alpha', 'beta', 'k'], { alpha: 1e-4, beta: 0.75, k: 1 });
/** Normalises by the squares of `size` neighbouring channels, as torch.nn.LocalResponseNorm(size, alpha, beta, k). */
export class LocalResponseNorm extends Module {
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(
    readonly size: number,
    ...rest: ArgsOf<typeof LRN>
  ) {
    super();
    ({ alpha: this.alpha, beta: this.beta, k: this.k } = LRN.bind(rest));
  }
  forward(input: Tensor): Tensor {
    return F.localResponseNorm(input, this.size, this.alpha, this.beta, this.k);
  }
  override extraRepr(): string {
    return `${this.size}, alpha=${pyFloat(this.alpha)}, beta=${pyFloat(this.beta)}, k=${pyFloat(this.k)}`;
  }
}

const CROSS_MAP = signature<{ alpha: number; beta: number; k: number }>()('CrossMapLRN2d', ['alpha', 'beta', 'k'], { alpha: 1e-4, beta: 0.75, k: 1 });
/**
 * Local response normalisation across channels of (N, C, H, W), as torch.nn.CrossMapLRN2d(size, alpha, beta, k). The forward
 * is Python's running window over the channels, summed in its order. Python's backward is LuaTorch's hand-written formula,
 * which is not the gradient of that forward (its window is the symmetric one); the same formula is given here, through a
 * surrogate whose autograd gradient it is (added as s − s.detach(), so the output stays exactly the forward's).
 */
export class CrossMapLRN2d extends Module {
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(
    readonly size: number,
    ...rest: ArgsOf<typeof CROSS_MAP>
  ) {
    super();
    ({ alpha: this.alpha, beta: this.beta, k: this.k } = CROSS_MAP.bind(rest));
  }
  forward(input: Tensor): Tensor {
    if (input.ndim !== 4) throw new RangeError(`CrossMapLRN2d: Expected input to be 4D, got ${input.ndim}D instead.`);
    return scope(() => {
      const channels = input.shape[1];
      const [scale, output] = noGrad(() => {
        const square = input.pow(2);
        const prePad = Math.trunc((this.size - 1) / 2 + 1);
        let current = zerosLike(square.select(1, 0));
        for (let c = 0; c < Math.min(prePad, channels); c++) current = current.add(square.select(1, c));
        const scales = [current];
        for (let c = 1; c < channels; c++) {
          if (c < channels - prePad + 1) current = current.add(square.select(1, c + prePad - 1));
          if (c > prePad) current = current.sub(square.select(1, c - prePad));
          scales.push(current);
        }
        const sc = stack(scales, 1)
          .mul(this.alpha / this.size)
          .add(this.k);
        return [sc, sc.pow(-this.beta).mul(input)];
      });
      if (!(input.requiresGrad && isGradEnabled())) return output;
      // Python's backward: g·S^−β − (2αβ/size)·x·M(g·y/S), M the band over channels c−p ≤ d ≤ c+size−1−p (p = size − (size−1)/2)
      const p = Math.trunc(this.size - (this.size - 1) / 2);
      const band = ones([channels, channels], { dtype: input.dtype, device: input.device })
        .triu(-p)
        .tril(this.size - 1 - p);
      const adjoint = einsum('cd,nchw->ndhw', [band, input.pow(2)]);
      const surrogate = input.mul(scale.pow(-this.beta)).sub(
        output
          .div(scale)
          .mul(adjoint)
          .mul((this.alpha * this.beta) / this.size),
      );
      return output.add(surrogate.sub(surrogate.detach()));
    });
  }
  override extraRepr(): string {
    return `${this.size}, alpha=${pyFloat(this.alpha)}, beta=${pyFloat(this.beta)}, k=${pyRepr(this.k)}`;
  }
}
