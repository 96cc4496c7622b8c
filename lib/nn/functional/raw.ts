/**
 * The path a module's forward takes to the native op. A module checks and normalises its configuration
 * once, at construction, into PyTorch-named fields (as PyTorch's _ConvNd keeps `_pair`ed tuples), so its
 * forward passes them straight on: only the per-call input is checked here (it must be a Tensor).
 * Not part of torch.nn.functional, whose functions check every argument on every call.
 */
import { native } from '../../core/native';
import { type Tensor, handleOf, wrap } from '../../core/tensor';

/** y = x Wᵀ + b (Linear). */
export function linearOp(input: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  return wrap(native.linear(handleOf(input, 'input'), weight.handle, bias?.handle));
}

/** conv2d with a module's stored stride, padding, dilation and groups (Conv2d). */
export function conv2dOp(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  stride: number[],
  padding: number[] | 'same' | 'valid',
  dilation: number[],
  groups: number,
): Tensor {
  return wrap(native.conv2d(handleOf(input, 'input'), weight.handle, bias?.handle, stride, padding, dilation, groups));
}

/** batch_norm with a module's buffers and settings (BatchNormNd, after its per-input checks). */
export function batchNormOp(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  return wrap(native.batchNorm(input.handle, runningMean?.handle, runningVar?.handle, weight?.handle, bias?.handle, training, momentum, eps));
}
