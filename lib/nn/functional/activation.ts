/**
 * torch.nn.functional's activations, each with Python's signature (positional arguments in Python's order
 * or an options object) over the ATen operator Python calls; `inplace` picks the operator's `_` form.
 */
import { Tensor, handleOf, type PyRest } from '../../core/tensor';
import { describe, type Dtype } from '../../core/dtype';
import { warnOnce } from '../../core/errors';
import { scope } from '../../core/scope';
import { nnFunctions as NN, torchFunctions as T } from '../../core/surface';
import { signature, type ArgsOf } from '../../core/signature';

function input(t: unknown, name = 'input'): Tensor {
  handleOf(t, name);
  return t as Tensor;
}

export type InplaceArgs = PyRest<[inplace: boolean], { inplace?: boolean }>;
/** An activation with only `inplace`: the operator or its `_` form. */
function inplaceForm(who: string, op: (x: Tensor) => Tensor, op_: (x: Tensor) => Tensor) {
  const sig = signature<{ inplace: boolean }>()(`F.${who}`, ['inplace'], { inplace: false });
  return (x: Tensor, ...rest: InplaceArgs): Tensor => (sig.bind(rest).inplace ? op_(input(x)) : op(input(x)));
}

export const relu = inplaceForm(
  'relu',
  (x) => x.relu(),
  (x) => x.relu_(),
);
export const relu6 = inplaceForm(
  'relu6',
  (x) => NN.relu6(x),
  (x) => NN.relu6_(x),
);
export const selu = inplaceForm(
  'selu',
  (x) => T.selu(x),
  (x) => T.selu_(x),
);
export const silu = inplaceForm(
  'silu',
  (x) => NN.silu(x),
  (x) => NN.silu_(x),
);
export const mish = inplaceForm(
  'mish',
  (x) => NN.mish(x),
  (x) => NN.mish_(x),
);
export const hardswish = inplaceForm(
  'hardswish',
  (x) => NN.hardswish(x),
  (x) => NN.hardswish_(x),
);
export const hardsigmoid = inplaceForm(
  'hardsigmoid',
  (x) => NN.hardsigmoid(x),
  (x) => NN.hardsigmoid_(x),
);

export const sigmoid = (x: Tensor): Tensor => input(x).sigmoid();
export const tanh = (x: Tensor): Tensor => input(x).tanh();
export const logsigmoid = (x: Tensor): Tensor => NN.logSigmoid(input(x));
/** x − tanh(x), as Python's F.tanhshrink. */
export const tanhshrink = (x: Tensor): Tensor => scope(() => input(x).sub(x.tanh()));
/** x / (1 + |x|), as Python's F.softsign. */
export const softsign = (x: Tensor): Tensor => scope(() => input(x).div(x.abs().add(1)));

const ALPHA = signature<{ alpha: number; inplace: boolean }>()('F.elu', ['alpha', 'inplace'], { alpha: 1, inplace: false });
export function elu(x: Tensor, ...rest: ArgsOf<typeof ALPHA>): Tensor {
  const a = ALPHA.bind(rest);
  return a.inplace ? NN.elu_(input(x), a.alpha) : NN.elu(input(x), a.alpha);
}
const CELU = signature<{ alpha: number; inplace: boolean }>()('F.celu', ['alpha', 'inplace'], { alpha: 1, inplace: false });
export function celu(x: Tensor, ...rest: ArgsOf<typeof CELU>): Tensor {
  const a = CELU.bind(rest);
  if (a.alpha === 0) throw new RangeError('ZeroDivisionError: alpha cannot be 0 for CELU');
  return a.inplace ? T.celu_(input(x), a.alpha) : T.celu(input(x), a.alpha);
}

const LEAKY = signature<{ negativeSlope: number; inplace: boolean }>()('F.leakyRelu', ['negativeSlope', 'inplace'], {
  negativeSlope: 0.01,
  inplace: false,
});
export function leakyRelu(x: Tensor, ...rest: ArgsOf<typeof LEAKY>): Tensor {
  const a = LEAKY.bind(rest);
  return a.inplace ? NN.leakyRelu_(input(x), a.negativeSlope) : NN.leakyRelu(input(x), a.negativeSlope);
}

const RRELU = signature<{ lower: number; upper: number; training: boolean; inplace: boolean }>()(
  'F.rrelu',
  ['lower', 'upper', 'training', 'inplace'],
  { lower: 1 / 8, upper: 1 / 3, training: false, inplace: false },
);
export function rrelu(x: Tensor, ...rest: ArgsOf<typeof RRELU>): Tensor {
  const a = RRELU.bind(rest);
  return a.inplace ? T.rrelu_(input(x), a.lower, a.upper, a.training) : T.rrelu(input(x), a.lower, a.upper, a.training);
}

const HARDTANH = signature<{ minVal: number; maxVal: number; inplace: boolean }>()('F.hardtanh', ['minVal', 'maxVal', 'inplace'], {
  minVal: -1,
  maxVal: 1,
  inplace: false,
});
export function hardtanh(x: Tensor, ...rest: ArgsOf<typeof HARDTANH>): Tensor {
  const a = HARDTANH.bind(rest);
  if (a.minVal > a.maxVal) throw new RangeError('min_val cannot be greater than max_val');
  return a.inplace ? NN.hardtanh_(input(x), a.minVal, a.maxVal) : NN.hardtanh(input(x), a.minVal, a.maxVal);
}

const THRESHOLD = signature<{ inplace: boolean }>()('F.threshold', ['inplace'], { inplace: false });
/** y = x where x > threshold, else value. */
export function threshold(x: Tensor, threshold: number, value: number, ...rest: ArgsOf<typeof THRESHOLD>): Tensor {
  return THRESHOLD.bind(rest).inplace ? T.threshold_(input(x), threshold, value) : T.threshold(input(x), threshold, value);
}

const LAMBD = signature<{ lambd: number }>()('F.hardshrink', ['lambd'], { lambd: 0.5 });
export const hardshrink = (x: Tensor, ...rest: ArgsOf<typeof LAMBD>): Tensor => T.hardshrink(input(x), LAMBD.bind(rest).lambd);
export const softshrink = (x: Tensor, ...rest: ArgsOf<typeof LAMBD>): Tensor => NN.softshrink(input(x), LAMBD.bind(rest).lambd);

const SOFTPLUS = signature<{ beta: number; threshold: number }>()('F.softplus', ['beta', 'threshold'], { beta: 1, threshold: 20 });
export const softplus = (x: Tensor, ...rest: ArgsOf<typeof SOFTPLUS>): Tensor => {
  const a = SOFTPLUS.bind(rest);
  return NN.softplus(input(x), a.beta, a.threshold);
};

const GELU = signature<{ approximate: 'none' | 'tanh' }>()('F.gelu', ['approximate'], { approximate: 'none' });
export function gelu(x: Tensor, ...rest: ArgsOf<typeof GELU>): Tensor {
  const a = GELU.bind(rest).approximate;
  if (a !== 'none' && a !== 'tanh') throw new TypeError(`approximate must be 'none' or 'tanh' (got ${describe(a)})`);
  return NN.gelu(input(x), { approximate: a });
}

const GLU = signature<{ dim: number }>()('F.glu', ['dim'], { dim: -1 });
/** The gated linear unit: the first half of `dim` times the sigmoid of the second. */
export function glu(x: Tensor, ...rest: ArgsOf<typeof GLU>): Tensor {
  if (input(x).ndim === 0) throw new RangeError('glu does not support scalars because halving size must be even');
  return NN.glu(x, GLU.bind(rest).dim);
}

export const prelu = (x: Tensor, weight: Tensor): Tensor => T.prelu(input(x), input(weight, 'weight'));

export type SoftmaxFields = { dim: number | null; dtype: Dtype | null };
const SOFTMAX = signature<SoftmaxFields>()('F.softmax', ['dim'], { dim: null, dtype: null });
/** Python's _get_softmax_dim: no dim is deprecated; 0-, 1- and 3-D inputs use 0, the rest 1. */
function softmaxDim(who: string, x: Tensor, dim: number | null): number {
  if (dim !== null) return dim;
  warnOnce(`F.${who}.dim`, `Implicit dimension choice for ${who} has been deprecated. Change the call to include dim=X as an argument.`);
  return x.ndim === 0 || x.ndim === 1 || x.ndim === 3 ? 0 : 1;
}
function softmaxLike(who: string, op: (x: Tensor, dim: number, dtype: Dtype | null) => Tensor) {
  return (x: Tensor, ...rest: ArgsOf<typeof SOFTMAX>): Tensor => {
    const a = SOFTMAX.bind(rest);
    return op(input(x), softmaxDim(who, x, a.dim), a.dtype);
  };
}
export const softmax = softmaxLike('softmax', (x, dim, dtype) => x.softmax(dim, dtype === null ? {} : { dtype }));
export const logSoftmax = softmaxLike('log_softmax', (x, dim, dtype) => x.logSoftmax(dim, dtype === null ? {} : { dtype }));
/** softmax(−x), as Python's F.softmin. */
export const softmin = softmaxLike('softmin', (x, dim, dtype) => scope(() => x.neg().softmax(dim, dtype === null ? {} : { dtype })));

const GUMBEL = signature<{ tau: number; hard: boolean; eps: number; dim: number }>()('F.gumbelSoftmax', ['tau', 'hard', 'eps', 'dim'], {
  tau: 1,
  hard: false,
  eps: 1e-10,
  dim: -1,
});
/** Samples from the Gumbel-softmax distribution; `hard` returns one-hot samples with the soft gradient (straight-through). */
export function gumbelSoftmax(logits: Tensor, ...rest: ArgsOf<typeof GUMBEL>): Tensor {
  const a = GUMBEL.bind(rest);
  return scope(() => {
    const gumbels = T.emptyLike(input(logits, 'logits')).exponential_().log().neg();
    const soft = logits.add(gumbels).div(a.tau).softmax(a.dim);
    if (!a.hard) return soft;
    const index = soft.max(a.dim, { keepdim: true }).indices;
    const hard = T.zerosLike(logits).scatter_(a.dim, index, 1.0);
    return hard.sub(soft.detach()).add(soft);
  });
}

const NORMALIZE = signature<{ p: number; dim: number; eps: number }>()('F.normalize', ['p', 'dim', 'eps'], { p: 2, dim: 1, eps: 1e-12 });
/** x / max(‖x‖ₚ, eps) along dim. */
export function normalize(x: Tensor, ...rest: ArgsOf<typeof NORMALIZE>): Tensor {
  const a = NORMALIZE.bind(rest);
  return scope(() => input(x).div(x.norm(a.p, a.dim, true).clampMin(a.eps).expandAs(x)));
}

const ONE_HOT = signature<{ numClasses: number }>()('F.oneHot', ['numClasses'], { numClasses: -1 });
export const oneHot = (x: Tensor, ...rest: ArgsOf<typeof ONE_HOT>): Tensor => NN.oneHot(input(x, 'tensor'), ONE_HOT.bind(rest).numClasses);

// Python's in-place forms (F.relu_, F.elu_, …): the operator's `_` form, arguments as Python's.
/** In place: max(x, 0). */
export const relu_ = (x: Tensor): Tensor => input(x).relu_();
/** In place: ELU. */
export const elu_ = (x: Tensor, alpha = 1): Tensor => NN.elu_(input(x), alpha);
/** In place: CELU. */
export const celu_ = (x: Tensor, alpha = 1): Tensor => T.celu_(input(x), alpha);
/** In place: SELU. */
export const selu_ = (x: Tensor): Tensor => T.selu_(input(x));
/** In place: leaky ReLU. */
export const leakyRelu_ = (x: Tensor, negativeSlope = 0.01): Tensor => NN.leakyRelu_(input(x), negativeSlope);
/** In place: hardtanh. */
export const hardtanh_ = (x: Tensor, minVal = -1, maxVal = 1): Tensor => NN.hardtanh_(input(x), minVal, maxVal);
/** In place: randomised leaky ReLU. */
export const rrelu_ = (x: Tensor, lower = 1 / 8, upper = 1 / 3, training = false): Tensor => T.rrelu_(input(x), lower, upper, training);
/** In place: y = x where x > threshold, else value. */
export const threshold_ = (x: Tensor, threshold: number, value: number): Tensor => T.threshold_(input(x), threshold, value);
