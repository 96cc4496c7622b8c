/**
 * torch.* functional forms of Tensor methods: torch.exp(x) is x.exp(), torch.sum(x, 1) is x.sum(1).
 * Plus the ops that take several tensors: cat, stack, where.
 */
import { native } from './native';
import { describe } from './dtype';
import { Tensor, handleOf, intArg, operandOf, wrap, type Operand, type ValuesIndices } from './tensor';
import './ops-table';

type Method = { [K in keyof Tensor]: Tensor[K] extends (...a: never[]) => unknown ? K : never }[keyof Tensor];
type Fn<K extends Method> = Tensor[K] extends (...a: infer A) => infer R ? (input: Tensor, ...args: A) => R : never;

/** torch.name(input, ...args) = input.name(...args), with a clear error when input is not a Tensor. */
function method<K extends Method>(name: K): Fn<K> {
  return ((input: unknown, ...args: unknown[]) => {
    if (!(input instanceof Tensor)) throw new TypeError(`torch.${String(name)}: input must be a Tensor (got ${describe(input)})`);
    return (input[name] as (...a: unknown[]) => unknown)(...args);
  }) as Fn<K>;
}

// pointwise
export const neg = method('neg'), abs = method('abs'), exp = method('exp'), log = method('log'), log2 = method('log2');
export const log10 = method('log10'), log1p = method('log1p'), expm1 = method('expm1'), sqrt = method('sqrt');
export const rsqrt = method('rsqrt'), sin = method('sin'), cos = method('cos'), tan = method('tan'), asin = method('asin');
export const acos = method('acos'), atan = method('atan'), sinh = method('sinh'), cosh = method('cosh'), tanh = method('tanh');
export const sigmoid = method('sigmoid'), relu = method('relu'), floor = method('floor'), ceil = method('ceil');
export const round = method('round'), trunc = method('trunc'), frac = method('frac'), sign = method('sign');
export const reciprocal = method('reciprocal'), square = method('square'), erf = method('erf');
export const logicalNot = method('logicalNot'), isnan = method('isnan'), isinf = method('isinf'), isfinite = method('isfinite');
export const add = method('add'), sub = method('sub'), mul = method('mul'), div = method('div'), pow = method('pow');
export const eq = method('eq'), ne = method('ne'), lt = method('lt'), le = method('le'), gt = method('gt'), ge = method('ge');
export const logicalAnd = method('logicalAnd'), logicalOr = method('logicalOr'), logicalXor = method('logicalXor');
export const maximum = method('maximum'), minimum = method('minimum'), remainder = method('remainder'), fmod = method('fmod');
export const atan2 = method('atan2'), clamp = method('clamp');
export const matmul = method('matmul'), mm = method('mm'), bmm = method('bmm'), dot = method('dot'), outer = method('outer');
// reductions
export const sum = method('sum'), mean = method('mean'), nansum = method('nansum'), prod = method('prod');
export const std = method('std'), argmax = method('argmax'), argmin = method('argmin');
export const all = method('all'), any = method('any'), norm = method('norm'), logsumexp = method('logsumexp');
export const softmax = method('softmax'), logSoftmax = method('logSoftmax'), sort = method('sort'), argsort = method('argsort');
export const topk = method('topk'), allclose = method('allclose'), equal = method('equal');
// `var` is a reserved word in JS, but a fine export name: torch.var(x).
const variance = method('var');
export { variance as var };

/** max of all elements; max(input, dim, {keepdim}) → {values, indices}; max(input, other) → maximum. */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, dim: number, opts?: { keepdim?: boolean }): ValuesIndices;
export function max(input: Tensor, other: Tensor): Tensor;
export function max(input: Tensor, ...rest: unknown[]): Tensor | ValuesIndices {
  return (method('max') as (i: Tensor, ...r: unknown[]) => Tensor | ValuesIndices)(input, ...rest);
}
export function min(input: Tensor): Tensor;
export function min(input: Tensor, dim: number, opts?: { keepdim?: boolean }): ValuesIndices;
export function min(input: Tensor, other: Tensor): Tensor;
export function min(input: Tensor, ...rest: unknown[]): Tensor | ValuesIndices {
  return (method('min') as (i: Tensor, ...r: unknown[]) => Tensor | ValuesIndices)(input, ...rest);
}
// shape
export const reshape = method('reshape'), permute = method('permute'), transpose = method('transpose'), t = method('t');
export const squeeze = method('squeeze'), unsqueeze = method('unsqueeze'), flatten = method('flatten'), narrow = method('narrow');
export const select = method('select'), split = method('split'), chunk = method('chunk'), unbind = method('unbind');
export const gather = method('gather'), scatter = method('scatter'), maskedFill = method('maskedFill'), flip = method('flip');
export const clone = method('clone'), detach = method('detach');

function tensorList(tensors: unknown, name: string): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new TypeError(`${name}: tensors must be a non-empty array of Tensors`);
  tensors.forEach((x, i) => handleOf(x, `tensors[${i}]`));
  return tensors as Tensor[];
}

/** Concatenates along an existing dim. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.cat(tensorList(tensors, 'cat').map((x) => x.handle), intArg(dim, 'dim')));
}

/** Stacks along a new dim. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(native.stack(tensorList(tensors, 'stack').map((x) => x.handle), intArg(dim, 'dim')));
}

/** where(condition, input, other): input where condition holds, other elsewhere (numbers allowed). */
export function where(condition: Tensor, input: Operand, other: Operand): Tensor {
  return wrap(native.where(handleOf(condition, 'condition'), operandOf(input, 'input'), operandOf(other, 'other')));
}

/** Einstein summation: torch.einsum('bij,bjk->bik', a, b). */
export function einsum(equation: string, ...operands: Tensor[] | [Tensor[]]): Tensor {
  if (typeof equation !== 'string') throw new TypeError(`einsum: equation must be a string (got ${describe(equation)})`);
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : (operands as Tensor[]);
  return wrap(native.einsum(equation, tensorList(list, 'einsum').map((x) => x.handle)));
}
