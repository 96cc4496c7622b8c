/** Embedding lookups, as torch.nn.functional has them. */
import { Tensor } from '../../core/tensor';
import { sameShape } from '../../core/args';
import { scope } from '../../core/scope';
import { noGrad } from '../../core/autograd';
import { torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { paddingIndex, tensorArg } from './args';

/** Python's padding_idx normalisation: negative counts from the end; null is ATen's −1. */

export type EmbeddingFields = { paddingIdx: number | null; maxNorm: number | null; normType: number; scaleGradByFreq: boolean; sparse: boolean };
const EMBEDDING = signature<EmbeddingFields>()('F.embedding', ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse'], {
  paddingIdx: null,
  maxNorm: null,
  normType: 2,
  scaleGradByFreq: false,
  sparse: false,
});
/** Rows of weight at the indices of input; with maxNorm, the rows looked up are renormalised in place first (as Python's). */
export function embedding(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof EMBEDDING>): Tensor {
  const a = EMBEDDING.bind(rest);
  const padding = paddingIndex(a.paddingIdx, tensorArg(weight, 'weight').shape[0]) ?? -1;
  if (a.maxNorm !== null) {
    const maxNorm = a.maxNorm;
    scope(() => noGrad(() => T.embeddingRenorm_(weight, tensorArg(input).contiguous(), maxNorm, a.normType)));
  }
  return T.embedding(weight, tensorArg(input), padding, a.scaleGradByFreq, a.sparse);
}

export type BagMode = 'sum' | 'mean' | 'max';
export type BagFields = {
  offsets: Tensor | null;
  maxNorm: number | null;
  normType: number;
  scaleGradByFreq: boolean;
  mode: BagMode;
  sparse: boolean;
  perSampleWeights: Tensor | null;
  includeLastOffset: boolean;
  paddingIdx: number | null;
};
const EMBEDDING_BAG = signature<BagFields>()(
  'F.embeddingBag',
  ['offsets', 'maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', 'perSampleWeights', 'includeLastOffset', 'paddingIdx'],
  {
    offsets: null,
    maxNorm: null,
    normType: 2,
    scaleGradByFreq: false,
    mode: 'mean',
    sparse: false,
    perSampleWeights: null,
    includeLastOffset: false,
    paddingIdx: null,
  },
);
const BAG_MODES: Record<BagMode, number> = { sum: 0, mean: 1, max: 2 };
/** Sums, means or maxes of bags of embeddings: a 2-D input is one bag per row; a 1-D one is cut by offsets. */
export function embeddingBag(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof EMBEDDING_BAG>): Tensor {
  const a = EMBEDDING_BAG.bind(rest);
  tensorArg(input);
  tensorArg(weight, 'weight');
  if (a.perSampleWeights && !sameShape(input.shape, a.perSampleWeights.shape)) {
    throw new RangeError(
      `embedding_bag: If per_sample_weights ([${a.perSampleWeights.shape.join(', ')}]) is not None, then it must have the same ` +
        `shape as the input ([${input.shape.join(', ')}])`,
    );
  }
  if (weight.ndim !== 2) throw new RangeError(`weight has to be a 2D Tensor, but got Tensor of dimension ${weight.ndim}`);
  const mode = BAG_MODES[a.mode];
  if (mode === undefined) throw new RangeError('mode has to be one of sum, mean or max');
  return scope(() => {
    let [x, offsets, psw, includeLast] = [input, a.offsets, a.perSampleWeights, a.includeLastOffset];
    if (x.ndim === 2) {
      if (offsets !== null) {
        throw new RangeError(
          'if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. ' +
            'However, found offsets of type Tensor',
        );
      }
      offsets = T.arange(0, x.numel(), x.shape[1], { dtype: x.dtype, device: x.device });
      includeLast = false;
      x = x.reshape(-1);
      psw = psw?.reshape(-1) ?? null;
    } else if (x.ndim === 1) {
      if (offsets === null) throw new RangeError('offsets has to be a 1D Tensor but got None');
      if (offsets.ndim !== 1) throw new RangeError('offsets has to be a 1D Tensor');
    } else throw new RangeError(`input has to be 1D or 2D Tensor, but got Tensor of dimension ${x.ndim}`);
    if (a.maxNorm !== null) {
      const [ix, maxNorm] = [x, a.maxNorm];
      noGrad(() => T.embeddingRenorm_(weight, ix, maxNorm, a.normType));
    }
    if (psw !== null && a.mode !== 'sum') {
      throw new RangeError(
        `embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='${a.mode}'). ` +
          'Please open a feature request on GitHub.',
      );
    }
    // null, not −1: ATen's embedding_bag wraps a negative padding_idx to the last row
    const padding = paddingIndex(a.paddingIdx, weight.shape[0]);
    const out = (T.embeddingBag as (...x: unknown[]) => Tensor[])(weight, x, offsets, a.scaleGradByFreq, mode, a.sparse, psw, includeLast, padding);
    return out[0];
  });
}
