/**
 * torch.* functions that Python binds by hand rather than from the schema; the rest of torch.* is
 * generated (lib/generated/torch.ts).
 */
import { native } from './native';
import { describe, type Dtype } from './dtype';
import { Tensor, handleOf, optionsArg, wrap } from './tensor';
import { linalg } from './surface';

/** Einstein summation: torch.einsum('bij,bjk->bik', a, b), the operands as arguments or one array. */
export function einsum(equation: string, ...operands: Tensor[] | [Tensor[]]): Tensor {
  if (typeof equation !== 'string') throw new TypeError(`einsum: equation must be a string (got ${describe(equation)})`);
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : (operands as Tensor[]);
  if (list.length === 0) throw new TypeError('einsum: needs at least one operand');
  return wrap(native.einsum(equation, list.map((x, i) => handleOf(x, `operands[${i}]`))));
}

/**
 * torch.norm as Python's torch.functional.norm writes it (not the ATen norm operator, whose gradient
 * node differs): 'fro' and numbers are linalg.vectorNorm, 'nuc' (and 'fro' over more than two dims)
 * linalg.matrixNorm.
 */
export function norm(input: Tensor, p: number | 'fro' | 'nuc' | null = 'fro', dim?: number | number[] | null,
  keepdim = false, opts: { dtype?: Dtype } = {}): Tensor {
  if (!(input instanceof Tensor)) throw new TypeError(`torch.norm(): argument 'input' (position 1) must be Tensor, not ${describe(input)}`);
  optionsArg(opts, 'torch.norm', ['dtype']);
  const dims = dim === undefined || dim === null ? null : typeof dim === 'number' ? [dim] : dim;
  if (typeof p === 'string') {
    if (p === 'fro' && (dims === null || dims.length <= 2)) return linalg.vectorNorm(input, 2, dims, keepdim, opts);
    return linalg.matrixNorm(input, p, dims ?? [...Array(input.ndim).keys()], keepdim, opts);
  }
  return linalg.vectorNorm(input, p ?? 2, dims, keepdim, opts);
}

declare module './tensor' {
  interface Tensor {
    /** Python's Tensor.norm: torch.norm(this, p, dim, keepdim, {dtype}). */
    norm(p?: number | 'fro' | 'nuc' | null, dim?: number | number[] | null, keepdim?: boolean, opts?: { dtype?: Dtype }): Tensor;
  }
}
Tensor.prototype.norm = function (this: Tensor, ...args: [number | 'fro' | 'nuc' | null, number | number[] | null, boolean, { dtype?: Dtype }]) {
  return norm(this, ...args);
};
