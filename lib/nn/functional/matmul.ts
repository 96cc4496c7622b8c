/**
 * The grouped and scaled matrix multiplies of torch.nn.functional: F.groupedMm (per-group GEMMs over
 * jagged groups, as mixture-of-experts layers use) and F.scaledMm / F.scaledGroupedMm (low-precision,
 * e.g. float8, operands with their decoding scales), over the ATen operators Python calls.
 */
import type { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { bindFunction } from '../../core/dispatch';
import { signature, type ArgsOf } from '../../core/signature';
import { tensorArg } from './args';

/** How an operand of F.scaledMm was scaled (Python's F.ScalingType; the values are its enum's). */
export const ScalingType = {
  TensorWise: 0,
  RowWise: 1,
  BlockWise1x16: 2,
  BlockWise1x32: 3,
  BlockWise1x128: 4,
  BlockWise128x128: 5,
} as const;
export type ScalingType = (typeof ScalingType)[keyof typeof ScalingType];
/** How a scale tensor of F.scaledMm is laid out (Python's F.SwizzleType). */
export const SwizzleType = { NO_SWIZZLE: 0, SWIZZLE_32_4_4: 1 } as const;
export type SwizzleType = (typeof SwizzleType)[keyof typeof SwizzleType];

const groupedOp = bindFunction('F.groupedMm', [
  '_grouped_mm(Tensor self, Tensor mat2, Tensor? offs=None, Tensor? bias=None, ScalarType? out_dtype=None) -> Tensor',
]);
const scaledOp = bindFunction('F.scaledMm', [
  '_scaled_mm_v2(Tensor self, Tensor mat2, Tensor[] scale_a, int[] recipe_a, int[] swizzle_a, Tensor[] scale_b, int[] recipe_b, ' +
    'int[] swizzle_b, Tensor? bias, ScalarType? out_dtype, int[] contraction_dim=[], bool use_fast_accum=False) -> Tensor',
]);
const scaledGroupedOp = bindFunction('F.scaledGroupedMm', [
  '_scaled_grouped_mm_v2(Tensor self, Tensor mat2, Tensor[] scale_a, int[] recipe_a, int[] swizzle_a, Tensor[] scale_b, int[] recipe_b, ' +
    'int[] swizzle_b, Tensor? offs=None, Tensor? bias=None, ScalarType? out_dtype=None, int[] contraction_dim=[], bool use_fast_accum=False) -> Tensor',
]);

export type GroupedMmOptions = { offs: Tensor | null; bias: Tensor | null; outDtype: Dtype | null };
const GROUPED = signature<GroupedMmOptions>()('F.groupedMm', [], { offs: null, bias: null, outDtype: null });
/** F.groupedMm(matA, matB, {offs, bias, outDtype}): one GEMM per group, the groups of a 2-D operand delimited by offs (int32 ends). */
export function groupedMm(matA: Tensor, matB: Tensor, ...rest: ArgsOf<typeof GROUPED>): Tensor {
  const a = GROUPED.bind(rest);
  return groupedOp(tensorArg(matA, 'matA'), tensorArg(matB, 'matB'), a.offs, a.bias, a.outDtype) as Tensor;
}

export type OneOrMany<T> = T | T[];
export type ScaledMmFields = {
  swizzleA: OneOrMany<SwizzleType> | null;
  swizzleB: OneOrMany<SwizzleType> | null;
  bias: Tensor | null;
  outputDtype: Dtype | null;
  contractionDim: number[];
  useFastAccum: boolean;
};
const SCALED_DEFAULTS: ScaledMmFields = {
  swizzleA: null,
  swizzleB: null,
  bias: null,
  outputDtype: 'bfloat16',
  contractionDim: [],
  useFastAccum: false,
};
const SCALED = signature<ScaledMmFields>()(
  'F.scaledMm',
  ['swizzleA', 'swizzleB', 'bias', 'outputDtype', 'contractionDim', 'useFastAccum'],
  SCALED_DEFAULTS,
);
export type ScaledGroupedMmFields = ScaledMmFields & { offs: Tensor | null };
const SCALED_GROUPED = signature<ScaledGroupedMmFields>()(
  'F.scaledGroupedMm',
  ['swizzleA', 'swizzleB', 'bias', 'offs', 'outputDtype', 'contractionDim', 'useFastAccum'],
  { ...SCALED_DEFAULTS, offs: null },
);

// Python's _expand_single_value and _list_or_empty: one value or a list, null as [].
const listOf = <T>(v: OneOrMany<T> | null): T[] => (v === null ? [] : Array.isArray(v) ? v : [v]);

/** What F.scaledMm and F.scaledGroupedMm take first, in Python's order: the operands, each with its scales and recipe. */
export type ScaledOperands = [
  matA: Tensor,
  matB: Tensor,
  scaleA: OneOrMany<Tensor>,
  scaleRecipeA: OneOrMany<ScalingType>,
  scaleB: OneOrMany<Tensor>,
  scaleRecipeB: OneOrMany<ScalingType>,
];

/** The operands, scales and recipes as the operator takes them (lists of tensors and of enum values). */
function scaledArgs(args: readonly unknown[], a: ScaledMmFields): unknown[] {
  const [matA, matB, scaleA, recipeA, scaleB, recipeB] = args as ScaledOperands;
  return [
    tensorArg(matA, 'matA'),
    tensorArg(matB, 'matB'),
    listOf(scaleA),
    listOf(recipeA),
    listOf(a.swizzleA),
    listOf(scaleB),
    listOf(recipeB),
    listOf(a.swizzleB),
  ];
}

/**
 * F.scaledMm(matA, matB, scaleA, scaleRecipeA, scaleB, scaleRecipeB, swizzleA, swizzleB, bias,
 * outputDtype = 'bfloat16', contractionDim, useFastAccum): mm(matA, matB) of operands stored scaled (e.g.
 * float8), each decoded by its scales as its recipe (F.ScalingType) says.
 */
export function scaledMm(...args: [...ScaledOperands, ...ArgsOf<typeof SCALED>]): Tensor {
  const a = SCALED.bind(args.slice(6));
  return scaledOp(...scaledArgs(args, a), a.bias, a.outputDtype, a.contractionDim, a.useFastAccum) as Tensor;
}

/** F.scaledGroupedMm(matA, matB, scaleA, scaleRecipeA, scaleB, scaleRecipeB, swizzleA, swizzleB, bias, offs, outputDtype, …): F.scaledMm per group. */
export function scaledGroupedMm(...args: [...ScaledOperands, ...ArgsOf<typeof SCALED_GROUPED>]): Tensor {
  const a = SCALED_GROUPED.bind(args.slice(6));
  return scaledGroupedOp(...scaledArgs(args, a), a.offs, a.bias, a.outputDtype, a.contractionDim, a.useFastAccum) as Tensor;
}
