/**
 * torch.nn.utils' fusion: a conv or linear layer with the eval-mode batch norm after it folded into its
 * weight and bias, as Python's fuse_conv_bn_eval / fuse_linear_bn_eval (and their _weights forms).
 */
import { Tensor } from '../core/tensor';
import { scope } from '../core/scope';
import { noGrad } from '../core/autograd';
import { onesLike, zerosLike } from '../generated/torch';
import { Parameter, deepcopy } from './module';
import type { ConvNd } from './layers/conv';
import type { Linear } from './layers/linear';
import type { BatchNormNd } from './layers/normalization';

/** The fused [weight, bias] of a conv and a batch norm's statistics and affine parameters. */
export function fuseConvBnWeights(
  convW: Tensor,
  convB: Tensor | null,
  bnRm: Tensor,
  bnRv: Tensor,
  bnEps: number,
  bnW: Tensor | null,
  bnB: Tensor | null,
  transpose = false,
): [Parameter, Parameter] {
  const [wDtype, bDtype] = [convW.dtype, convB?.dtype ?? convW.dtype];
  const bRequires = convB?.requiresGrad ?? false;
  const [w, b] = scope(() => {
    const cb = convB ?? zerosLike(bnRm);
    const bw = bnW ?? onesLike(bnRm);
    const bb = bnB ?? zerosLike(bnRm);
    const rsqrt = bnRv.add(bnEps).rsqrt();
    const shape = transpose ? [1, -1, ...new Array<number>(convW.ndim - 2).fill(1)] : [-1, 1, ...new Array<number>(convW.ndim - 2).fill(1)];
    return [convW.mul(bw.mul(rsqrt).reshape(shape)).to({ dtype: wDtype }), cb.sub(bnRm).mul(rsqrt).mul(bw).add(bb).to({ dtype: bDtype })];
  });
  return [new Parameter(w, convW.requiresGrad), new Parameter(b, bRequires)];
}

/** A copy of an eval-mode conv with the eval-mode batch norm after it folded in (transpose: a ConvTranspose). */
export function fuseConvBnEval<C extends ConvNd>(conv: C, bn: BatchNormNd, transpose = false): C {
  if (conv.training || bn.training) throw new RangeError('Fusion only for eval!');
  if (bn.running_mean === null || bn.running_var === null) throw new RangeError('bn.running_mean and bn.running_var must not be None');
  const fused = deepcopy(conv);
  const [w, b] = [fused.weight, fused.bias];
  noGrad(() => {
    [fused.weight, fused.bias] = fuseConvBnWeights(w, b, bn.running_mean!, bn.running_var!, bn.eps, bn.weight, bn.bias, transpose);
  });
  w.dispose();
  b?.dispose();
  return fused;
}

/** The fused [weight, bias] of a linear layer and a batch norm's statistics and affine parameters. */
export function fuseLinearBnWeights(
  linearW: Tensor,
  linearB: Tensor | null,
  bnRm: Tensor,
  bnRv: Tensor,
  bnEps: number,
  bnW: Tensor,
  bnB: Tensor,
): [Parameter, Parameter] {
  const [wDtype, bDtype] = [linearW.dtype, linearB?.dtype ?? linearW.dtype];
  const bRequires = linearB?.requiresGrad ?? false;
  const [w, b] = scope(() => {
    const lb = linearB ?? zerosLike(bnRm);
    const scale = bnW.mul(bnRv.add(bnEps).rsqrt());
    return [linearW.mul(scale.unsqueeze(-1).to({ dtype: wDtype })), lb.sub(bnRm).mul(scale).add(bnB).to({ dtype: bDtype })];
  });
  return [new Parameter(w, linearW.requiresGrad), new Parameter(b, bRequires)];
}

/** A copy of an eval-mode linear layer with the eval-mode batch norm after it folded in. */
export function fuseLinearBnEval<L extends Linear>(linear: L, bn: BatchNormNd): L {
  if (linear.training || bn.training) throw new RangeError('Fusion only for eval!');
  if (linear.outFeatures !== bn.numFeatures && bn.numFeatures !== 1) {
    throw new RangeError(
      'To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got linear.out_features=' +
        `${linear.outFeatures} and bn.num_features=${bn.numFeatures}`,
    );
  }
  if (bn.running_mean === null || bn.running_var === null) throw new RangeError('bn.running_mean and bn.running_var must not be None');
  const fused = deepcopy(linear);
  const [w, b] = [fused.weight, fused.bias];
  noGrad(() => {
    [fused.weight, fused.bias] = fuseLinearBnWeights(w, b, bn.running_mean!, bn.running_var!, bn.eps, bn.weight!, bn.bias!);
  });
  w.dispose();
  b?.dispose();
  return fused;
}
