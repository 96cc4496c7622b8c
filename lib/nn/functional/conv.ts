/**
 * Convolutions in 1-3 dims, their transposes, and unfold/fold (im2col/col2im), as torch.nn.functional
 * has them: Python's positional order, or any argument by name. conv2d is in ./index (its own native path).
 */
import type { Tensor } from '../../core/tensor';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';
import { ntuple, tensorArg, type Size } from './args';

export type ConvFields = { bias: Tensor | null; stride: Size; padding: Size | 'same' | 'valid'; dilation: Size; groups: number };
const convSig = (who: string) =>
  signature<ConvFields>()(who, ['bias', 'stride', 'padding', 'dilation', 'groups'], { bias: null, stride: 1, padding: 0, dilation: 1, groups: 1 });
const CONV1D = convSig('F.conv1d');
const CONV3D = convSig('F.conv3d');

/** F.conv1d(input, weight, bias, stride, padding, dilation, groups). */
export function conv1d(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof CONV1D>): Tensor {
  const a = CONV1D.bind(rest);
  return T.conv1d(tensorArg(input), tensorArg(weight, 'weight'), a.bias, a.stride, a.padding as never, a.dilation, a.groups);
}
/** F.conv3d(input, weight, bias, stride, padding, dilation, groups). */
export function conv3d(input: Tensor, weight: Tensor, ...rest: ArgsOf<typeof CONV3D>): Tensor {
  const a = CONV3D.bind(rest);
  return T.conv3d(tensorArg(input), tensorArg(weight, 'weight'), a.bias, a.stride, a.padding as never, a.dilation, a.groups);
}

export type ConvTFields = { bias: Tensor | null; stride: Size; padding: Size; outputPadding: Size; groups: number; dilation: Size };
const convTSig = (who: string) =>
  signature<ConvTFields>()(who, ['bias', 'stride', 'padding', 'outputPadding', 'groups', 'dilation'], {
    bias: null,
    stride: 1,
    padding: 0,
    outputPadding: 0,
    groups: 1,
    dilation: 1,
  });
const CONVT = [convTSig('F.convTranspose1d'), convTSig('F.convTranspose2d'), convTSig('F.convTranspose3d')];
const CONVT_OPS = [T.convTranspose1d, T.convTranspose2d, T.convTranspose3d] as const;
function convTranspose(dims: 1 | 2 | 3, input: Tensor, weight: Tensor, rest: readonly unknown[]): Tensor {
  const a = CONVT[dims - 1].bind(rest);
  return (CONVT_OPS[dims - 1] as (...args: unknown[]) => Tensor)(
    tensorArg(input),
    tensorArg(weight, 'weight'),
    a.bias,
    a.stride,
    a.padding,
    a.outputPadding,
    a.groups,
    a.dilation,
  );
}
/** F.conv_transpose1d(input, weight, bias, stride, padding, outputPadding, groups, dilation). */
export const convTranspose1d = (input: Tensor, weight: Tensor, ...rest: ArgsOf<(typeof CONVT)[0]>): Tensor => convTranspose(1, input, weight, rest);
/** F.conv_transpose2d(input, weight, bias, stride, padding, outputPadding, groups, dilation). */
export const convTranspose2d = (input: Tensor, weight: Tensor, ...rest: ArgsOf<(typeof CONVT)[0]>): Tensor => convTranspose(2, input, weight, rest);
/** F.conv_transpose3d(input, weight, bias, stride, padding, outputPadding, groups, dilation). */
export const convTranspose3d = (input: Tensor, weight: Tensor, ...rest: ArgsOf<(typeof CONVT)[0]>): Tensor => convTranspose(3, input, weight, rest);

export type FoldFields = { dilation: Size; padding: Size; stride: Size };
const UNFOLD = signature<FoldFields>()('F.unfold', ['dilation', 'padding', 'stride'], { dilation: 1, padding: 0, stride: 1 });
const FOLD = signature<FoldFields>()('F.fold', ['dilation', 'padding', 'stride'], { dilation: 1, padding: 0, stride: 1 });
/** Sliding local blocks of a (N, C, H, W) input as columns (im2col). */
export function unfold(input: Tensor, kernelSize: Size, ...rest: ArgsOf<typeof UNFOLD>): Tensor {
  const a = UNFOLD.bind(rest);
  return NN.im2col(
    tensorArg(input),
    ntuple(2, kernelSize, 'kernelSize'),
    ntuple(2, a.dilation, 'dilation'),
    ntuple(2, a.padding, 'padding'),
    ntuple(2, a.stride, 'stride'),
  );
}
/** Columns of sliding blocks summed back into an image of outputSize (col2im). */
export function fold(input: Tensor, outputSize: Size, kernelSize: Size, ...rest: ArgsOf<typeof FOLD>): Tensor {
  const a = FOLD.bind(rest);
  return NN.col2im(
    tensorArg(input),
    ntuple(2, outputSize, 'outputSize'),
    ntuple(2, kernelSize, 'kernelSize'),
    ntuple(2, a.dilation, 'dilation'),
    ntuple(2, a.padding, 'padding'),
    ntuple(2, a.stride, 'stride'),
  );
}

/** A 1-D convolution over (time, batch, channels) input, as F.conv_tbc(input, weight, bias, pad). */
export const convTbc = (input: Tensor, weight: Tensor, bias: Tensor, pad = 0): Tensor =>
  T.convTbc(tensorArg(input), tensorArg(weight, 'weight'), tensorArg(bias, 'bias'), pad);
