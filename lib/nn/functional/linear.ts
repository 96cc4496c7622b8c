/** F.linear, F.conv2d and F.batch_norm: the functions with their own native paths (hot in every CNN). */
import { native } from '../../core/native';
import { Tensor, handleOf, wrap } from '../../core/tensor';
import { signature, type ArgsOf } from '../../core/signature';
import { optHandle, pair, tensorArg, type Size2 } from './args';

const LINEAR = signature<{ bias: Tensor | null }>()('F.linear', ['bias'], { bias: null });
/** F.linear(input, weight, bias): y = x Wᵀ + b. */
export function linear(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof LINEAR>): Tensor {
  return wrap(native.linear(handleOf(input, 'input'), handleOf(weight, 'weight'), optHandle(LINEAR.bind(rest).bias, 'bias')));
}

export type Conv2dFields = { bias: Tensor | null; stride: Size2; padding: Size2 | 'same' | 'valid'; dilation: Size2; groups: number };
const CONV2D = signature<Conv2dFields>()('F.conv2d', ['bias', 'stride', 'padding', 'dilation', 'groups'], {
  bias: null,
  stride: 1,
  padding: 0,
  dilation: 1,
  groups: 1,
});
export type Conv2dOptions = Partial<Conv2dFields>;
/** F.conv2d(input, weight, bias, stride, padding, dilation, groups): Python's order, or any of them by name. */
export function conv2d(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof CONV2D>): Tensor {
  const a = CONV2D.bind(rest);
  const padding = a.padding === 'same' || a.padding === 'valid' ? a.padding : pair(a.padding, 'padding');
  if (!Number.isInteger(a.groups)) throw new TypeError(`groups must be an integer (got ${String(a.groups)})`);
  return wrap(
    native.conv2d(
      handleOf(input, 'input'),
      handleOf(weight, 'weight'),
      optHandle(a.bias, 'bias'),
      pair(a.stride, 'stride'),
      padding,
      pair(a.dilation, 'dilation'),
      a.groups,
    ),
  );
}

export type BatchNormFields = { weight: Tensor | null; bias: Tensor | null; training: boolean; momentum: number; eps: number };
const BATCH_NORM = signature<BatchNormFields>()('F.batchNorm', ['weight', 'bias', 'training', 'momentum', 'eps'], {
  weight: null,
  bias: null,
  training: false,
  momentum: 0.1,
  eps: 1e-5,
});
export type BatchNormOptions = Partial<BatchNormFields>;
/** F.batch_norm(input, runningMean, runningVar, weight, bias, training, momentum, eps): in training, running stats (when given) are updated in place. */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, ...rest: ArgsOf<typeof BATCH_NORM>): Tensor {
  const a = BATCH_NORM.bind(rest);
  if (a.training) {
    // Python's F.batch_norm check (LibTorch has none): one value per channel makes the variance NaN.
    const size = tensorArg(input).shape;
    if (size[0] * size.slice(2).reduce((x, y) => x * y, 1) === 1) {
      throw new RangeError(`Expected more than 1 value per channel when training, got input size [${size.join(', ')}]`);
    }
  }
  return wrap(
    native.batchNorm(
      handleOf(input, 'input'),
      runningMean === null ? undefined : handleOf(runningMean, 'runningMean'),
      runningVar === null ? undefined : handleOf(runningVar, 'runningVar'),
      optHandle(a.weight, 'weight'),
      optHandle(a.bias, 'bias'),
      a.training,
      a.momentum,
      a.eps,
    ),
  );
}
