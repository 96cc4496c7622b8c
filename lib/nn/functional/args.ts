/**
 * The argument forms torch.nn.functional shares: sizes given as one number or one per spatial dim (Python's
 * _single/_pair/_triple), reductions as ATen's enum, Python's legacy size_average/reduce.
 */
import { describe } from '../../core/dtype';
import { Tensor, handleOf } from '../../core/tensor';
import { intArg } from '../../core/args';
import { signature } from '../../core/signature';

export type Size2 = number | [number, number];
export type Size = number | number[];
export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTIONS: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** A size for `n` spatial dims: one integer repeated, or n of them. */
export function ntuple(n: number, v: unknown, name: string): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(intArg(v, name));
  if (Array.isArray(v) && v.length === n) return v.map((x, i) => intArg(x, `${name}[${i}]`));
  throw new TypeError(`${name} must be an integer or ${n} integers (got ${describe(v)})`);
}

export function pair(v: unknown, name: string): [number, number] {
  return ntuple(2, v, name) as [number, number];
}

export function reductionCode(r: unknown): number {
  const code = REDUCTIONS[(r ?? 'mean') as Reduction];
  if (code === undefined) throw new TypeError(`reduction must be 'none', 'mean' or 'sum' (got ${describe(r)})`);
  return code;
}

/** Python's _Reduction.legacy_get_string: size_average / reduce, when either is given, decide the reduction. */
export function legacyReduction(
  who: string,
  sizeAverage: boolean | null | undefined,
  reduce: boolean | null | undefined,
  reduction: Reduction,
): Reduction {
  if (sizeAverage == null && reduce == null) return reduction;
  const out: Reduction = reduce === false ? 'none' : sizeAverage === false ? 'sum' : 'mean';
  process.emitWarning(`${who}: sizeAverage and reduce args will be deprecated, please use reduction='${out}' instead.`, 'UserWarning');
  return out;
}

/** A tensor argument's handle, or undefined for null (an optional tensor). */
export function optHandle(t: Tensor | null, name: string) {
  return t === null ? undefined : handleOf(t, name);
}

/** The tensor argument `name`, checked. */
export function tensorArg(t: unknown, name = 'input'): Tensor {
  handleOf(t, name);
  return t as Tensor;
}

/** Python's padding_idx normalisation (`name` as its message says it); null stays null. */
export function paddingIndex(paddingIdx: number | null, rows: number, name = 'Padding_idx'): number | null {
  if (paddingIdx === null) return null;
  if (paddingIdx >= rows || paddingIdx < -rows) throw new RangeError(`${name} must be within num_embeddings`);
  return paddingIdx < 0 ? rows + paddingIdx : paddingIdx;
}

// Python's pooling signatures that F.*_pool* and nn.*Pool* share (the same optional arguments, order
// and defaults); `who` names the caller in errors.
export type AvgPoolFields = { stride: Size | null; padding: Size; ceilMode: boolean; countIncludePad: boolean; divisorOverride: number | null };
/** avg_pool2d's and avg_pool3d's. */
export const avgPoolSig = (who: string) =>
  signature<AvgPoolFields>()(who, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'], {
    stride: null,
    padding: 0,
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: null,
  });
/** avg_pool1d's, which has no divisorOverride. */
export const avgPool1dSig = (who: string) =>
  signature<Omit<AvgPoolFields, 'divisorOverride'>>()(who, ['stride', 'padding', 'ceilMode', 'countIncludePad'], {
    stride: null,
    padding: 0,
    ceilMode: false,
    countIncludePad: true,
  });
export type FractionalFields = {
  outputSize: Size | null;
  outputRatio: number | number[] | null;
  returnIndices: boolean;
  _randomSamples: Tensor | null;
};
/** @internal Python's fractional_max_pool signature (its F functions' and its modules'), under the caller's name. */
export const fractionalSignature = (who: string) =>
  signature<FractionalFields>()(who, ['outputSize', 'outputRatio', 'returnIndices', '_randomSamples'], {
    outputSize: null,
    outputRatio: null,
    returnIndices: false,
    _randomSamples: null,
  });
