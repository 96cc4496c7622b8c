/** Dropout in its forms (element, channel-wise in 1-3 dims, alpha), as torch.nn.functional has them. */
import { native } from '../../core/native';
import { Tensor, handleOf, wrap } from '../../core/tensor';
import { warnOnce } from '../../core/errors';
import { torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { tensorArg } from './args';

export type DropoutFields = { p: number; training: boolean; inplace: boolean };
const sig = (who: string, training: boolean) => signature<DropoutFields>()(who, ['p', 'training', 'inplace'], { p: 0.5, training, inplace: false });
const DROPOUT = sig('F.dropout', true);
type DropoutArgs = ArgsOf<typeof DROPOUT>;

function bindP(s: typeof DROPOUT, rest: readonly unknown[]): DropoutFields {
  const a = s.bind(rest);
  if (typeof a.p !== 'number' || !(a.p >= 0 && a.p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${a.p}`);
  return a;
}

/** Zeroes elements with probability p in training (the rest scaled by 1/(1−p)). */
export function dropout(input: Tensor, ...rest: DropoutArgs): Tensor {
  const a = bindP(DROPOUT, rest);
  const h = native.dropout(handleOf(input, 'input'), a.p, a.training, a.inplace);
  return a.inplace ? input : wrap(h);
}

const CHANNEL = [sig('F.dropout1d', true), sig('F.dropout2d', true), sig('F.dropout3d', true)];
/** Zeroes whole channels: dims is the number of spatial dims; an input without a batch dim gets one for the call. */
function channelDropout(dims: 1 | 2 | 3, input: Tensor, rest: readonly unknown[]): Tensor {
  const a = bindP(CHANNEL[dims - 1], rest);
  const ndim = tensorArg(input).ndim;
  const who = `dropout${dims}d`;
  if (dims === 1 && ndim !== 2 && ndim !== 3) {
    throw new RangeError(
      `dropout1d: Expected 2D or 3D input, but received a ${ndim}D input. Note that dropout1d exists to provide channel-wise ` +
        'dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).',
    );
  }
  if (dims > 1 && ndim !== dims + 1 && ndim !== dims + 2) {
    warnOnce(
      `F.${who}.ndim`,
      `${who}: Received a ${ndim}-D input to ${who}, which is deprecated and will result in an error in a future release. ` +
        `To retain the behavior and silence this warning, please use dropout instead.`,
    );
  }
  if (dims === 2 && ndim === 3) {
    warnOnce(
      'F.dropout2d.3d',
      'dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - ' +
        'input is interpreted as shape (N, C, L), where C is the channel dim.',
    );
  }
  const batched = dims === 2 || ndim === dims + 2;
  if (a.inplace) {
    if (!batched) input.unsqueeze_(0);
    T.featureDropout_(input, a.p, a.training);
    if (!batched) input.squeeze_(0);
    return input;
  }
  if (batched) return T.featureDropout(input, a.p, a.training);
  const x = input.unsqueeze(0);
  try {
    return T.featureDropout(x, a.p, a.training).squeeze_(0);
  } finally {
    x.dispose();
  }
}
/** Zeroes whole channels of (N, C, L) or (C, L). */
export const dropout1d = (input: Tensor, ...rest: DropoutArgs): Tensor => channelDropout(1, input, rest);
/** Zeroes whole channels of (N, C, H, W). */
export const dropout2d = (input: Tensor, ...rest: DropoutArgs): Tensor => channelDropout(2, input, rest);
/** Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W). */
export const dropout3d = (input: Tensor, ...rest: DropoutArgs): Tensor => channelDropout(3, input, rest);

const ALPHA = sig('F.alphaDropout', false);
const FEATURE_ALPHA = sig('F.featureAlphaDropout', false);
/** Dropout that keeps a SELU network's mean and variance (training defaults to false, as Python's). */
export function alphaDropout(input: Tensor, ...rest: DropoutArgs): Tensor {
  const a = bindP(ALPHA, rest);
  return a.inplace ? T.alphaDropout_(tensorArg(input), a.p, a.training) : T.alphaDropout(tensorArg(input), a.p, a.training);
}
/** Alpha dropout of whole channels. */
export function featureAlphaDropout(input: Tensor, ...rest: DropoutArgs): Tensor {
  const a = bindP(FEATURE_ALPHA, rest);
  return a.inplace ? T.featureAlphaDropout_(tensorArg(input), a.p, a.training) : T.featureAlphaDropout(tensorArg(input), a.p, a.training);
}
