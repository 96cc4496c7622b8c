/** Embedding tables, as torch.nn's sparse.py: Embedding and EmbeddingBag, N(0, 1) initialised, padding row zeroed. */
import type { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { empty } from '../../generated/torch';
import { noGrad } from '../../core/autograd';
import { Module, Parameter } from '../module';
import * as F from '../functional';
import { paddingIndex } from '../functional/args';
import * as init from '../init';
import { pyFloat, pyRepr } from '../repr';
import { signature, type ArgsOf } from '../../core/signature';

export type EmbeddingFactory = { device: string | null; dtype: Dtype | null };
function table(rows: number, cols: number, given: Tensor | null, a: EmbeddingFactory): Parameter {
  if (given === null) return new Parameter(empty([rows, cols], { device: a.device ?? undefined, dtype: a.dtype ?? undefined }));
  if (given.ndim !== 2 || given.shape[0] !== rows || given.shape[1] !== cols) {
    throw new RangeError('Shape of weight does not match num_embeddings and embedding_dim');
  }
  return new Parameter(given);
}

export type EmbeddingFields = {
  paddingIdx: number | null;
  maxNorm: number | null;
  normType: number;
  scaleGradByFreq: boolean;
  sparse: boolean;
  _weight: Tensor | null;
  _freeze: boolean;
} & EmbeddingFactory;
const EMBEDDING = signature<EmbeddingFields>()(
  'Embedding',
  ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse', '_weight', '_freeze', 'device', 'dtype'],
  { paddingIdx: null, maxNorm: null, normType: 2, scaleGradByFreq: false, sparse: false, _weight: null, _freeze: false, device: null, dtype: null },
);
export type FromPretrainedFields = Omit<EmbeddingFields, '_weight' | '_freeze' | 'device' | 'dtype'> & { freeze: boolean };
const FROM_PRETRAINED = signature<FromPretrainedFields>()(
  'Embedding.fromPretrained',
  ['freeze', 'paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse'],
  { freeze: true, paddingIdx: null, maxNorm: null, normType: 2, scaleGradByFreq: false, sparse: false },
);

/** A lookup table of numEmbeddings vectors of embeddingDim, as torch.nn.Embedding(numEmbeddings, embeddingDim, paddingIdx, maxNorm, …). */
export class Embedding extends Module {
  declare weight: Parameter;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly sparse: boolean;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    ...rest: ArgsOf<typeof EMBEDDING>
  ) {
    super();
    const a = EMBEDDING.bind(rest);
    this.paddingIdx = paddingIndex(a.paddingIdx, numEmbeddings, 'Padding_idx');
    ({ maxNorm: this.maxNorm, normType: this.normType, scaleGradByFreq: this.scaleGradByFreq, sparse: this.sparse } = a);
    this.weight = table(numEmbeddings, embeddingDim, a._weight, a);
    if (a._freeze) this.weight.requiresGrad_(false);
    if (a._weight === null) this.resetParameters();
  }
  /** An Embedding over a given 2-D table (frozen unless freeze: false), as Embedding.from_pretrained. */
  static fromPretrained(embeddings: Tensor, ...rest: ArgsOf<typeof FROM_PRETRAINED>): Embedding {
    const { freeze, ...options } = FROM_PRETRAINED.bind(rest);
    if (embeddings.ndim !== 2) throw new RangeError('Embeddings parameter is expected to be 2-dimensional');
    return new Embedding(embeddings.shape[0], embeddings.shape[1], { ...options, _weight: embeddings, _freeze: freeze });
  }
  /** N(0, 1), the padding row zeroed. */
  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => this.weight.select(0, row).fill_(0));
    }
  }
  forward(input: Tensor): Tensor {
    return F.embedding(input, this.weight, this.paddingIdx, this.maxNorm, this.normType, this.scaleGradByFreq, this.sparse);
  }
  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    if (this.sparse) s += ', sparse=True';
    return s;
  }
}

export type BagFields = {
  maxNorm: number | null;
  normType: number;
  scaleGradByFreq: boolean;
  mode: 'sum' | 'mean' | 'max';
  sparse: boolean;
  _weight: Tensor | null;
  includeLastOffset: boolean;
  paddingIdx: number | null;
} & EmbeddingFactory;
const BAG = signature<BagFields>()(
  'EmbeddingBag',
  ['maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', '_weight', 'includeLastOffset', 'paddingIdx', 'device', 'dtype'],
  {
    maxNorm: null,
    normType: 2,
    scaleGradByFreq: false,
    mode: 'mean',
    sparse: false,
    _weight: null,
    includeLastOffset: false,
    paddingIdx: null,
    device: null,
    dtype: null,
  },
);
/** Sums, means or maxes of bags of embeddings, as torch.nn.EmbeddingBag(numEmbeddings, embeddingDim, maxNorm, normType, scaleGradByFreq, mode, …). */
export class EmbeddingBag extends Module {
  declare weight: Parameter;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly mode: 'sum' | 'mean' | 'max';
  readonly sparse: boolean;
  readonly includeLastOffset: boolean;
  readonly paddingIdx: number | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    ...rest: ArgsOf<typeof BAG>
  ) {
    super();
    const a = BAG.bind(rest);
    ({ maxNorm: this.maxNorm, normType: this.normType, scaleGradByFreq: this.scaleGradByFreq, mode: this.mode, sparse: this.sparse } = a);
    this.includeLastOffset = a.includeLastOffset;
    this.paddingIdx = paddingIndex(a.paddingIdx, numEmbeddings, 'padding_idx');
    this.weight = table(numEmbeddings, embeddingDim, a._weight, a);
    if (a._weight === null) this.resetParameters();
  }
  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => this.weight.select(0, row).fill_(0));
    }
  }
  forward(input: Tensor, offsets: Tensor | null = null, perSampleWeights: Tensor | null = null): Tensor {
    return F.embeddingBag(
      input,
      this.weight,
      offsets,
      this.maxNorm,
      this.normType,
      this.scaleGradByFreq,
      this.mode,
      this.sparse,
      perSampleWeights,
      this.includeLastOffset,
      this.paddingIdx,
    );
  }
  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    s += `, mode=${pyRepr(this.mode)}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }
}
