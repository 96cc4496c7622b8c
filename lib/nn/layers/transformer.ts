/**
 * Attention layers, as torch.nn's activation.py (MultiheadAttention) and transformer.py: the encoder and
 * decoder layers, their stacks, and Transformer. Attribute names, parameter order and initialisation are
 * Python's, so state dicts move both ways; forward is Python's reference path (its fused inference path
 * gives the same results up to rounding).
 */
import { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { scope } from '../../core/scope';
import { empty, full } from '../../generated/torch';
import { torchFunctions as T } from '../../core/surface';
import { Module, Parameter, deepcopy } from '../module';
import { ModuleList } from '../container';
import * as F from '../functional';
import * as init from '../init';
import { signature, type ArgsOf } from '../../core/signature';
import { Linear } from './linear';
import { Dropout } from './dropout';
import { LayerNorm } from './normalization';

export type TransformerFactory = { device: string | null; dtype: Dtype | null };
const factoryOf = (a: TransformerFactory) => ({ device: a.device ?? undefined, dtype: a.dtype ?? undefined });

/** Linear under the name Python's MultiheadAttention gives its output projection (it prints so). */
export class NonDynamicallyQuantizableLinear extends Linear {}

export type MultiheadAttentionFields = {
  dropout: number;
  bias: boolean;
  addBiasKv: boolean;
  addZeroAttn: boolean;
  kdim: number | null;
  vdim: number | null;
  batchFirst: boolean;
} & TransformerFactory;
const MHA = signature<MultiheadAttentionFields>()(
  'MultiheadAttention',
  ['dropout', 'bias', 'addBiasKv', 'addZeroAttn', 'kdim', 'vdim', 'batchFirst', 'device', 'dtype'],
  { dropout: 0, bias: true, addBiasKv: false, addZeroAttn: false, kdim: null, vdim: null, batchFirst: false, device: null, dtype: null },
);
export type MultiheadAttentionForwardFields = {
  keyPaddingMask: Tensor | null;
  needWeights: boolean;
  attnMask: Tensor | null;
  averageAttnWeights: boolean;
  isCausal: boolean;
};
const MHA_FORWARD = signature<MultiheadAttentionForwardFields>()(
  'MultiheadAttention.forward',
  ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights', 'isCausal'],
  { keyPaddingMask: null, needWeights: true, attnMask: null, averageAttnWeights: true, isCausal: false },
);

/** Attention over numHeads heads, as torch.nn.MultiheadAttention(embedDim, numHeads, dropout, bias, addBiasKv, addZeroAttn, kdim, vdim, batchFirst). */
export class MultiheadAttention extends Module {
  declare in_proj_weight: Parameter | null;
  declare q_proj_weight: Parameter | null;
  declare k_proj_weight: Parameter | null;
  declare v_proj_weight: Parameter | null;
  declare in_proj_bias: Parameter | null;
  declare out_proj: NonDynamicallyQuantizableLinear;
  declare bias_k: Parameter | null;
  declare bias_v: Parameter | null;
  readonly kdim: number;
  readonly vdim: number;
  readonly qkvSameEmbedDim: boolean;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly headDim: number;
  readonly addZeroAttn: boolean;
  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    ...rest: ArgsOf<typeof MHA>
  ) {
    super();
    const a = MHA.bind(rest);
    if (embedDim <= 0 || numHeads <= 0) {
      throw new RangeError(`embed_dim and num_heads must be greater than 0, got embed_dim=${embedDim} and num_heads=${numHeads} instead`);
    }
    const f = factoryOf(a);
    this.kdim = a.kdim ?? embedDim;
    this.vdim = a.vdim ?? embedDim;
    this.qkvSameEmbedDim = this.kdim === embedDim && this.vdim === embedDim;
    this.dropout = a.dropout;
    this.batchFirst = a.batchFirst;
    this.headDim = Math.floor(embedDim / numHeads);
    if (this.headDim * numHeads !== embedDim) throw new RangeError('embed_dim must be divisible by num_heads');
    if (!this.qkvSameEmbedDim) {
      this.q_proj_weight = new Parameter(empty([embedDim, embedDim], f));
      this.k_proj_weight = new Parameter(empty([embedDim, this.kdim], f));
      this.v_proj_weight = new Parameter(empty([embedDim, this.vdim], f));
      this.in_proj_weight = null;
    } else {
      this.in_proj_weight = new Parameter(empty([3 * embedDim, embedDim], f));
      this.q_proj_weight = this.k_proj_weight = this.v_proj_weight = null;
    }
    this.in_proj_bias = a.bias ? new Parameter(empty([3 * embedDim], f)) : null;
    this.out_proj = new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias: a.bias, device: a.device, dtype: a.dtype });
    this.bias_k = a.addBiasKv ? new Parameter(empty([1, 1, embedDim], f)) : null;
    this.bias_v = a.addBiasKv ? new Parameter(empty([1, 1, embedDim], f)) : null;
    this.addZeroAttn = a.addZeroAttn;
    this.resetParameters();
  }
  /** Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v, as Python's _reset_parameters. */
  resetParameters(): void {
    if (this.qkvSameEmbedDim) init.xavierUniform_(this.in_proj_weight!);
    else for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) init.xavierUniform_(w!);
    if (this.in_proj_bias) {
      init.constant_(this.in_proj_bias, 0);
      init.constant_(this.out_proj.bias!, 0);
    }
    if (this.bias_k) init.xavierNormal_(this.bias_k);
    if (this.bias_v) init.xavierNormal_(this.bias_v);
  }
  /** [output, attention weights (averaged over heads unless averageAttnWeights is false) or null]. */
  forward(query: Tensor, key: Tensor, value: Tensor, ...rest: ArgsOf<typeof MHA_FORWARD>): [Tensor, Tensor | null] {
    const a = MHA_FORWARD.bind(rest);
    const batched = query.ndim === 3;
    return scope(() => {
      const keyPaddingMask = F._canonicalMask(a.keyPaddingMask, 'key_padding_mask', a.attnMask?.dtype ?? null, 'attn_mask', query.dtype);
      const attnMask = F._canonicalMask(a.attnMask, 'attn_mask', null, '', query.dtype, false);
      let [q, k, v] = [query, key, value];
      if (this.batchFirst && batched) {
        // the same tensor stays one, so self-attention takes Python's packed projection
        if (key === value) {
          if (query === key) q = k = v = query.transpose(1, 0);
          else {
            q = query.transpose(1, 0);
            k = v = key.transpose(1, 0);
          }
        } else [q, k, v] = [query.transpose(1, 0), key.transpose(1, 0), value.transpose(1, 0)];
      }
      const common = {
        training: this.training,
        keyPaddingMask,
        needWeights: a.needWeights,
        attnMask,
        averageAttnWeights: a.averageAttnWeights,
        isCausal: a.isCausal,
      };
      const [out, weights] = F.multiHeadAttentionForward(
        q,
        k,
        v,
        this.embedDim,
        this.numHeads,
        this.in_proj_weight,
        this.in_proj_bias,
        this.bias_k,
        this.bias_v,
        this.addZeroAttn,
        this.dropout,
        this.out_proj.weight,
        this.out_proj.bias,
        this.qkvSameEmbedDim
          ? common
          : {
              ...common,
              useSeparateProjWeight: true,
              qProjWeight: this.q_proj_weight,
              kProjWeight: this.k_proj_weight,
              vProjWeight: this.v_proj_weight,
            },
      );
      return [this.batchFirst && batched ? out.transpose(1, 0) : out, weights];
    }) as [Tensor, Tensor | null];
  }
}

/** relu, gelu, a function or a module: what a Transformer layer applies between its two linears. */
export type Activation = 'relu' | 'gelu' | ((x: Tensor) => Tensor) | Module;
function activationOf(activation: Activation): ((x: Tensor) => Tensor) | Module {
  if (activation === 'relu') return F.relu;
  if (activation === 'gelu') return F.gelu;
  if (typeof activation === 'string') throw new RangeError(`activation should be relu/gelu, not ${String(activation)}`);
  return activation;
}

export type TransformerLayerFields = {
  dimFeedforward: number;
  dropout: number;
  activation: Activation;
  layerNormEps: number;
  batchFirst: boolean;
  normFirst: boolean;
  bias: boolean;
} & TransformerFactory;
const LAYER_DEFAULTS: TransformerLayerFields = {
  dimFeedforward: 2048,
  dropout: 0.1,
  activation: 'relu',
  layerNormEps: 1e-5,
  batchFirst: false,
  normFirst: false,
  bias: true,
  device: null,
  dtype: null,
};
const LAYER_POSITIONAL = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'bias', 'device', 'dtype'] as const;
const ENCODER_LAYER = signature<TransformerLayerFields>()('TransformerEncoderLayer', LAYER_POSITIONAL, LAYER_DEFAULTS);
const DECODER_LAYER = signature<TransformerLayerFields>()('TransformerDecoderLayer', LAYER_POSITIONAL, LAYER_DEFAULTS);

/** The output of calling an attention module (its hooks run) with query x and key = value = kv. */
function attend(attention: MultiheadAttention, x: Tensor, kv: Tensor, options: Partial<MultiheadAttentionForwardFields>): Tensor {
  return attention(x, kv, kv, options)[0];
}

/** The layers' shared parts: the feed-forward block, its norms and activation, named as Python's. */
abstract class TransformerLayer extends Module {
  declare linear1: Linear;
  declare dropout: Dropout;
  declare linear2: Linear;
  // declared only: assigned last, so that a module activation is the last child, as Python's
  declare readonly activation: ((x: Tensor) => Tensor) | Module;
  readonly normFirst: boolean;
  protected constructor(dModel: number, nhead: number, a: TransformerLayerFields, attentions: string[], norms: number) {
    super();
    for (const name of attentions)
      this.registerModule(
        name,
        new MultiheadAttention(dModel, nhead, { dropout: a.dropout, bias: a.bias, batchFirst: a.batchFirst, ...factoryOf(a) }),
      );
    this.linear1 = new Linear(dModel, a.dimFeedforward, { bias: a.bias, device: a.device, dtype: a.dtype });
    this.dropout = new Dropout(a.dropout);
    this.linear2 = new Linear(a.dimFeedforward, dModel, { bias: a.bias, device: a.device, dtype: a.dtype });
    this.normFirst = a.normFirst;
    for (let i = 1; i <= norms; i++)
      this.registerModule(`norm${i}`, new LayerNorm(dModel, { eps: a.layerNormEps, bias: a.bias, device: a.device, dtype: a.dtype }));
    for (let i = 1; i <= norms; i++) this.registerModule(`dropout${i}`, new Dropout(a.dropout));
    this.activation = activationOf(a.activation);
  }
  protected ffBlock(x: Tensor, drop: Dropout): Tensor {
    const act = this.activation;
    const h = act instanceof Module ? (act as Module<[Tensor], Tensor>)(this.linear1(x)) : act(this.linear1(x));
    return drop(this.linear2(this.dropout(h)));
  }
}

export type EncoderLayerForwardFields = { srcMask: Tensor | null; srcKeyPaddingMask: Tensor | null; isCausal: boolean };
const ENCODER_LAYER_FORWARD = signature<EncoderLayerForwardFields>()(
  'TransformerEncoderLayer.forward',
  ['srcMask', 'srcKeyPaddingMask', 'isCausal'],
  { srcMask: null, srcKeyPaddingMask: null, isCausal: false },
);
/** Self-attention and a feed-forward block, as torch.nn.TransformerEncoderLayer(dModel, nhead, dimFeedforward, dropout, activation, …). */
export class TransformerEncoderLayer extends TransformerLayer {
  declare self_attn: MultiheadAttention;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;
  constructor(dModel: number, nhead: number, ...rest: ArgsOf<typeof ENCODER_LAYER>) {
    super(dModel, nhead, ENCODER_LAYER.bind(rest), ['self_attn'], 2);
  }
  forward(src: Tensor, ...rest: ArgsOf<typeof ENCODER_LAYER_FORWARD>): Tensor {
    const a = ENCODER_LAYER_FORWARD.bind(rest);
    return scope(() => {
      const kpm = F._canonicalMask(a.srcKeyPaddingMask, 'src_key_padding_mask', a.srcMask?.dtype ?? null, 'src_mask', src.dtype);
      const mask = F._canonicalMask(a.srcMask, 'src_mask', null, '', src.dtype, false);
      const sa = (x: Tensor) =>
        this.dropout1(attend(this.self_attn, x, x, { attnMask: mask, keyPaddingMask: kpm, needWeights: false, isCausal: a.isCausal }));
      let x = src;
      if (this.normFirst) {
        x = x.add(sa(this.norm1(x)));
        return x.add(this.ffBlock(this.norm2(x), this.dropout2));
      }
      x = this.norm1(x.add(sa(x)));
      return this.norm2(x.add(this.ffBlock(x, this.dropout2)));
    });
  }
}

export type DecoderLayerForwardFields = {
  tgtMask: Tensor | null;
  memoryMask: Tensor | null;
  tgtKeyPaddingMask: Tensor | null;
  memoryKeyPaddingMask: Tensor | null;
  tgtIsCausal: boolean;
  memoryIsCausal: boolean;
};
const DECODER_FORWARD_POSITIONAL = ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask', 'tgtIsCausal', 'memoryIsCausal'] as const;
const DECODER_LAYER_FORWARD = signature<DecoderLayerForwardFields>()('TransformerDecoderLayer.forward', DECODER_FORWARD_POSITIONAL, {
  tgtMask: null,
  memoryMask: null,
  tgtKeyPaddingMask: null,
  memoryKeyPaddingMask: null,
  tgtIsCausal: false,
  memoryIsCausal: false,
});
/** Self-attention, attention over the encoder's memory, and a feed-forward block, as torch.nn.TransformerDecoderLayer(dModel, nhead, …). */
export class TransformerDecoderLayer extends TransformerLayer {
  declare self_attn: MultiheadAttention;
  declare multihead_attn: MultiheadAttention;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare norm3: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;
  declare dropout3: Dropout;
  constructor(dModel: number, nhead: number, ...rest: ArgsOf<typeof DECODER_LAYER>) {
    super(dModel, nhead, DECODER_LAYER.bind(rest), ['self_attn', 'multihead_attn'], 3);
  }
  forward(tgt: Tensor, memory: Tensor, ...rest: ArgsOf<typeof DECODER_LAYER_FORWARD>): Tensor {
    const a = DECODER_LAYER_FORWARD.bind(rest);
    return scope(() => {
      const sa = (x: Tensor) =>
        this.dropout1(
          attend(this.self_attn, x, x, { attnMask: a.tgtMask, keyPaddingMask: a.tgtKeyPaddingMask, isCausal: a.tgtIsCausal, needWeights: false }),
        );
      const mha = (x: Tensor) =>
        this.dropout2(
          attend(this.multihead_attn, x, memory, {
            attnMask: a.memoryMask,
            keyPaddingMask: a.memoryKeyPaddingMask,
            isCausal: a.memoryIsCausal,
            needWeights: false,
          }),
        );
      let x = tgt;
      if (this.normFirst) {
        x = x.add(sa(this.norm1(x)));
        x = x.add(mha(this.norm2(x)));
        return x.add(this.ffBlock(this.norm3(x), this.dropout3));
      }
      x = this.norm1(x.add(sa(x)));
      x = this.norm2(x.add(mha(x)));
      return this.norm3(x.add(this.ffBlock(x, this.dropout3)));
    });
  }
}

/** The additive causal mask of size × size: 0 on and below the diagonal, −inf above. */
export function generateSquareSubsequentMask(size: number, options: { device?: string; dtype?: Dtype } = {}): Tensor {
  return scope(() => T.triu(full([size, size], -Infinity, options), 1));
}
/** Python's _detect_is_causal_mask: with isCausal unset, whether the mask is exactly the causal one. */
function detectIsCausal(mask: Tensor | null, isCausal: boolean | null, size: number): boolean {
  if (isCausal !== null) return isCausal;
  if (mask === null) return false;
  return scope(() => {
    const causal = generateSquareSubsequentMask(size, { device: mask.device, dtype: mask.dtype });
    return mask.shape.join() === causal.shape.join() && Boolean(mask.eq(causal).all().item());
  });
}
const seqLen = (x: Tensor, batchFirst: boolean) => (x.ndim === 2 ? x.shape[0] : x.shape[batchFirst ? 1 : 0]);

export type EncoderFields = { norm: Module<[Tensor], Tensor> | null; enableNestedTensor: boolean; maskCheck: boolean };
const ENCODER = signature<EncoderFields>()('TransformerEncoder', ['norm', 'enableNestedTensor', 'maskCheck'], {
  norm: null,
  enableNestedTensor: true,
  maskCheck: true,
});
export type EncoderForwardFields = { mask: Tensor | null; srcKeyPaddingMask: Tensor | null; isCausal: boolean | null };
const ENCODER_FORWARD = signature<EncoderForwardFields>()('TransformerEncoder.forward', ['mask', 'srcKeyPaddingMask', 'isCausal'], {
  mask: null,
  srcKeyPaddingMask: null,
  isCausal: null,
});
/** numLayers copies of an encoder layer, then an optional norm, as torch.nn.TransformerEncoder(encoderLayer, numLayers, norm). */
export class TransformerEncoder extends Module {
  declare layers: ModuleList;
  declare norm: Module<[Tensor], Tensor> | null;
  readonly enableNestedTensor: boolean;
  readonly maskCheck: boolean;
  constructor(
    encoderLayer: TransformerEncoderLayer,
    readonly numLayers: number,
    ...rest: ArgsOf<typeof ENCODER>
  ) {
    super();
    const a = ENCODER.bind(rest);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepcopy(encoderLayer)));
    this.norm = a.norm;
    this.enableNestedTensor = a.enableNestedTensor;
    this.maskCheck = a.maskCheck;
  }
  forward(src: Tensor, ...rest: ArgsOf<typeof ENCODER_FORWARD>): Tensor {
    const a = ENCODER_FORWARD.bind(rest);
    return scope(() => {
      const kpm = F._canonicalMask(a.srcKeyPaddingMask, 'src_key_padding_mask', a.mask?.dtype ?? null, 'mask', src.dtype);
      const mask = F._canonicalMask(a.mask, 'mask', null, '', src.dtype, false);
      const first = this.layers.at(0) as TransformerEncoderLayer;
      const isCausal = detectIsCausal(mask, a.isCausal, seqLen(src, first.self_attn.batchFirst));
      let out = src;
      for (const layer of this.layers) out = (layer as TransformerEncoderLayer)(out, { srcMask: mask, isCausal, srcKeyPaddingMask: kpm });
      return this.norm ? this.norm(out) : out;
    });
  }
}

export type DecoderFields = { norm: Module<[Tensor], Tensor> | null };
const DECODER = signature<DecoderFields>()('TransformerDecoder', ['norm'], { norm: null });
export type DecoderForwardFields = Omit<DecoderLayerForwardFields, 'tgtIsCausal'> & { tgtIsCausal: boolean | null };
const DECODER_FORWARD = signature<DecoderForwardFields>()('TransformerDecoder.forward', DECODER_FORWARD_POSITIONAL, {
  tgtMask: null,
  memoryMask: null,
  tgtKeyPaddingMask: null,
  memoryKeyPaddingMask: null,
  tgtIsCausal: null,
  memoryIsCausal: false,
});
/** numLayers copies of a decoder layer, then an optional norm, as torch.nn.TransformerDecoder(decoderLayer, numLayers, norm). */
export class TransformerDecoder extends Module {
  declare layers: ModuleList;
  declare norm: Module<[Tensor], Tensor> | null;
  constructor(
    decoderLayer: TransformerDecoderLayer,
    readonly numLayers: number,
    ...rest: ArgsOf<typeof DECODER>
  ) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepcopy(decoderLayer)));
    this.norm = DECODER.bind(rest).norm;
  }
  forward(tgt: Tensor, memory: Tensor, ...rest: ArgsOf<typeof DECODER_FORWARD>): Tensor {
    const a = DECODER_FORWARD.bind(rest);
    return scope(() => {
      const first = this.layers.at(0) as TransformerDecoderLayer;
      const tgtIsCausal = detectIsCausal(a.tgtMask, a.tgtIsCausal, seqLen(tgt, first.self_attn.batchFirst));
      let out = tgt;
      for (const layer of this.layers) out = (layer as TransformerDecoderLayer)(out, memory, { ...a, tgtIsCausal });
      return this.norm ? this.norm(out) : out;
    });
  }
}

export type TransformerFields = {
  dModel: number;
  nhead: number;
  numEncoderLayers: number;
  numDecoderLayers: number;
  customEncoder: Module | null;
  customDecoder: Module | null;
} & TransformerLayerFields;
const TRANSFORMER = signature<TransformerFields>()(
  'Transformer',
  [
    'dModel',
    'nhead',
    'numEncoderLayers',
    'numDecoderLayers',
    'dimFeedforward',
    'dropout',
    'activation',
    'customEncoder',
    'customDecoder',
    'layerNormEps',
    'batchFirst',
    'normFirst',
    'bias',
    'device',
    'dtype',
  ],
  { ...LAYER_DEFAULTS, dModel: 512, nhead: 8, numEncoderLayers: 6, numDecoderLayers: 6, customEncoder: null, customDecoder: null },
);
export type TransformerForwardFields = {
  srcMask: Tensor | null;
  tgtMask: Tensor | null;
  memoryMask: Tensor | null;
  srcKeyPaddingMask: Tensor | null;
  tgtKeyPaddingMask: Tensor | null;
  memoryKeyPaddingMask: Tensor | null;
  srcIsCausal: boolean | null;
  tgtIsCausal: boolean | null;
  memoryIsCausal: boolean;
};
const TRANSFORMER_FORWARD = signature<TransformerForwardFields>()(
  'Transformer.forward',
  [
    'srcMask',
    'tgtMask',
    'memoryMask',
    'srcKeyPaddingMask',
    'tgtKeyPaddingMask',
    'memoryKeyPaddingMask',
    'srcIsCausal',
    'tgtIsCausal',
    'memoryIsCausal',
  ],
  {
    srcMask: null,
    tgtMask: null,
    memoryMask: null,
    srcKeyPaddingMask: null,
    tgtKeyPaddingMask: null,
    memoryKeyPaddingMask: null,
    srcIsCausal: null,
    tgtIsCausal: null,
    memoryIsCausal: false,
  },
);
/** The encoder-decoder Transformer, as torch.nn.Transformer(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, …). */
export class Transformer extends Module {
  declare encoder: Module;
  declare decoder: Module;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;
  constructor(...rest: ArgsOf<typeof TRANSFORMER>) {
    super();
    const a = TRANSFORMER.bind(rest);
    const norm = () => new LayerNorm(a.dModel, { eps: a.layerNormEps, bias: a.bias, device: a.device, dtype: a.dtype });
    const layer: TransformerLayerFields = {
      dimFeedforward: a.dimFeedforward,
      dropout: a.dropout,
      activation: a.activation,
      layerNormEps: a.layerNormEps,
      batchFirst: a.batchFirst,
      normFirst: a.normFirst,
      bias: a.bias,
      device: a.device,
      dtype: a.dtype,
    };
    this.encoder = a.customEncoder ?? new TransformerEncoder(new TransformerEncoderLayer(a.dModel, a.nhead, layer), a.numEncoderLayers, norm());
    this.decoder = a.customDecoder ?? new TransformerDecoder(new TransformerDecoderLayer(a.dModel, a.nhead, layer), a.numDecoderLayers, norm());
    for (const p of this.parameters()) if (p.ndim > 1) init.xavierUniform_(p);
    this.dModel = a.dModel;
    this.nhead = a.nhead;
    this.batchFirst = a.batchFirst;
  }
  forward(src: Tensor, tgt: Tensor, ...rest: ArgsOf<typeof TRANSFORMER_FORWARD>): Tensor {
    const a = TRANSFORMER_FORWARD.bind(rest);
    const batched = src.ndim === 3;
    if (batched && src.shape[this.batchFirst ? 0 : 1] !== tgt.shape[this.batchFirst ? 0 : 1])
      throw new RangeError('the batch number of src and tgt must be equal');
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel) {
      throw new RangeError('the feature number of src and tgt must be equal to d_model');
    }
    return scope(() => {
      // a custom encoder or decoder (Python's custom_encoder) is called as the built-in one is
      const memory = (this.encoder as TransformerEncoder)(src, { mask: a.srcMask, srcKeyPaddingMask: a.srcKeyPaddingMask, isCausal: a.srcIsCausal });
      return (this.decoder as TransformerDecoder)(tgt, memory, {
        tgtMask: a.tgtMask,
        memoryMask: a.memoryMask,
        tgtKeyPaddingMask: a.tgtKeyPaddingMask,
        memoryKeyPaddingMask: a.memoryKeyPaddingMask,
        tgtIsCausal: a.tgtIsCausal,
        memoryIsCausal: a.memoryIsCausal,
      });
    });
  }
  /** The additive causal mask for a target of `size`, as Transformer.generate_square_subsequent_mask. */
  static generateSquareSubsequentMask(size: number, options: { device?: string; dtype?: Dtype } = {}): Tensor {
    return generateSquareSubsequentMask(size, options);
  }
}
