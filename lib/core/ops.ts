/**
 * torch.* functions that Python binds by hand, or wraps in Python code with a signature of its own
 * (torch/functional.py); the rest of torch.* is generated (lib/generated/torch.ts).
 */
import { native } from './native';
import { describe, type Dtype } from './dtype';
import { Tensor, handleOf, pyOptions, wrap, type PyRest, type Scalar } from './tensor-class';
import { optionsArg } from './args';
import { installMethod, linalg, torchFunctions } from './surface';
import { TorchValueError, warnOnce } from './errors';
import { bindFunction } from './dispatch';

/** Einstein summation: torch.einsum('bij,bjk->bik', a, b), the operands as arguments or one array. */
export function einsum(equation: string, ...operands: Tensor[] | [Tensor[]]): Tensor {
  if (typeof equation !== 'string') throw new TypeError(`einsum: equation must be a string (got ${describe(equation)})`);
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : (operands as Tensor[]);
  if (list.length === 0) throw new TypeError('einsum: needs at least one operand');
  return wrap(
    native.einsum(
      equation,
      list.map((x, i) => handleOf(x, `operands[${i}]`)),
    ),
  );
}

/**
 * torch.norm as Python's torch.functional.norm writes it (not the ATen norm operator, whose gradient
 * node differs): 'fro' and numbers are linalg.vectorNorm, 'nuc' (and 'fro' over more than two dims)
 * linalg.matrixNorm.
 */
export function norm(
  input: Tensor,
  p: number | 'fro' | 'nuc' | null = 'fro',
  dim?: number | number[] | null,
  keepdim = false,
  opts: { dtype?: Dtype } = {},
): Tensor {
  if (!(input instanceof Tensor)) throw new TypeError(`torch.norm(): argument 'input' (position 1) must be Tensor, not ${describe(input)}`);
  optionsArg(opts, 'torch.norm', ['dtype']);
  const dims = dim === undefined || dim === null ? null : typeof dim === 'number' ? [dim] : dim;
  if (typeof p === 'string') {
    if (p === 'fro' && (dims === null || dims.length <= 2)) return linalg.vectorNorm(input, 2, dims, keepdim, opts);
    return linalg.matrixNorm(input, p, dims ?? [...Array(input.ndim).keys()], keepdim, opts);
  }
  return linalg.vectorNorm(input, p ?? 2, dims, keepdim, opts);
}

declare module './tensor-class' {
  interface Tensor {
    /** Python's Tensor.norm: torch.norm(this, p, dim, keepdim, {dtype}). */
    norm(p?: number | 'fro' | 'nuc' | null, dim?: number | number[] | null, keepdim?: boolean, opts?: { dtype?: Dtype }): Tensor;
  }
}

// ---- torch.functional: Python wraps these bindings in Python code with signatures of its own ----

/**
 * torch.tensordot(a, b, dims = 2, {out}): dims a number (the last `dims` of a with the first of b), or
 * [dimsA, dimsB], as Python's.
 */
export function tensordot(
  a: Tensor,
  b: Tensor,
  ...rest: PyRest<[dims: number | [number[], number[]], out: Tensor | null], { dims?: number | [number[], number[]]; out?: Tensor | null }>
): Tensor {
  const o = optionsArg<{ dims?: number | [number[], number[]]; out?: Tensor | null }>(
    pyOptions('torch.tensordot', rest, ['dims', 'out']),
    'torch.tensordot',
    ['dims', 'out'],
  );
  const dims = o.dims ?? 2;
  let dimsA: number[];
  let dimsB: number[];
  if (typeof dims === 'number') {
    if (!Number.isInteger(dims) || dims < 0) throw new RangeError(`tensordot expects dims >= 0, but got dims=${dims}`);
    dimsA = Array.from({ length: dims }, (_, i) => i - dims);
    dimsB = Array.from({ length: dims }, (_, i) => i);
  } else if (Array.isArray(dims) && dims.length === 2) {
    [dimsA, dimsB] = dims.map((d) => (typeof d === 'number' ? [d] : d)) as [number[], number[]];
  } else if (Array.isArray(dims)) {
    // Python unpacks the pair: a list of another length is its ValueError
    throw new TorchValueError(`torch.tensordot: dims must be a number or a pair [dimsA, dimsB] (got ${dims.length} items)`);
  } else {
    throw new TypeError(`torch.tensordot: dims must be a number or [dimsA, dimsB] (got ${describe(dims)})`);
  }
  return torchFunctions.tensordot(a, b, dimsA, dimsB, o.out == null ? {} : { out: o.out });
}

/**
 * torch.uniqueConsecutive(input, returnInverse, returnCounts, dim): the tensor alone, or [output,
 * inverse?, counts?] when asked for, as Python returns them.
 */
export function uniqueConsecutive(
  input: Tensor,
  ...rest: PyRest<
    [returnInverse: boolean, returnCounts: boolean, dim: number | null],
    { returnInverse?: boolean; returnCounts?: boolean; dim?: number | null }
  >
): Tensor | Tensor[] {
  const names = ['returnInverse', 'returnCounts', 'dim'];
  const o = optionsArg<{ returnInverse?: boolean; returnCounts?: boolean; dim?: number | null }>(
    pyOptions('torch.uniqueConsecutive', rest, names),
    'torch.uniqueConsecutive',
    names,
  );
  const { returnInverse = false, returnCounts = false, dim = null } = o;
  const [output, inverse, counts] = torchFunctions.uniqueConsecutive(input, returnInverse, returnCounts, dim);
  if (!returnInverse && !returnCounts) {
    inverse.dispose();
    counts.dispose();
    return output;
  }
  const out = [output];
  if (returnInverse) out.push(inverse);
  else inverse.dispose();
  if (returnCounts) out.push(counts);
  else counts.dispose();
  return out;
}

const CDIST_MODES = ['use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist', 'donot_use_mm_for_euclid_dist'] as const;

/** torch.cdist(x1, x2, p = 2, computeMode): computeMode by Python's names. */
export function cdist(
  x1: Tensor,
  x2: Tensor,
  ...rest: PyRest<[p: number, computeMode: (typeof CDIST_MODES)[number]], { p?: number; computeMode?: (typeof CDIST_MODES)[number] }>
): Tensor {
  const o = optionsArg<{ p?: number; computeMode?: string }>(pyOptions('torch.cdist', rest, ['p', 'computeMode']), 'torch.cdist', [
    'p',
    'computeMode',
  ]);
  const { p = 2, computeMode = 'use_mm_for_euclid_dist_if_necessary' } = o;
  const mode = CDIST_MODES.indexOf(computeMode as (typeof CDIST_MODES)[number]);
  if (mode < 0) throw new TypeError(`torch.cdist: ${describe(computeMode)} is not a valid value for computeMode (${CDIST_MODES.join(', ')})`);
  return torchFunctions.cdist(x1, x2, p, mode === 0 ? null : mode);
}

/**
 * torch.split(tensor, splitSizeOrSections, dim = 0): Python's own (torch/functional.py), whose second
 * argument is named split_size_or_sections; it calls Tensor.split (a size: equal chunks, a list: those sizes).
 */
export function split(
  tensor: Tensor,
  ...rest: PyRest<[splitSizeOrSections: number | number[], dim: number], { splitSizeOrSections?: number | number[]; dim?: number }>
): Tensor[] {
  const o = optionsArg<{ splitSizeOrSections?: number | number[]; dim?: number }>(
    pyOptions('torch.split', rest, ['splitSizeOrSections', 'dim']),
    'torch.split',
    ['splitSizeOrSections', 'dim'],
  );
  if (!(tensor instanceof Tensor)) throw new TypeError(`torch.split: tensor must be a Tensor (got ${describe(tensor)})`);
  if (o.splitSizeOrSections === undefined) throw new TypeError("torch.split() missing 1 required positional argument: 'splitSizeOrSections'");
  return tensor.split(o.splitSizeOrSections as number, o.dim ?? 0);
}

// torch.* functions Python binds by hand (python_torch_functions_manual.cpp) over ATen operators: bound
// here to the operators' schemas (from the pinned native_functions.yaml), so they take Python's arguments.
const bound = (name: string, schemas: string[]) => bindFunction(`torch.${name}`, schemas);
/** torch.numel(input): how many elements input has. */
export const numel = bound('numel', ['numel(Tensor self) -> int']) as (input: Tensor, options?: { input?: Tensor }) => number;
/** torch.get_device(input): the CUDA device index, or -1 on the CPU. */
export const getDevice = bound('getDevice', ['get_device(Tensor self) -> int']) as (input: Tensor, options?: { input?: Tensor }) => number;
/** torch.is_same_size(input, other): whether both have the same shape. */
export const isSameSize = bound('isSameSize', ['is_same_size(Tensor self, Tensor other) -> bool']) as (
  input: Tensor,
  other: Tensor,
  options?: { input?: Tensor; other?: Tensor },
) => boolean;
/** torch.fill(input, value): a new tensor like input, every element value. */
export const fill = bound('fill', ['fill.Scalar(Tensor self, Scalar value) -> Tensor', 'fill.Tensor(Tensor self, Tensor value) -> Tensor']) as (
  input: Tensor,
  value: Scalar | Tensor,
  options?: { input?: Tensor; value?: Scalar | Tensor },
) => Tensor;

/** torch.range's keywords (and its positional arguments by name). */
export interface RangeOptions {
  start?: Scalar;
  end?: Scalar;
  step?: Scalar;
  dtype?: Dtype | null;
  device?: string | null;
  requiresGrad?: boolean;
  out?: Tensor;
}
const rangeBinding = bound('range', [
  'range.step(Scalar start, Scalar end, Scalar step=1, *, ScalarType? dtype=None, Layout? layout=None, Device? device=None, bool? pin_memory=None) -> Tensor',
  'range.out(Scalar start, Scalar end, Scalar step=1, *, Tensor(a!) out) -> Tensor(a!)',
]);
/**
 * torch.range(start, end, step = 1): from start to end *inclusive*, in the default dtype (float32).
 * Deprecated in PyTorch (and warned here once, as there): use torch.arange, which stops before end.
 */
export function range(start: Scalar, end: Scalar, options?: RangeOptions): Tensor;
export function range(start: Scalar, end: Scalar, step: Scalar, options?: RangeOptions): Tensor;
export function range(options: RangeOptions): Tensor;
export function range(...args: unknown[]): Tensor {
  warnOnce(
    'torch.range',
    'torch.range is deprecated and will be removed in a future release because its behavior is inconsistent with ' +
      "Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
  );
  return rangeBinding(...args) as Tensor;
}

declare module './tensor-class' {
  interface Tensor {
    /** Python's Tensor.is_same_size(other): whether both have the same shape. */
    isSameSize(other: Tensor, options?: { other?: Tensor }): boolean;
    /** Python's Tensor.set_(source?, storageOffset?, size?, stride?): shares source's memory (no source: empty). */
    set_(source?: Tensor, options?: { source?: Tensor }): this;
    set_(
      source: Tensor,
      storageOffset: number,
      size: number[],
      stride?: number[],
      options?: { source?: Tensor; storageOffset?: number; size?: number[]; stride?: number[] },
    ): this;
  }
}

/** Installs the Tensor methods this file writes by hand (core/tensor.ts calls this once, after the generated ones). */
export function installOpMethods(): void {
  // Tensor.norm: Python's method is torch.norm's Python code, not the operator of that name.
  Tensor.prototype.norm = function (this: Tensor, ...args: [number | 'fro' | 'nuc' | null, number | number[] | null, boolean, { dtype?: Dtype }]) {
    return norm(this, ...args);
  };
  // Tensor.is_same_size, Python's method over the same operator.
  installMethod('isSameSize', ['is_same_size(Tensor self, Tensor other) -> bool']);
  // Tensor.set_(source, storageOffset, size, stride): this tensor made a view of source's memory (Python's
  // method; its Storage overloads have no counterpart, torchnode has no Storage objects).
  installMethod('set_', [
    'set_.source_Tensor(Tensor(a!) self, Tensor source) -> Tensor(a!)',
    'set_.source_Tensor_storage_offset(Tensor(a!) self, Tensor source, SymInt storage_offset, SymInt[] size, SymInt[] stride=[]) -> Tensor(a!)',
    'set_(Tensor(a!) self) -> Tensor(a!)',
  ]);
}
