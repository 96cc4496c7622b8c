/**
 * torch.nn.init: LibTorch's torch::nn::init, so fans, gains and random draws are PyTorch's. Each fills
 * the tensor in place without recording gradients and returns it.
 */
import { native } from '../native';
import { describe } from '../dtype';
import { Tensor, handleOf, numberArg } from '../tensor';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' |
  'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';
export type FanMode = 'fan_in' | 'fan_out';
export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function tensorArg(t: unknown): Tensor {
  handleOf(t, 'tensor');
  return t as Tensor;
}

function stringArg(v: unknown, name: string): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`${name} must be a string (got ${describe(v)})`);
}

function kaimingArgs(o: KaimingOptions): [number, string, string] {
  if (o === null || typeof o !== 'object') throw new TypeError(`options must be an object (got ${describe(o)})`);
  return [numberArg(o.a ?? 0, 'a'), stringArg(o.mode ?? 'fan_in', 'mode'), stringArg(o.nonlinearity ?? 'leaky_relu', 'nonlinearity')];
}

// As Python's init: a tensor with a zero-size dim is left as it is, with a warning (LibTorch's C++
// init has no such guard and would divide by a zero fan).
function zeroElement(tensor: Tensor): boolean {
  if (!tensorArg(tensor).shape.includes(0)) return false;
  process.emitWarning('Initializing zero-element tensors is a no-op', 'UserWarning');
  return true;
}

export function kaimingUniform_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  if (!zeroElement(tensor)) native.initKaimingUniform_(tensor.handle, ...kaimingArgs(opts));
  return tensor;
}
export function kaimingNormal_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  if (!zeroElement(tensor)) native.initKaimingNormal_(tensor.handle, ...kaimingArgs(opts));
  return tensor;
}
export function xavierUniform_(tensor: Tensor, opts: { gain?: number } = {}): Tensor {
  native.initXavierUniform_(tensorArg(tensor).handle, numberArg(opts.gain ?? 1, 'gain'));
  return tensor;
}
export function xavierNormal_(tensor: Tensor, opts: { gain?: number } = {}): Tensor {
  native.initXavierNormal_(tensorArg(tensor).handle, numberArg(opts.gain ?? 1, 'gain'));
  return tensor;
}
export function uniform_(tensor: Tensor, a = 0, b = 1): Tensor {
  native.initUniform_(tensorArg(tensor).handle, numberArg(a, 'a'), numberArg(b, 'b'));
  return tensor;
}
export function normal_(tensor: Tensor, mean = 0, std = 1): Tensor {
  native.initNormal_(tensorArg(tensor).handle, numberArg(mean, 'mean'), numberArg(std, 'std'));
  return tensor;
}
export function constant_(tensor: Tensor, value: number): Tensor {
  native.initConstant_(tensorArg(tensor).handle, numberArg(value, 'value'));
  return tensor;
}
export const zeros_ = (tensor: Tensor): Tensor => constant_(tensor, 0);
export const ones_ = (tensor: Tensor): Tensor => constant_(tensor, 1);

/** The recommended gain for a nonlinearity (param: leaky_relu's negative slope). */
export function calculateGain(nonlinearity: Nonlinearity | 'selu', param?: number): number {
  stringArg(nonlinearity, 'nonlinearity');
  if (param !== undefined) numberArg(param, 'param');
  // Python's value for selu (LibTorch's C++ init has no selu).
  if (nonlinearity === 'selu') return 3 / 4;
  return native.calculateGain(nonlinearity, param);
}
/** [fanIn, fanOut] of a weight, by PyTorch's rule (receptive field × channels). */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  return native.fanInAndFanOut(tensorArg(tensor).handle);
}
