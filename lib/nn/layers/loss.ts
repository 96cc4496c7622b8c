/**
 * Loss modules, as torch.nn's loss.py: each stores its arguments (the deprecated sizeAverage/reduce folded
 * into reduction once, as PyTorch's _Loss does; weights as buffers, as _WeightedLoss does) and calls the
 * functional. Declared one per line: Python's signature and the forward.
 */
import type { Tensor } from '../../core/tensor';
import { Module } from '../module';
import * as F from '../functional';
import { LEGACY, type LegacyReductionFields } from '../functional/loss';
import { Signature, signature, type ArgsOf } from '../../core/signature';
import { PairwiseDistance } from './shape';
import { Linear } from './linear';
import { TorchError } from '../../core/errors';
import { pyFloat, pyRepr } from '../repr';
import type { Dtype } from '../../core/dtype';

export type Reduction = F.Reduction;
export type LossClass<S, T> = {
  new (...args: ArgsOf<S>): Module & Readonly<Omit<T, 'sizeAverage' | 'reduce'>> & { forward(...inputs: Tensor[]): Tensor };
};

/**
 * A loss class named `name`: its arguments become fields (Tensor-valued ones, such as weight, buffers under
 * their Python names) and forward calls `loss` with the inputs and the module.
 */
function lossModule<T extends object, N extends readonly (keyof T & string)[]>(
  name: string,
  sig: Signature<T, N>,
  loss: (inputs: Tensor[], a: T) => Tensor,
  check: (a: T) => void = () => {},
): LossClass<Signature<T, N>, T> {
  const buffers: Record<string, string> = { weight: 'weight', posWeight: 'pos_weight' };
  // T's fields are set by the constructor at run time: the class's own type has Module's and forward, the return adds them
  const cls: new (...args: ArgsOf<Signature<T, N>>) => Module & { forward(...inputs: Tensor[]): Tensor } = {
    [name]: class extends Module {
      constructor(...args: unknown[]) {
        super();
        const a = sig.bind(args) as T & Partial<LegacyReductionFields>;
        check(a);
        if ('sizeAverage' in a) {
          const reduction = F.legacyReduction(name, a.sizeAverage, a.reduce, a.reduction ?? 'mean');
          delete a.sizeAverage;
          delete a.reduce;
          a.reduction = reduction;
        }
        for (const [k, v] of Object.entries(a)) {
          if (k in buffers) this.registerBuffer(buffers[k], v as Tensor | null);
          else (this as Record<string, unknown>)[k] = v;
        }
      }
      forward(...inputs: Tensor[]): Tensor {
        const fields = { ...(this as object) } as Record<string, unknown>;
        for (const [k, py] of Object.entries(buffers)) if (py in (this as object)) fields[k] = (this as Record<string, unknown>)[py];
        return loss(inputs, fields as T);
      }
    },
  }[name];
  return cls as LossClass<Signature<T, N>, T>;
}

const legacySig = (name: string) => signature<LegacyReductionFields>()(name, ['sizeAverage', 'reduce', 'reduction'], LEGACY);
export type WeightedLossFields = LegacyReductionFields & { weight: Tensor | null };

/** Mean absolute error, as torch.nn.L1Loss(sizeAverage, reduce, reduction). */
export const L1Loss = lossModule('L1Loss', legacySig('L1Loss'), ([x, y], a) => F.l1Loss(x, y, { reduction: a.reduction }));
/** Mean squared error, as torch.nn.MSELoss(sizeAverage, reduce, reduction). */
export const MSELoss = lossModule('MSELoss', legacySig('MSELoss'), ([x, y], a) => F.mseLoss(x, y, { reduction: a.reduction }));
/** Cross-entropy of logits and class indices (or probabilities), as torch.nn.CrossEntropyLoss(weight, sizeAverage, ignoreIndex, reduce, reduction, labelSmoothing). */
export const CrossEntropyLoss = lossModule(
  'CrossEntropyLoss',
  signature<WeightedLossFields & { ignoreIndex: number; labelSmoothing: number }>()(
    'CrossEntropyLoss',
    ['weight', 'sizeAverage', 'ignoreIndex', 'reduce', 'reduction', 'labelSmoothing'],
    { ...LEGACY, weight: null, ignoreIndex: -100, labelSmoothing: 0 },
  ),
  ([x, y], a) => F.crossEntropy(x, y, { weight: a.weight, ignoreIndex: a.ignoreIndex, reduction: a.reduction, labelSmoothing: a.labelSmoothing }),
);
const nllSig = (name: string) =>
  signature<WeightedLossFields & { ignoreIndex: number }>()(name, ['weight', 'sizeAverage', 'ignoreIndex', 'reduce', 'reduction'], {
    ...LEGACY,
    weight: null,
    ignoreIndex: -100,
  });
/** Negative log-likelihood of log-probabilities, as torch.nn.NLLLoss(weight, sizeAverage, ignoreIndex, reduce, reduction). */
export const NLLLoss = lossModule('NLLLoss', nllSig('NLLLoss'), ([x, y], a) =>
  F.nllLoss(x, y, { weight: a.weight, ignoreIndex: a.ignoreIndex, reduction: a.reduction }),
);
/** The deprecated 2-D name of NLLLoss, as torch.nn.NLLLoss2d. */
export const NLLLoss2d = lossModule('NLLLoss2d', nllSig('NLLLoss2d'), ([x, y], a) =>
  F.nllLoss(x, y, { weight: a.weight, ignoreIndex: a.ignoreIndex, reduction: a.reduction }),
);
/** Binary cross-entropy of probabilities, as torch.nn.BCELoss(weight, sizeAverage, reduce, reduction). */
export const BCELoss = lossModule(
  'BCELoss',
  signature<WeightedLossFields>()('BCELoss', ['weight', 'sizeAverage', 'reduce', 'reduction'], { ...LEGACY, weight: null }),
  ([x, y], a) => F.binaryCrossEntropy(x, y, { weight: a.weight, reduction: a.reduction }),
);
/** Binary cross-entropy of logits, as torch.nn.BCEWithLogitsLoss(weight, sizeAverage, reduce, reduction, posWeight). */
export const BCEWithLogitsLoss = lossModule(
  'BCEWithLogitsLoss',
  signature<WeightedLossFields & { posWeight: Tensor | null }>()('BCEWithLogitsLoss', ['weight', 'sizeAverage', 'reduce', 'reduction', 'posWeight'], {
    ...LEGACY,
    weight: null,
    posWeight: null,
  }),
  ([x, y], a) => F.binaryCrossEntropyWithLogits(x, y, { weight: a.weight, posWeight: a.posWeight, reduction: a.reduction }),
);
/** Huber loss, as torch.nn.HuberLoss(reduction, delta). */
export const HuberLoss = lossModule(
  'HuberLoss',
  signature<{ reduction: Reduction; delta: number }>()('HuberLoss', ['reduction', 'delta'], { reduction: 'mean', delta: 1 }),
  ([x, y], a) => F.huberLoss(x, y, a.reduction, a.delta),
);
/** Smooth L1 loss, as torch.nn.SmoothL1Loss(sizeAverage, reduce, reduction, beta). */
export const SmoothL1Loss = lossModule(
  'SmoothL1Loss',
  signature<LegacyReductionFields & { beta: number }>()('SmoothL1Loss', ['sizeAverage', 'reduce', 'reduction', 'beta'], { ...LEGACY, beta: 1 }),
  ([x, y], a) => F.smoothL1Loss(x, y, { reduction: a.reduction, beta: a.beta }),
);
/** Kullback-Leibler divergence, as torch.nn.KLDivLoss(sizeAverage, reduce, reduction, logTarget); reduction may be 'batchmean'. */
export const KLDivLoss = lossModule(
  'KLDivLoss',
  signature<{ sizeAverage: boolean | null; reduce: boolean | null; reduction: Reduction | 'batchmean'; logTarget: boolean }>()(
    'KLDivLoss',
    ['sizeAverage', 'reduce', 'reduction', 'logTarget'],
    { sizeAverage: null, reduce: null, reduction: 'mean', logTarget: false },
  ),
  ([x, y], a) => F.klDiv(x, y, { reduction: a.reduction, logTarget: a.logTarget }),
);
/** Poisson negative log-likelihood, as torch.nn.PoissonNLLLoss(logInput, full, sizeAverage, eps, reduce, reduction). */
export const PoissonNLLLoss = lossModule(
  'PoissonNLLLoss',
  signature<LegacyReductionFields & { logInput: boolean; full: boolean; eps: number }>()(
    'PoissonNLLLoss',
    ['logInput', 'full', 'sizeAverage', 'eps', 'reduce', 'reduction'],
    { ...LEGACY, logInput: true, full: false, eps: 1e-8 },
  ),
  ([x, y], a) => F.poissonNllLoss(x, y, { logInput: a.logInput, full: a.full, eps: a.eps, reduction: a.reduction }),
);
/** Gaussian negative log-likelihood, as torch.nn.GaussianNLLLoss({ full, eps, reduction }) (keyword-only); forward(input, target, var). */
export const GaussianNLLLoss = lossModule(
  'GaussianNLLLoss',
  signature<{ full: boolean; eps: number; reduction: Reduction }>()('GaussianNLLLoss', [], { full: false, eps: 1e-6, reduction: 'mean' }),
  ([x, y, v], a) => F.gaussianNllLoss(x, y, v, a.full, a.eps, a.reduction),
);
/** Connectionist temporal classification, as torch.nn.CTCLoss(blank, reduction, zeroInfinity); forward(logProbs, targets, inputLengths, targetLengths). */
export const CTCLoss = lossModule(
  'CTCLoss',
  signature<{ blank: number; reduction: Reduction; zeroInfinity: boolean }>()('CTCLoss', ['blank', 'reduction', 'zeroInfinity'], {
    blank: 0,
    reduction: 'mean',
    zeroInfinity: false,
  }),
  ([p, t, il, tl], a) => F.ctcLoss(p, t, il, tl, a.blank, a.reduction, a.zeroInfinity),
);
const marginSig = (name: string, margin: number) =>
  signature<LegacyReductionFields & { margin: number }>()(name, ['margin', 'sizeAverage', 'reduce', 'reduction'], { ...LEGACY, margin });
/** As torch.nn.MarginRankingLoss(margin, …); forward(input1, input2, target). */
export const MarginRankingLoss = lossModule('MarginRankingLoss', marginSig('MarginRankingLoss', 0), ([x1, x2, y], a) =>
  F.marginRankingLoss(x1, x2, y, { margin: a.margin, reduction: a.reduction }),
);
/** As torch.nn.HingeEmbeddingLoss(margin, …). */
export const HingeEmbeddingLoss = lossModule('HingeEmbeddingLoss', marginSig('HingeEmbeddingLoss', 1), ([x, y], a) =>
  F.hingeEmbeddingLoss(x, y, { margin: a.margin, reduction: a.reduction }),
);
/** As torch.nn.CosineEmbeddingLoss(margin, …); forward(input1, input2, target). */
export const CosineEmbeddingLoss = lossModule('CosineEmbeddingLoss', marginSig('CosineEmbeddingLoss', 0), ([x1, x2, y], a) =>
  F.cosineEmbeddingLoss(x1, x2, y, { margin: a.margin, reduction: a.reduction }),
);
/** As torch.nn.TripletMarginLoss(margin, p, eps, swap, …); forward(anchor, positive, negative). */
export const TripletMarginLoss = lossModule(
  'TripletMarginLoss',
  signature<LegacyReductionFields & { margin: number; p: number; eps: number; swap: boolean }>()(
    'TripletMarginLoss',
    ['margin', 'p', 'eps', 'swap', 'sizeAverage', 'reduce', 'reduction'],
    { ...LEGACY, margin: 1, p: 2, eps: 1e-6, swap: false },
  ),
  ([a1, p1, n1], a) => F.tripletMarginLoss(a1, p1, n1, { margin: a.margin, p: a.p, eps: a.eps, swap: a.swap, reduction: a.reduction }),
);
/** As torch.nn.MultiLabelMarginLoss(sizeAverage, reduce, reduction). */
export const MultiLabelMarginLoss = lossModule('MultiLabelMarginLoss', legacySig('MultiLabelMarginLoss'), ([x, y], a) =>
  F.multilabelMarginLoss(x, y, { reduction: a.reduction }),
);
/** As torch.nn.SoftMarginLoss(sizeAverage, reduce, reduction). */
export const SoftMarginLoss = lossModule('SoftMarginLoss', legacySig('SoftMarginLoss'), ([x, y], a) =>
  F.softMarginLoss(x, y, { reduction: a.reduction }),
);
/** As torch.nn.MultiLabelSoftMarginLoss(weight, sizeAverage, reduce, reduction). */
export const MultiLabelSoftMarginLoss = lossModule(
  'MultiLabelSoftMarginLoss',
  signature<WeightedLossFields>()('MultiLabelSoftMarginLoss', ['weight', 'sizeAverage', 'reduce', 'reduction'], { ...LEGACY, weight: null }),
  ([x, y], a) => F.multilabelSoftMarginLoss(x, y, { weight: a.weight, reduction: a.reduction }),
);
/** The multi-class hinge loss, as torch.nn.MultiMarginLoss(p, margin, weight, …). */
export const MultiMarginLoss = lossModule(
  'MultiMarginLoss',
  signature<WeightedLossFields & { p: number; margin: number }>()(
    'MultiMarginLoss',
    ['p', 'margin', 'weight', 'sizeAverage', 'reduce', 'reduction'],
    { ...LEGACY, p: 1, margin: 1, weight: null },
  ),
  ([x, y], a) => F.multiMarginLoss(x, y, { p: a.p, margin: a.margin, weight: a.weight, reduction: a.reduction }),
  (a) => {
    if (a.p !== 1 && a.p !== 2) throw new RangeError('only p == 1 and p == 2 supported');
    if (a.weight && a.weight.ndim !== 1)
      throw new RangeError(`MultiMarginLoss: expected weight to be None or 1D tensor, got ${a.weight.ndim}D instead`);
  },
);

export type DistanceFunction = (x1: Tensor, x2: Tensor) => Tensor;
const TRIPLET_DISTANCE = signature<{ distanceFunction: DistanceFunction | null; margin: number; swap: boolean; reduction: Reduction }>()(
  'TripletMarginWithDistanceLoss',
  [],
  { distanceFunction: null, margin: 1, swap: false, reduction: 'mean' },
);
/** As torch.nn.TripletMarginWithDistanceLoss({ distanceFunction, margin, swap, reduction }); the distance defaults to a PairwiseDistance child. */
export class TripletMarginWithDistanceLoss extends Module {
  /** The distance (a function, or a module registered as a child under Python's name). */
  readonly distance_function: DistanceFunction | Module<[Tensor, Tensor], Tensor>;
  readonly margin: number;
  readonly swap: boolean;
  readonly reduction: Reduction;
  constructor(...rest: ArgsOf<typeof TRIPLET_DISTANCE>) {
    super();
    const a = TRIPLET_DISTANCE.bind(rest);
    if (a.margin <= 0) throw new RangeError(`TripletMarginWithDistanceLoss: expected margin to be greater than 0, got ${a.margin} instead`);
    this.distance_function = a.distanceFunction ?? new PairwiseDistance();
    ({ margin: this.margin, swap: this.swap, reduction: this.reduction } = a);
  }
  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    const d = this.distance_function;
    const distanceFunction = d instanceof Module ? (x1: Tensor, x2: Tensor) => d.forward(x1, x2) : d;
    return F.tripletMarginWithDistanceLoss(anchor, positive, negative, {
      distanceFunction,
      margin: this.margin,
      swap: this.swap,
      reduction: this.reduction,
    });
  }
}

// Each class above as a type too (`let act: ReLU`), as a class declaration gives.
export type BCELoss = InstanceType<typeof BCELoss>;
export type BCEWithLogitsLoss = InstanceType<typeof BCEWithLogitsLoss>;
export type CTCLoss = InstanceType<typeof CTCLoss>;
export type CosineEmbeddingLoss = InstanceType<typeof CosineEmbeddingLoss>;
export type CrossEntropyLoss = InstanceType<typeof CrossEntropyLoss>;
export type GaussianNLLLoss = InstanceType<typeof GaussianNLLLoss>;
export type HingeEmbeddingLoss = InstanceType<typeof HingeEmbeddingLoss>;
export type HuberLoss = InstanceType<typeof HuberLoss>;
export type KLDivLoss = InstanceType<typeof KLDivLoss>;
export type L1Loss = InstanceType<typeof L1Loss>;
export type MSELoss = InstanceType<typeof MSELoss>;
export type MarginRankingLoss = InstanceType<typeof MarginRankingLoss>;
export type MultiLabelMarginLoss = InstanceType<typeof MultiLabelMarginLoss>;
export type MultiLabelSoftMarginLoss = InstanceType<typeof MultiLabelSoftMarginLoss>;
export type MultiMarginLoss = InstanceType<typeof MultiMarginLoss>;
export type NLLLoss = InstanceType<typeof NLLLoss>;
export type NLLLoss2d = InstanceType<typeof NLLLoss2d>;
export type PoissonNLLLoss = InstanceType<typeof PoissonNLLLoss>;
export type SmoothL1Loss = InstanceType<typeof SmoothL1Loss>;
export type SoftMarginLoss = InstanceType<typeof SoftMarginLoss>;
export type TripletMarginLoss = InstanceType<typeof TripletMarginLoss>;

export type LinearCrossEntropyFields = {
  outFeatures: number[];
  bias: boolean;
  device: string | null;
  dtype: Dtype | null;
  reduction: Reduction;
  weight: Tensor | null;
  ignoreIndex: number | null;
  labelSmoothing: number;
  options: null;
};
const LINEAR_CE = signature<LinearCrossEntropyFields>()('LinearCrossEntropyLoss', [], {
  outFeatures: [],
  bias: false,
  device: null,
  dtype: null,
  reduction: 'mean',
  weight: null,
  ignoreIndex: null,
  labelSmoothing: 0,
  options: null,
});
/**
 * A linear layer and cross-entropy in one, as torch.nn.LinearCrossEntropyLoss(inFeatures, numClasses, { outFeatures, bias, reduction,
 * weight, ignoreIndex, labelSmoothing }): forward(input, target); the weights live in `linear`.
 */
export class LinearCrossEntropyLoss extends Module {
  declare weight: Tensor | null;
  declare linear: Linear;
  readonly outFeatures: number[];
  readonly reduction: Reduction;
  readonly ignoreIndex: number | null;
  readonly labelSmoothing: number;
  readonly options = null;
  constructor(
    inFeatures: number,
    readonly numClasses: number,
    ...rest: ArgsOf<typeof LINEAR_CE>
  ) {
    super();
    const a = LINEAR_CE.bind(rest);
    if (a.weight && a.weight.shape.join() !== String(numClasses)) {
      throw new TorchError(`expected weight shape to be (${numClasses},), got (${a.weight.shape.join(', ')})`);
    }
    if (a.labelSmoothing < 0 || a.labelSmoothing > 1) throw new TorchError(`expected label_smoothing to be in range [0, 1], got ${a.labelSmoothing}`);
    if (a.options !== null)
      throw new RangeError('LinearCrossEntropyLoss: the chunked `options` path is not offered by torchnode; leave options null');
    this.registerBuffer('weight', a.weight);
    this.reduction = a.reduction;
    this.outFeatures = [...a.outFeatures];
    this.ignoreIndex = a.ignoreIndex;
    this.labelSmoothing = a.labelSmoothing;
    this.linear = new Linear(
      inFeatures,
      this.outFeatures.reduce((p, q) => p * q, numClasses),
      { bias: a.bias, device: a.device, dtype: a.dtype },
    );
  }
  forward(input: Tensor, target: Tensor): Tensor {
    const inFeatures = this.linear.inFeatures;
    const w = this.linear.weight.reshape(this.numClasses, ...this.outFeatures, inFeatures);
    const b = this.linear.bias ? this.linear.bias.reshape(this.numClasses, ...this.outFeatures) : null;
    try {
      return F.linearCrossEntropy(input, w, target, {
        linearBias: b,
        weight: this.weight,
        reduction: this.reduction,
        ignoreIndex: this.ignoreIndex,
        labelSmoothing: this.labelSmoothing,
      });
    } finally {
      w.dispose();
      b?.dispose();
    }
  }
  override extraRepr(): string {
    return (
      `in_features=${this.linear.inFeatures}, num_classes=${this.numClasses}, out_features=${pyRepr(this.outFeatures)}, ` +
      `bias=${pyRepr(this.linear.bias !== null)}, reduction=${this.reduction}, ignore_index=${pyRepr(this.ignoreIndex)}, ` +
      `label_smoothing=${pyFloat(this.labelSmoothing)}, options=None`
    );
  }
}
