/**
 * The op tables: each name is one native function of that signature (native/ops.cc's tables), installed
 * as a Tensor method and typed through declaration merging in tensor.ts.
 */
import { native, type Handle } from './native';
import { Tensor, operandOf, wrap, type Operand } from './tensor';

/** (t) → new tensor. */
export const UNARY = [
  'neg', 'abs', 'exp', 'log', 'log2', 'log10', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin',
  'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'trunc', 'frac', 'sign',
  'reciprocal', 'square', 'erf', 'logicalNot', 'isnan', 'isinf', 'isfinite', 'bitwiseNot', 'hardsigmoid',
  'hardswish', 'silu', 'mish', 'selu', 'relu6',
] as const;
/** (t) → t, in place. */
export const INPLACE_UNARY = [
  'neg_', 'abs_', 'exp_', 'log_', 'sqrt_', 'rsqrt_', 'sin_', 'cos_', 'tanh_', 'sigmoid_', 'relu_', 'floor_',
  'ceil_', 'round_', 'trunc_', 'sign_', 'reciprocal_', 'zero_',
] as const;
/** (t, other: Tensor | number) → new tensor, broadcasting. */
export const BINARY = [
  'mul', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor', 'maximum', 'minimum',
  'remainder', 'fmod', 'atan2', 'bitwiseAnd', 'bitwiseOr', 'bitwiseXor', 'matmul', 'mm', 'bmm', 'dot', 'outer',
] as const;
/** (t, other) → t, in place. */
export const INPLACE_BINARY = ['mul_', 'pow_', 'remainder_', 'fmod_', 'copy_', 'logicalAnd_', 'logicalOr_'] as const;

export type UnaryName = (typeof UNARY)[number];
export type BinaryName = (typeof BINARY)[number];
export type UnaryMethods = { [K in UnaryName]: () => Tensor };
export type InplaceUnaryMethods = { [K in (typeof INPLACE_UNARY)[number]]: () => Tensor };
export type BinaryMethods = { [K in BinaryName]: (other: Operand) => Tensor };
export type InplaceBinaryMethods = { [K in (typeof INPLACE_BINARY)[number]]: (other: Operand) => Tensor };

type Fn = (...args: unknown[]) => unknown;
const proto = Tensor.prototype as unknown as Record<string, (this: Tensor, ...args: unknown[]) => unknown>;
const fn = (name: string): Fn => native[name] as Fn;

for (const name of UNARY) {
  const op = fn(name);
  proto[name] = function () {
    return wrap(op(this.handle) as Handle);
  };
}
for (const name of INPLACE_UNARY) {
  const op = fn(name);
  proto[name] = function () {
    op(this.handle);
    return this;
  };
}
for (const name of BINARY) {
  const op = fn(name);
  proto[name] = function (other: unknown) {
    return wrap(op(this.handle, operandOf(other, 'other')) as Handle);
  };
}
for (const name of INPLACE_BINARY) {
  const op = fn(name);
  proto[name] = function (other: unknown) {
    op(this.handle, operandOf(other, 'other'));
    return this;
  };
}
