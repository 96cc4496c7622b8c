/**
 * Attention, as torch.nn.functional has it: scaled_dot_product_attention (ATen's), and
 * multi_head_attention_forward written as Python writes it (the path MultiheadAttention takes whenever it
 * trains or needs gradients), so outputs and attention weights are Python's.
 */
import { Tensor } from '../../core/tensor';
import { warnOnce } from '../../core/errors';
import { scope } from '../../core/scope';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { tensorArg } from './args';
import { linear } from './linear';
import { dropout } from './dropout';
import { pad } from './misc';

export type SdpaFields = { attnMask: Tensor | null; dropoutP: number; isCausal: boolean; scale: number | null; enableGqa: boolean };
const SDPA = signature<SdpaFields>()('F.scaledDotProductAttention', ['attnMask', 'dropoutP', 'isCausal'], {
  attnMask: null,
  dropoutP: 0,
  isCausal: false,
  scale: null,
  enableGqa: false,
});
/** softmax(QKᵀ·scale + mask)·V, with ATen's fused kernels where they apply. */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, ...rest: ArgsOf<typeof SDPA>): Tensor {
  const a = SDPA.bind(rest);
  return NN.scaledDotProductAttention(
    tensorArg(query, 'query'),
    tensorArg(key, 'key'),
    tensorArg(value, 'value'),
    a.attnMask,
    a.dropoutP,
    a.isCausal,
    { scale: a.scale, enableGqa: a.enableGqa },
  );
}

/** Python's _canonical_mask: a bool mask becomes an additive float one (−inf where true). */
/** @internal */
export function _canonicalMask(
  mask: Tensor | null,
  name: string,
  otherType: string | null,
  otherName: string,
  targetType: Tensor['dtype'],
  checkOther = true,
): Tensor | null {
  if (mask === null) return null;
  const isFloat = mask.isFloatingPoint();
  if (mask.dtype !== 'bool' && !isFloat) throw new RangeError(`only bool and floating types of ${name} are supported`);
  if (checkOther && otherType !== null && mask.dtype !== otherType) {
    warnOnce(`mask.${name}.${otherName}`, `Support for mismatched ${name} and ${otherName} is deprecated. Use same type for both instead.`);
  }
  if (isFloat) return mask;
  return T.zerosLike(mask, { dtype: targetType }).maskedFill_(mask, -Infinity);
}

export type MhaFields = {
  training: boolean;
  keyPaddingMask: Tensor | null;
  needWeights: boolean;
  attnMask: Tensor | null;
  useSeparateProjWeight: boolean;
  qProjWeight: Tensor | null;
  kProjWeight: Tensor | null;
  vProjWeight: Tensor | null;
  staticK: Tensor | null;
  staticV: Tensor | null;
  averageAttnWeights: boolean;
  isCausal: boolean;
};
const MHA = signature<MhaFields>()(
  'F.multiHeadAttentionForward',
  [
    'training',
    'keyPaddingMask',
    'needWeights',
    'attnMask',
    'useSeparateProjWeight',
    'qProjWeight',
    'kProjWeight',
    'vProjWeight',
    'staticK',
    'staticV',
    'averageAttnWeights',
    'isCausal',
  ],
  {
    training: true,
    keyPaddingMask: null,
    needWeights: true,
    attnMask: null,
    useSeparateProjWeight: false,
    qProjWeight: null,
    kProjWeight: null,
    vProjWeight: null,
    staticK: null,
    staticV: null,
    averageAttnWeights: true,
    isCausal: false,
  },
);

const shapeOf = (t: Tensor) => `torch.Size([${t.shape.join(', ')}])`;

/** Python's _mha_shape_check: whether the input is batched, and the masks' ranks for it. */
function batchedInput(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor | null, attnMask: Tensor | null, numHeads: number): boolean {
  const [q, k, v] = [query.ndim, key.ndim, value.ndim];
  if (q !== 3 && q !== 2) throw new RangeError(`query should be unbatched 2D or batched 3D tensor but received ${q}-D query tensor`);
  const batched = q === 3;
  const kind = batched ? 'batched (3-D)' : 'unbatched (2-D)';
  if (k !== q || v !== q) {
    throw new RangeError(`For ${kind} \`query\`, expected \`key\` and \`value\` to be ${q}-D but found ${k}-D and ${v}-D tensors respectively`);
  }
  if (keyPaddingMask && keyPaddingMask.ndim !== q - 1) {
    throw new RangeError(
      `For ${kind} \`query\`, expected \`key_padding_mask\` to be \`None\` or ${q - 1}-D but found ${keyPaddingMask.ndim}-D tensor instead`,
    );
  }
  if (attnMask) {
    if (attnMask.ndim !== 2 && attnMask.ndim !== 3) {
      throw new RangeError(`For ${kind} \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${attnMask.ndim}-D tensor instead`);
    }
    if (!batched && attnMask.ndim === 3) {
      const want = [numHeads, query.shape[0], key.shape[0]];
      if (attnMask.shape.join() !== want.join())
        throw new RangeError(`Expected \`attn_mask\` shape to be (${want.join(', ')}) but got ${shapeOf(attnMask)}`);
    }
  }
  return batched;
}

/** Python's _in_projection_packed: q, k, v from one packed weight (one matmul for self-attention). */
function inProjectionPacked(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | null): Tensor[] {
  const e = q.shape[q.ndim - 1];
  if (k === v) {
    if (q === k) {
      const proj = linear(q, w, b).unflatten(-1, [3, e]).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous();
      return [proj.select(0, 0), proj.select(0, 1), proj.select(0, 2)];
    }
    const [wq, wkv] = w.split([e, e * 2]);
    const [bq, bkv] = b === null ? [null, null] : b.split([e, e * 2]);
    const kv = linear(k, wkv, bkv).unflatten(-1, [2, e]).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous();
    return [linear(q, wq, bq), kv.select(0, 0), kv.select(0, 1)];
  }
  const ws = w.chunk(3);
  const bs = b === null ? [null, null, null] : b.chunk(3);
  return [linear(q, ws[0], bs[0]), linear(k, ws[1], bs[1]), linear(v, ws[2], bs[2])];
}

/**
 * F.multi_head_attention_forward(query, key, value, embedDimToCheck, numHeads, inProjWeight, inProjBias, biasK, biasV, addZeroAttn,
 * dropoutP, outProjWeight, outProjBias, …): inputs (L, N, E) or unbatched (L, E); returns [output, average (or per-head) weights or null].
 */
export function multiHeadAttentionForward(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  embedDimToCheck: number,
  numHeads: number,
  inProjWeight: Tensor | null,
  inProjBias: Tensor | null,
  biasK: Tensor | null,
  biasV: Tensor | null,
  addZeroAttn: boolean,
  dropoutP: number,
  outProjWeight: Tensor,
  outProjBias: Tensor | null,
  ...rest: ArgsOf<typeof MHA>
): [Tensor, Tensor | null] {
  const a = MHA.bind(rest);
  tensorArg(query, 'query');
  tensorArg(key, 'key');
  tensorArg(value, 'value');
  const batched = batchedInput(query, key, value, a.keyPaddingMask, a.attnMask, numHeads);
  return scope(() => {
    let [q0, k0, v0] = [query, key, value];
    let keyPaddingMask = a.keyPaddingMask;
    if (!batched) {
      // as Python: three new tensors, so the projection below is the chunked one even for self-attention
      q0 = query.unsqueeze(1);
      k0 = key.unsqueeze(1);
      v0 = value.unsqueeze(1);
      keyPaddingMask = keyPaddingMask?.unsqueeze(0) ?? null;
    }
    const [tgtLen, bsz, embedDim] = q0.shape;
    keyPaddingMask = _canonicalMask(keyPaddingMask, 'key_padding_mask', a.attnMask?.dtype ?? null, 'attn_mask', q0.dtype);
    let isCausal = a.isCausal;
    let attnMask: Tensor | null;
    if (isCausal && a.attnMask === null) {
      throw new RangeError(
        'Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` ' +
          'to create this mask.',
      );
    }
    if (isCausal && keyPaddingMask === null && !a.needWeights) attnMask = null;
    else {
      attnMask = _canonicalMask(a.attnMask, 'attn_mask', null, '', q0.dtype, false);
      if (keyPaddingMask !== null) isCausal = false;
    }
    if (embedDim !== embedDimToCheck) throw new RangeError(`was expecting embedding dimension of ${embedDimToCheck}, but got ${embedDim}`);
    const headDim = Math.floor(embedDim / numHeads);
    if (headDim * numHeads !== embedDim) throw new RangeError(`embed_dim ${embedDim} not divisible by num_heads ${numHeads}`);
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    if (!a.useSeparateProjWeight) {
      if (k0.shape.join() !== v0.shape.join()) throw new RangeError(`key shape ${shapeOf(k0)} does not match value shape ${shapeOf(v0)}`);
      if (inProjWeight === null) throw new RangeError('use_separate_proj_weight is False but in_proj_weight is None');
      [q, k, v] = inProjectionPacked(q0, k0, v0, inProjWeight, inProjBias);
    } else {
      if (k0.shape.slice(0, 2).join() !== v0.shape.slice(0, 2).join()) throw new RangeError("key's sequence and batch dims do not match value's");
      if (!a.qProjWeight || !a.kProjWeight || !a.vProjWeight)
        throw new RangeError('use_separate_proj_weight is True but q_proj_weight, k_proj_weight or v_proj_weight is None');
      const bs = inProjBias === null ? [null, null, null] : inProjBias.chunk(3);
      [q, k, v] = [linear(q0, a.qProjWeight, bs[0]), linear(k0, a.kProjWeight, bs[1]), linear(v0, a.vProjWeight, bs[2])];
    }
    let srcLen = k0.shape[0];
    if (attnMask !== null) {
      if (attnMask.ndim === 2) {
        if (attnMask.shape.join() !== [tgtLen, srcLen].join()) {
          throw new RangeError(`The shape of the 2D attn_mask is ${shapeOf(attnMask)}, but should be (${tgtLen}, ${srcLen}).`);
        }
        attnMask = attnMask.unsqueeze(0);
      } else if (attnMask.ndim === 3) {
        if (attnMask.shape.join() !== [bsz * numHeads, tgtLen, srcLen].join()) {
          throw new RangeError(`The shape of the 3D attn_mask is ${shapeOf(attnMask)}, but should be (${bsz * numHeads}, ${tgtLen}, ${srcLen}).`);
        }
      } else throw new RangeError(`attn_mask's dimension ${attnMask.ndim} is not supported`);
    }
    if (biasK !== null && biasV !== null) {
      if (a.staticK !== null) throw new RangeError('bias cannot be added to static key.');
      if (a.staticV !== null) throw new RangeError('bias cannot be added to static value.');
      k = T.cat([k, biasK.repeat(1, bsz, 1)]);
      v = T.cat([v, biasV.repeat(1, bsz, 1)]);
      if (attnMask !== null) attnMask = pad(attnMask, [0, 1]);
      if (keyPaddingMask !== null) keyPaddingMask = pad(keyPaddingMask, [0, 1]);
    } else if (biasK !== null || biasV !== null)
      throw new RangeError(biasK !== null ? 'bias_k is set but bias_v is None' : 'bias_v is set but bias_k is None');
    q = q.view(tgtLen, bsz * numHeads, headDim).transpose(0, 1);
    k = a.staticK ?? k.view(k.shape[0], bsz * numHeads, headDim).transpose(0, 1);
    v = a.staticV ?? v.view(v.shape[0], bsz * numHeads, headDim).transpose(0, 1);
    if (addZeroAttn) {
      const shape = [bsz * numHeads, 1, headDim];
      k = T.cat([k, T.zeros(shape, { dtype: k.dtype, device: k.device })], 1);
      v = T.cat([v, T.zeros(shape, { dtype: v.dtype, device: v.device })], 1);
      if (attnMask !== null) attnMask = pad(attnMask, [0, 1]);
      if (keyPaddingMask !== null) keyPaddingMask = pad(keyPaddingMask, [0, 1]);
    }
    srcLen = k.shape[1];
    if (keyPaddingMask !== null) {
      if (keyPaddingMask.shape.join() !== [bsz, srcLen].join()) {
        throw new RangeError(`expecting key_padding_mask shape of (${bsz}, ${srcLen}), but got ${shapeOf(keyPaddingMask)}`);
      }
      const kpm = keyPaddingMask
        .view(bsz, 1, 1, srcLen)
        .expand(-1, numHeads, -1, -1)
        .reshape(bsz * numHeads, 1, srcLen);
      attnMask = attnMask === null ? kpm : attnMask.add(kpm);
    }
    const p = a.training ? dropoutP : 0.0;
    if (a.needWeights) {
      const e = q.shape[2];
      const qScaled = q.mul(Math.sqrt(1.0 / e));
      if (isCausal && attnMask === null) throw new RangeError('FIXME: is_causal not implemented for need_weights');
      let weights = attnMask !== null ? T.baddbmm(attnMask, qScaled, k.transpose(-2, -1)) : T.bmm(qScaled, k.transpose(-2, -1));
      weights = weights.softmax(-1);
      if (p > 0.0) weights = dropout(weights, p);
      let out = T.bmm(weights, v)
        .transpose(0, 1)
        .reshape(tgtLen * bsz, embedDim);
      out = linear(out, outProjWeight, outProjBias);
      out = out.view(tgtLen, bsz, out.shape[1]);
      weights = weights.view(bsz, numHeads, tgtLen, srcLen);
      if (a.averageAttnWeights) weights = weights.mean(1);
      if (!batched) return [out.squeeze(1), weights.squeeze(0)];
      return [out, weights];
    }
    if (attnMask !== null)
      attnMask = attnMask.shape[0] === 1 && attnMask.ndim === 3 ? attnMask.unsqueeze(0) : attnMask.view(bsz, numHeads, -1, srcLen);
    const qh = q.view(bsz, numHeads, tgtLen, headDim);
    const kh = k.view(bsz, numHeads, srcLen, headDim);
    const vh = v.view(bsz, numHeads, srcLen, headDim);
    let out = scaledDotProductAttention(qh, kh, vh, attnMask, p, isCausal)
      .permute(2, 0, 1, 3)
      .reshape(bsz * tgtLen, embedDim);
    out = linear(out, outProjWeight, outProjBias).view(tgtLen, bsz, outProjWeight.shape[0]);
    return [batched ? out : out.squeeze(1), null];
  }) as [Tensor, Tensor | null];
}
