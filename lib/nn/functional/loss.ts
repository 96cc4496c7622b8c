/**
 * Loss functions, as torch.nn.functional has them: Python's positional order (the deprecated
 * sizeAverage/reduce included, folded into reduction with Python's warning), or any argument by name.
 */
import { native } from '../../core/native';
import { Tensor, handleOf, wrap } from '../../core/tensor';
import { sameShape } from '../../core/args';
import { TorchError, warnOnce } from '../../core/errors';
import { scope } from '../../core/scope';
import { noGrad } from '../../core/autograd';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { logsigmoid } from './activation';
import { legacyReduction, optHandle, reductionCode, tensorArg, type Reduction } from './args';

export type LegacyReductionFields = { sizeAverage: boolean | null; reduce: boolean | null; reduction: Reduction };
/** @internal The legacy pair's defaults (and reduction's). */
export const LEGACY: LegacyReductionFields = { sizeAverage: null, reduce: null, reduction: 'mean' };
/** The reduction's ATen code, from reduction or the legacy pair. */
const code = (who: string, a: LegacyReductionFields) => reductionCode(legacyReduction(who, a.sizeAverage, a.reduce, a.reduction));
/** Applies 'none' | 'mean' | 'sum' to an unreduced loss (mean over `denominator` when given). */
function reduced(loss: Tensor, reduction: Reduction, denominator?: Tensor): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return loss.sum();
  if (reduction === 'mean') return denominator ? loss.sum().div(denominator.sum()) : loss.mean();
  throw new RangeError(`Invalid reduction mode: ${String(reduction)}. Expected one of 'none', 'mean', 'sum'.`);
}

export type CrossEntropyFields = LegacyReductionFields & { weight: Tensor | null; ignoreIndex: number; labelSmoothing: number };
const CROSS_ENTROPY = signature<CrossEntropyFields>()(
  'F.crossEntropy',
  ['weight', 'sizeAverage', 'ignoreIndex', 'reduce', 'reduction', 'labelSmoothing'],
  { ...LEGACY, weight: null, ignoreIndex: -100, labelSmoothing: 0 },
);
export type CrossEntropyOptions = Partial<CrossEntropyFields>;
/** F.cross_entropy: target holds class indices (int64) or class probabilities (float, same shape). */
export function crossEntropy(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof CROSS_ENTROPY>): Tensor {
  const a = CROSS_ENTROPY.bind(rest);
  if (!(a.labelSmoothing >= 0 && a.labelSmoothing <= 1)) throw new RangeError(`labelSmoothing must be between 0.0 and 1.0 (got ${a.labelSmoothing})`);
  return wrap(
    native.crossEntropy(
      handleOf(input, 'input'),
      handleOf(target, 'target'),
      optHandle(a.weight, 'weight'),
      code('cross_entropy', a),
      a.ignoreIndex,
      a.labelSmoothing,
    ),
  );
}
const NLL = signature<Omit<CrossEntropyFields, 'labelSmoothing'>>()('F.nllLoss', ['weight', 'sizeAverage', 'ignoreIndex', 'reduce', 'reduction'], {
  ...LEGACY,
  weight: null,
  ignoreIndex: -100,
});
/** F.nll_loss of log-probabilities and class indices. */
export function nllLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof NLL>): Tensor {
  const a = NLL.bind(rest);
  return wrap(
    native.nllLoss(handleOf(input, 'input'), handleOf(target, 'target'), optHandle(a.weight, 'weight'), code('nll_loss', a), a.ignoreIndex),
  );
}

/**
 * As Python's F.mse_loss / F.l1_loss: input and target of different sizes are broadcast against each other
 * first (with Python's warning, once), so the gradient is taken over the broadcast elements.
 */
function broadcastLoss(input: Tensor, target: Tensor, name: string, loss: (x: Tensor, y: Tensor) => Tensor): Tensor {
  const [xs, ys] = [tensorArg(input).shape, tensorArg(target, 'target').shape];
  if (sameShape(xs, ys)) return loss(input, target);
  warnOnce(
    `F.${name}.broadcast`,
    `F.${name}: using a target size ([${ys.join(', ')}]) that is different to the input size ([${xs.join(', ')}]). ` +
      'This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.',
  );
  const n = Math.max(xs.length, ys.length);
  const shape = Array.from({ length: n }, (_, i) => {
    const [p, q] = [xs[xs.length - n + i] ?? 1, ys[ys.length - n + i] ?? 1];
    if (p !== q && p !== 1 && q !== 1)
      throw new TorchError(`The size of tensor a (${p}) must match the size of tensor b (${q}) at non-singleton dimension ${i}`);
    return p === 1 ? q : p;
  });
  // torch.broadcast_tensors: expanded views, whose backward sums back over the broadcast dims
  return scope(() => loss(input.expand(shape), target.expand(shape)));
}

export type PointwiseFields = LegacyReductionFields & { weight: Tensor | null };
const pointwiseSig = (who: string) =>
  signature<PointwiseFields>()(who, ['sizeAverage', 'reduce', 'reduction', 'weight'], { ...LEGACY, weight: null });
const MSE = pointwiseSig('F.mseLoss');
const L1 = pointwiseSig('F.l1Loss');
/** Python's weighted form of mse/l1: the unreduced errors times weight, 'mean' over weight's sum. */
function weightedPointwise(input: Tensor, target: Tensor, weight: Tensor, reduction: Reduction, errors: (d: Tensor) => Tensor): Tensor {
  if (!sameShape(tensorArg(weight, 'weight').shape, tensorArg(input).shape)) throw new RangeError('Weights and input must have the same size.');
  return scope(() => reduced(errors(input.sub(target)).mul(weight), reduction, reduction === 'mean' ? weight : undefined));
}
/** F.mse_loss(input, target, sizeAverage, reduce, reduction, weight). */
export function mseLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof MSE>): Tensor {
  const a = MSE.bind(rest);
  const reduction = legacyReduction('mse_loss', a.sizeAverage, a.reduce, a.reduction);
  if (a.weight) return weightedPointwise(input, target, a.weight, reduction, (d) => d.pow(2));
  return broadcastLoss(input, target, 'mseLoss', (x, y) => wrap(native.mseLoss(x.handle, y.handle, reductionCode(reduction))));
}
/** F.l1_loss(input, target, sizeAverage, reduce, reduction, weight). */
export function l1Loss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof L1>): Tensor {
  const a = L1.bind(rest);
  const reduction = legacyReduction('l1_loss', a.sizeAverage, a.reduce, a.reduction);
  if (a.weight) return weightedPointwise(input, target, a.weight, reduction, (d) => d.abs());
  return broadcastLoss(input, target, 'l1Loss', (x, y) => wrap(native.l1Loss(x.handle, y.handle, reductionCode(reduction))));
}
const SMOOTH_L1 = signature<LegacyReductionFields & { beta: number }>()('F.smoothL1Loss', ['sizeAverage', 'reduce', 'reduction', 'beta'], {
  ...LEGACY,
  beta: 1,
});
/** F.smooth_l1_loss: squared below beta, absolute above; beta 0 is l1Loss (as Python's). */
export function smoothL1Loss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof SMOOTH_L1>): Tensor {
  const a = SMOOTH_L1.bind(rest);
  if (a.beta < 0) throw new RangeError(`smoothL1Loss: beta must be non-negative (got ${a.beta})`);
  const r = code('smooth_l1_loss', a);
  return broadcastLoss(input, target, 'smoothL1Loss', (x, y) =>
    wrap(a.beta === 0 ? native.l1Loss(x.handle, y.handle, r) : native.smoothL1Loss(x.handle, y.handle, r, a.beta)),
  );
}
const HUBER = signature<{ reduction: Reduction; delta: number; weight: Tensor | null }>()('F.huberLoss', ['reduction', 'delta', 'weight'], {
  reduction: 'mean',
  delta: 1,
  weight: null,
});
/** F.huber_loss(input, target, reduction, delta, weight). */
export function huberLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof HUBER>): Tensor {
  const a = HUBER.bind(rest);
  if (!a.weight) return broadcastLoss(input, target, 'huberLoss', (x, y) => NN.huberLoss(x, y, reductionCode(a.reduction), a.delta));
  if (!sameShape(tensorArg(a.weight, 'weight').shape, tensorArg(input).shape)) throw new RangeError('Weights and input must have the same size.');
  return scope(() => reduced(NN.huberLoss(input, target, 0, a.delta).mul(a.weight!), a.reduction));
}

const BCE = signature<LegacyReductionFields & { weight: Tensor | null }>()('F.binaryCrossEntropy', ['weight', 'sizeAverage', 'reduce', 'reduction'], {
  ...LEGACY,
  weight: null,
});
/** F.binary_cross_entropy of probabilities; target of input's size (Python's rule); weight broadcast to it. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof BCE>): Tensor {
  const a = BCE.bind(rest);
  const r = code('binary_cross_entropy', a);
  const [xs, ys] = [tensorArg(input).shape, tensorArg(target, 'target').shape];
  if (!sameShape(xs, ys)) {
    throw new RangeError(
      `Using a target size ([${ys.join(', ')}]) that is different to the input size ([${xs.join(', ')}]) is deprecated. ` +
        'Please ensure they have the same size.',
    );
  }
  const weight = optHandle(a.weight, 'weight');
  const expanded = weight === undefined ? undefined : native.expand(weight, ys);
  try {
    return wrap(native.binaryCrossEntropy(input.handle, target.handle, expanded, r));
  } finally {
    if (expanded !== undefined) native.dispose(expanded);
  }
}
const BCE_LOGITS = signature<LegacyReductionFields & { weight: Tensor | null; posWeight: Tensor | null }>()(
  'F.binaryCrossEntropyWithLogits',
  ['weight', 'sizeAverage', 'reduce', 'reduction', 'posWeight'],
  { ...LEGACY, weight: null, posWeight: null },
);
/** F.binary_cross_entropy_with_logits(input, target, weight, sizeAverage, reduce, reduction, posWeight). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof BCE_LOGITS>): Tensor {
  const a = BCE_LOGITS.bind(rest);
  const [xs, ys] = [tensorArg(input).shape, tensorArg(target, 'target').shape];
  if (!sameShape(xs, ys)) throw new RangeError(`Target size ([${ys.join(', ')}]) must be the same as input size ([${xs.join(', ')}])`);
  return wrap(
    native.binaryCrossEntropyWithLogits(
      input.handle,
      target.handle,
      optHandle(a.weight, 'weight'),
      optHandle(a.posWeight, 'posWeight'),
      code('binary_cross_entropy_with_logits', a),
    ),
  );
}

export type KlReduction = Reduction | 'batchmean';
const KL_DIV = signature<{ sizeAverage: boolean | null; reduce: boolean | null; reduction: KlReduction; logTarget: boolean }>()(
  'F.klDiv',
  ['sizeAverage', 'reduce', 'reduction', 'logTarget'],
  { sizeAverage: null, reduce: null, reduction: 'mean', logTarget: false },
);
/** F.kl_div of log-probabilities and (log-)probabilities; 'batchmean' divides the sum by the batch size. */
export function klDiv(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof KL_DIV>): Tensor {
  const a = KL_DIV.bind(rest);
  let enumCode: number;
  if (a.sizeAverage !== null || a.reduce !== null) enumCode = reductionCode(legacyReduction('kl_div', a.sizeAverage, a.reduce, 'mean'));
  else {
    if (a.reduction === 'mean') {
      warnOnce(
        'F.klDiv.mean',
        "reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' divides only by " +
          "the batch size, and aligns with the KL div math definition.'mean' will be changed to behave the same as 'batchmean' in the next major release.",
      );
    }
    enumCode = reductionCode(a.reduction === 'batchmean' ? 'sum' : a.reduction);
  }
  const out = T.klDiv(tensorArg(input), tensorArg(target, 'target'), enumCode, { logTarget: a.logTarget });
  if (a.reduction !== 'batchmean' || input.ndim === 0) return out;
  try {
    return out.div(input.shape[0]);
  } finally {
    out.dispose();
  }
}

const POISSON = signature<{
  logInput: boolean;
  full: boolean;
  sizeAverage: boolean | null;
  eps: number;
  reduce: boolean | null;
  reduction: Reduction;
}>()('F.poissonNllLoss', ['logInput', 'full', 'sizeAverage', 'eps', 'reduce', 'reduction'], {
  logInput: true,
  full: false,
  sizeAverage: null,
  eps: 1e-8,
  reduce: null,
  reduction: 'mean',
});
/** F.poisson_nll_loss(input, target, logInput, full, sizeAverage, eps, reduce, reduction). */
export function poissonNllLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof POISSON>): Tensor {
  const a = POISSON.bind(rest);
  return T.poissonNllLoss(tensorArg(input), tensorArg(target, 'target'), a.logInput, a.full, a.eps, code('poisson_nll_loss', a));
}

const GAUSSIAN = signature<{ full: boolean; eps: number; reduction: Reduction }>()('F.gaussianNllLoss', ['full', 'eps', 'reduction'], {
  full: false,
  eps: 1e-6,
  reduction: 'mean',
});
/** F.gaussian_nll_loss(input, target, var, full, eps, reduction): the negative log-likelihood of a Gaussian with mean input and variance var. */
export function gaussianNllLoss(input: Tensor, target: Tensor, variance: Tensor | number, ...rest: ArgsOf<typeof GAUSSIAN>): Tensor {
  const a = GAUSSIAN.bind(rest);
  tensorArg(input);
  tensorArg(target, 'target');
  return scope(() => {
    let v: Tensor;
    if (typeof variance === 'number') {
      if (variance < 0) throw new RangeError('var has negative entry/entries');
      v = T.onesLike(input).mul(variance);
    } else {
      if (tensorArg(variance, 'var').lt(0).any().item()) throw new RangeError('var has negative entry/entries');
      v = variance;
      if (!sameShape(v.shape, input.shape)) {
        if (sameShape(input.shape.slice(0, -1), v.shape)) v = v.unsqueeze(-1);
        else if (!(input.ndim === v.ndim && input.shape.reduce((n, s, i) => n + (s !== v.shape[i] ? v.shape[i] : 0), 0) === 1)) {
          throw new RangeError('var is of incorrect size');
        }
      }
    }
    if (!['none', 'mean', 'sum'].includes(a.reduction)) throw new RangeError(`${a.reduction} is not valid`);
    v = v.clone();
    const clamped = v;
    noGrad(() => clamped.clamp_({ min: a.eps }));
    let loss = v.log().add(input.sub(target).pow(2).div(v)).mul(0.5);
    if (a.full) loss = loss.add(0.5 * Math.log(2 * Math.PI));
    return reduced(loss, a.reduction);
  });
}

const CTC = signature<{ blank: number; reduction: Reduction; zeroInfinity: boolean }>()('F.ctcLoss', ['blank', 'reduction', 'zeroInfinity'], {
  blank: 0,
  reduction: 'mean',
  zeroInfinity: false,
});
/** F.ctc_loss(logProbs, targets, inputLengths, targetLengths, blank, reduction, zeroInfinity): the connectionist temporal classification loss. */
export function ctcLoss(
  logProbs: Tensor,
  targets: Tensor,
  inputLengths: Tensor | number[],
  targetLengths: Tensor | number[],
  ...rest: ArgsOf<typeof CTC>
): Tensor {
  const a = CTC.bind(rest);
  return (T.ctcLoss as (...x: unknown[]) => Tensor)(
    tensorArg(logProbs, 'logProbs'),
    tensorArg(targets, 'targets'),
    inputLengths,
    targetLengths,
    a.blank,
    reductionCode(a.reduction),
    a.zeroInfinity,
  );
}

const MARGIN = (who: string, margin: number) =>
  signature<LegacyReductionFields & { margin: number }>()(who, ['margin', 'sizeAverage', 'reduce', 'reduction'], { ...LEGACY, margin });
const MARGIN_RANKING = MARGIN('F.marginRankingLoss', 0);
/** F.margin_ranking_loss(input1, input2, target, margin, …): max(0, −target·(input1 − input2) + margin). */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, ...rest: ArgsOf<typeof MARGIN_RANKING>): Tensor {
  const a = MARGIN_RANKING.bind(rest);
  const [d1, d2, dt] = [tensorArg(input1, 'input1').ndim, tensorArg(input2, 'input2').ndim, tensorArg(target, 'target').ndim];
  if (d1 !== d2 || d1 !== dt) {
    throw new TorchError(
      `margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: [${input1.shape.join(', ')}], ` +
        `input2: [${input2.shape.join(', ')}], target: [${target.shape.join(', ')}] `,
    );
  }
  return T.marginRankingLoss(input1, input2, target, a.margin, code('margin_ranking_loss', a));
}
const HINGE = MARGIN('F.hingeEmbeddingLoss', 1);
/** F.hinge_embedding_loss(input, target, margin, …). */
export function hingeEmbeddingLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof HINGE>): Tensor {
  const a = HINGE.bind(rest);
  return T.hingeEmbeddingLoss(tensorArg(input), tensorArg(target, 'target'), a.margin, code('hinge_embedding_loss', a));
}
const COSINE_EMBEDDING = MARGIN('F.cosineEmbeddingLoss', 0);
/** F.cosine_embedding_loss(input1, input2, target, margin, …). */
export function cosineEmbeddingLoss(input1: Tensor, input2: Tensor, target: Tensor, ...rest: ArgsOf<typeof COSINE_EMBEDDING>): Tensor {
  const a = COSINE_EMBEDDING.bind(rest);
  return T.cosineEmbeddingLoss(
    tensorArg(input1, 'input1'),
    tensorArg(input2, 'input2'),
    tensorArg(target, 'target'),
    a.margin,
    code('cosine_embedding_loss', a),
  );
}

const TRIPLET = signature<LegacyReductionFields & { margin: number; p: number; eps: number; swap: boolean }>()(
  'F.tripletMarginLoss',
  ['margin', 'p', 'eps', 'swap', 'sizeAverage', 'reduce', 'reduction'],
  { ...LEGACY, margin: 1, p: 2, eps: 1e-6, swap: false },
);
/** F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, …). */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, ...rest: ArgsOf<typeof TRIPLET>): Tensor {
  const a = TRIPLET.bind(rest);
  if (a.margin <= 0) throw new RangeError(`margin must be greater than 0, got ${a.margin}`);
  return T.tripletMarginLoss(
    tensorArg(anchor, 'anchor'),
    tensorArg(positive, 'positive'),
    tensorArg(negative, 'negative'),
    a.margin,
    a.p,
    a.eps,
    a.swap,
    code('triplet_margin_loss', a),
  );
}
export type DistanceFunction = (x1: Tensor, x2: Tensor) => Tensor;
const TRIPLET_DISTANCE = signature<{ distanceFunction: DistanceFunction | null; margin: number; swap: boolean; reduction: Reduction }>()(
  'F.tripletMarginWithDistanceLoss',
  [],
  { distanceFunction: null, margin: 1, swap: false, reduction: 'mean' },
);
/** F.triplet_margin_with_distance_loss(anchor, positive, negative, { distanceFunction, margin, swap, reduction }) (keyword-only, as Python's). */
export function tripletMarginWithDistanceLoss(anchor: Tensor, positive: Tensor, negative: Tensor, ...rest: ArgsOf<typeof TRIPLET_DISTANCE>): Tensor {
  const a = TRIPLET_DISTANCE.bind(rest);
  if (!['mean', 'sum', 'none'].includes(a.reduction)) throw new RangeError(`${a.reduction} is not a valid value for reduction`);
  if (a.margin <= 0) throw new RangeError(`margin must be greater than 0, got ${a.margin}`);
  const [ad, pd, nd] = [tensorArg(anchor, 'anchor').ndim, tensorArg(positive, 'positive').ndim, tensorArg(negative, 'negative').ndim];
  if (!(ad === pd && pd === nd)) {
    throw new TorchError(
      'The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: ' +
        `anchor ${ad}D, positive ${pd}D, and negative ${nd}D inputs`,
    );
  }
  const distance = a.distanceFunction ?? ((x1: Tensor, x2: Tensor) => T.pairwiseDistance(x1, x2));
  return scope(() => {
    const pos = distance(anchor, positive);
    let neg = distance(anchor, negative);
    if (a.swap) neg = T.minimum(neg, distance(positive, negative));
    return reduced(pos.sub(neg).add(a.margin).clampMin(0), a.reduction);
  });
}

const LEGACY_ONLY = (who: string) => signature<LegacyReductionFields>()(who, ['sizeAverage', 'reduce', 'reduction'], LEGACY);
const MULTILABEL_MARGIN = LEGACY_ONLY('F.multilabelMarginLoss');
/** F.multilabel_margin_loss(input, target, …): target holds class indices, padded with −1. */
export function multilabelMarginLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof MULTILABEL_MARGIN>): Tensor {
  return NN.multilabelMarginLoss(tensorArg(input), tensorArg(target, 'target'), code('multilabel_margin_loss', MULTILABEL_MARGIN.bind(rest)));
}
const SOFT_MARGIN = LEGACY_ONLY('F.softMarginLoss');
/** F.soft_margin_loss(input, target, …): log(1 + exp(−target·input)). */
export function softMarginLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof SOFT_MARGIN>): Tensor {
  return NN.softMarginLoss(tensorArg(input), tensorArg(target, 'target'), code('soft_margin_loss', SOFT_MARGIN.bind(rest)));
}
const MULTILABEL_SOFT = signature<LegacyReductionFields & { weight: Tensor | null }>()(
  'F.multilabelSoftMarginLoss',
  ['weight', 'sizeAverage', 'reduce', 'reduction'],
  { ...LEGACY, weight: null },
);
/** F.multilabel_soft_margin_loss(input, target, weight, …): per-class logistic loss averaged over classes. */
export function multilabelSoftMarginLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof MULTILABEL_SOFT>): Tensor {
  const a = MULTILABEL_SOFT.bind(rest);
  const reduction = legacyReduction('multilabel_soft_margin_loss', a.sizeAverage, a.reduce, a.reduction);
  tensorArg(input);
  tensorArg(target, 'target');
  return scope(() => {
    let loss = target
      .mul(logsigmoid(input))
      .add(target.neg().add(1).mul(logsigmoid(input.neg())))
      .neg();
    if (a.weight) loss = loss.mul(a.weight);
    const classDim = input.ndim - 1;
    loss = loss.sum(classDim).div(input.shape[classDim]);
    return reduced(loss, reduction);
  });
}
const MULTI_MARGIN = signature<LegacyReductionFields & { p: number; margin: number; weight: Tensor | null }>()(
  'F.multiMarginLoss',
  ['p', 'margin', 'weight', 'sizeAverage', 'reduce', 'reduction'],
  { ...LEGACY, p: 1, margin: 1, weight: null },
);
/** F.multi_margin_loss(input, target, p, margin, weight, …): the multi-class hinge loss. */
export function multiMarginLoss(input: Tensor, target: Tensor, ...rest: ArgsOf<typeof MULTI_MARGIN>): Tensor {
  const a = MULTI_MARGIN.bind(rest);
  const r = code('multi_margin_loss', a);
  if (a.p !== 1 && a.p !== 2) throw new RangeError('only p == 1 and p == 2 supported');
  if (a.weight && a.weight.ndim !== 1) throw new RangeError('weight must be one-dimensional');
  return NN.multiMarginLoss(tensorArg(input), tensorArg(target, 'target'), a.p, a.margin, a.weight, r);
}

export type LinearCEFields = {
  linearBias: Tensor | null;
  weight: Tensor | null;
  reduction: Reduction;
  ignoreIndex: number | null;
  labelSmoothing: number;
  options: null;
};
const LINEAR_CE = signature<LinearCEFields>()('F.linearCrossEntropy', [], {
  linearBias: null,
  weight: null,
  reduction: 'mean',
  ignoreIndex: null,
  labelSmoothing: 0,
  options: null,
});
/**
 * F.linear_cross_entropy(input, linearWeight, target, {linearBias, weight, reduction, ignoreIndex, labelSmoothing}):
 * crossEntropy of linear(input) as Python's unchunked path; linearWeight (C, *outFeatures, inFeatures) gives a
 * K-dimensional loss. Python's chunked `options` are not offered.
 */
export function linearCrossEntropy(input: Tensor, linearWeight: Tensor, target: Tensor, ...rest: ArgsOf<typeof LINEAR_CE>): Tensor {
  const a = LINEAR_CE.bind(rest);
  if (a.options !== null) throw new RangeError('F.linearCrossEntropy: the chunked `options` path is not offered by torchnode; leave options null');
  const [x, w] = [tensorArg(input), tensorArg(linearWeight, 'linearWeight')];
  tensorArg(target, 'target');
  if (x.ndim < 1 || x.ndim > 2) throw new TorchError(`expected input with dimensionality 1 or 2, got ${x.ndim}`);
  if (w.ndim < 2) throw new TorchError(`expected linear_weight with dimensionality at least 2, got ${w.ndim}`);
  const batches = x.shape.slice(0, -1);
  const inFeatures = x.shape[x.ndim - 1];
  if (inFeatures !== w.shape[w.ndim - 1]) {
    throw new TorchError(
      `expected equal input and linear_weight last dimensions (in_features), got ${inFeatures} and ${w.shape[w.ndim - 1]}, respectively`,
    );
  }
  const numClasses = w.shape[0];
  const outFeatures = w.shape.slice(1, -1);
  if (a.linearBias && a.linearBias.shape.join() !== [numClasses, ...outFeatures].join()) {
    throw new TorchError(`expected linear_bias shape (${[numClasses, ...outFeatures].join(', ')}), got (${a.linearBias.shape.join(', ')})`);
  }
  if (outFeatures.length > 0 && batches.length === 0) {
    throw new TorchError(
      `K-dimensional loss defined by linear_weight shape (${w.shape.join(', ')}) requires batched input, (N, ${inFeatures}), got unbatched ` +
        `input with shape (${x.shape.join(', ')})`,
    );
  }
  const logitsShape = [...batches, numClasses, ...outFeatures];
  if (target.shape.join() === logitsShape.join() && a.ignoreIndex !== null) {
    throw new TorchError('ignore_index cannot be specified when target contains probabilities');
  }
  return scope(() => {
    const total = outFeatures.reduce((p, q) => p * q, numClasses);
    const flatW = outFeatures.length ? w.reshape(total, inFeatures) : w;
    const flatB = a.linearBias && outFeatures.length ? a.linearBias.reshape(total) : a.linearBias;
    const logits = native.linear(x.handle, flatW.handle, flatB === null ? undefined : flatB.handle);
    return crossEntropy(wrap(logits).reshape(logitsShape), target, {
      weight: a.weight,
      reduction: a.reduction,
      ignoreIndex: a.ignoreIndex ?? -100,
      labelSmoothing: a.labelSmoothing,
    });
  });
}
