/**
 * Activation layers, as torch.nn's activation.py. Most are a functional with stored arguments, so they
 * are declared as one line each: the Python signature, the forward, and the extra_repr. Each is a real
 * class (its name is Python's, `instanceof` works, its arguments are fields).
 */
import type { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { empty } from '../../generated/torch';
import { Module, Parameter } from '../module';
import * as F from '../functional';
import * as init from '../init';
import { pyFloat, pyRepr } from '../repr';
import { Signature, signature, type ArgsOf } from '../../core/signature';

export type ModuleClass<S, T> = { new (...args: ArgsOf<S>): Module & Readonly<T> & { forward(input: Tensor): Tensor } };

/** A module class named `name` whose fields are the signature's arguments. */
export function functionalModule<T extends object, N extends readonly (keyof T & string)[]>(
  name: string,
  sig: Signature<T, N>,
  forward: (input: Tensor, a: T) => Tensor,
  repr: (a: T) => string = () => '',
  check: (a: T) => void = () => {},
): ModuleClass<Signature<T, N>, T> {
  // An instance has T's fields (Object.assign in the constructor), which a class can't declare for a type
  // parameter: its methods declare `this` to have them, and the one assertion, at the return, says its instances do.
  const cls = {
    [name]: class extends Module {
      constructor(...args: unknown[]) {
        super();
        const a = sig.bind(args);
        check(a);
        Object.assign(this, a);
      }
      forward(this: Module & T, input: Tensor): Tensor {
        return forward(input, this);
      }
      override extraRepr(this: Module & T): string {
        return repr(this);
      }
    },
  }[name];
  return cls as new (...args: ArgsOf<Signature<T, N>>) => InstanceType<typeof cls> & T;
}

const inplaceStr = (a: { inplace: boolean }, lead = ', ') => (a.inplace ? `${lead}inplace=True` : '');
const inplaceOnly = (name: string, f: (x: Tensor, inplace: boolean) => Tensor) =>
  functionalModule(
    name,
    signature<{ inplace: boolean }>()(name, ['inplace'], { inplace: false }),
    (x, a) => f(x, a.inplace),
    (a) => inplaceStr(a, ''),
  );
const plain = (name: string, f: (x: Tensor) => Tensor) => functionalModule(name, signature<object>()(name, [], {}), (x) => f(x));

/** max(x, 0), as torch.nn.ReLU(inplace). */
export const ReLU = inplaceOnly('ReLU', (x, inplace) => F.relu(x, inplace));
/** min(max(x, 0), 6), as torch.nn.ReLU6(inplace). */
export const ReLU6 = inplaceOnly('ReLU6', (x, inplace) => F.relu6(x, inplace));
/** As torch.nn.SELU(inplace). */
export const SELU = inplaceOnly('SELU', (x, inplace) => F.selu(x, inplace));
/** x · sigmoid(x), as torch.nn.SiLU(inplace). */
export const SiLU = inplaceOnly('SiLU', (x, inplace) => F.silu(x, inplace));
/** x · tanh(softplus(x)), as torch.nn.Mish(inplace). */
export const Mish = inplaceOnly('Mish', (x, inplace) => F.mish(x, inplace));
/** x · hardsigmoid(x), as torch.nn.Hardswish(inplace). */
export const Hardswish = inplaceOnly('Hardswish', (x, inplace) => F.hardswish(x, inplace));
/** The piecewise-linear sigmoid, as torch.nn.Hardsigmoid(inplace). */
export const Hardsigmoid = inplaceOnly('Hardsigmoid', (x, inplace) => F.hardsigmoid(x, inplace));
/** As torch.nn.Sigmoid. */
export const Sigmoid = plain('Sigmoid', F.sigmoid);
/** As torch.nn.Tanh. */
export const Tanh = plain('Tanh', F.tanh);
/** As torch.nn.LogSigmoid. */
export const LogSigmoid = plain('LogSigmoid', F.logsigmoid);
/** x − tanh(x), as torch.nn.Tanhshrink. */
export const Tanhshrink = plain('Tanhshrink', F.tanhshrink);
/** x / (1 + |x|), as torch.nn.Softsign. */
export const Softsign = plain('Softsign', F.softsign);

export type AlphaFields = { alpha: number; inplace: boolean };
/** As torch.nn.ELU(alpha, inplace). */
export const ELU = functionalModule(
  'ELU',
  signature<AlphaFields>()('ELU', ['alpha', 'inplace'], { alpha: 1, inplace: false }),
  (x, a) => F.elu(x, a.alpha, a.inplace),
  (a) => `alpha=${pyFloat(a.alpha)}${inplaceStr(a)}`,
);
/** As torch.nn.CELU(alpha, inplace). */
export const CELU = functionalModule(
  'CELU',
  signature<AlphaFields>()('CELU', ['alpha', 'inplace'], { alpha: 1, inplace: false }),
  (x, a) => F.celu(x, a.alpha, a.inplace),
  (a) => `alpha=${pyFloat(a.alpha)}${inplaceStr(a)}`,
);
/** As torch.nn.LeakyReLU(negativeSlope, inplace). */
export const LeakyReLU = functionalModule(
  'LeakyReLU',
  signature<{ negativeSlope: number; inplace: boolean }>()('LeakyReLU', ['negativeSlope', 'inplace'], { negativeSlope: 0.01, inplace: false }),
  (x, a) => F.leakyRelu(x, a.negativeSlope, a.inplace),
  (a) => `negative_slope=${pyFloat(a.negativeSlope)}${inplaceStr(a)}`,
);
/** Randomised leaky ReLU, as torch.nn.RReLU(lower, upper, inplace). */
export const RReLU = functionalModule(
  'RReLU',
  signature<{ lower: number; upper: number; inplace: boolean }>()('RReLU', ['lower', 'upper', 'inplace'], {
    lower: 1 / 8,
    upper: 1 / 3,
    inplace: false,
  }),
  (x, a) => F.rrelu(x, a.lower, a.upper, a instanceof Module && a.training, a.inplace), // `a` is the module itself
  (a) => `lower=${pyFloat(a.lower)}, upper=${pyFloat(a.upper)}${inplaceStr(a)}`,
);
/** Clamps to [minVal, maxVal], as torch.nn.Hardtanh(minVal, maxVal, inplace). */
export const Hardtanh = functionalModule(
  'Hardtanh',
  signature<{ minVal: number; maxVal: number; inplace: boolean }>()('Hardtanh', ['minVal', 'maxVal', 'inplace'], {
    minVal: -1,
    maxVal: 1,
    inplace: false,
  }),
  (x, a) => F.hardtanh(x, a.minVal, a.maxVal, a.inplace),
  (a) => `min_val=${pyFloat(a.minVal)}, max_val=${pyFloat(a.maxVal)}${inplaceStr(a)}`,
  (a) => {
    if (a.maxVal <= a.minVal) throw new RangeError('max_val must be greater than min_val');
  },
);
/** As torch.nn.Softplus(beta, threshold). */
export const Softplus = functionalModule(
  'Softplus',
  signature<{ beta: number; threshold: number }>()('Softplus', ['beta', 'threshold'], { beta: 1, threshold: 20 }),
  (x, a) => F.softplus(x, a.beta, a.threshold),
  (a) => `beta=${pyFloat(a.beta)}, threshold=${pyFloat(a.threshold)}`,
);
/** As torch.nn.Hardshrink(lambd). */
export const Hardshrink = functionalModule(
  'Hardshrink',
  signature<{ lambd: number }>()('Hardshrink', ['lambd'], { lambd: 0.5 }),
  (x, a) => F.hardshrink(x, a.lambd),
  (a) => pyFloat(a.lambd),
);
/** As torch.nn.Softshrink(lambd). */
export const Softshrink = functionalModule(
  'Softshrink',
  signature<{ lambd: number }>()('Softshrink', ['lambd'], { lambd: 0.5 }),
  (x, a) => F.softshrink(x, a.lambd),
  (a) => pyFloat(a.lambd),
);
/** The Gaussian error linear unit, as torch.nn.GELU(approximate: 'none' | 'tanh'). */
export const GELU = functionalModule(
  'GELU',
  signature<{ approximate: 'none' | 'tanh' }>()('GELU', ['approximate'], { approximate: 'none' }),
  (x, a) => F.gelu(x, a.approximate),
  (a) => `approximate=${pyRepr(a.approximate)}`,
);
/** The gated linear unit over `dim`, as torch.nn.GLU(dim). */
export const GLU = functionalModule(
  'GLU',
  signature<{ dim: number }>()('GLU', ['dim'], { dim: -1 }),
  (x, a) => F.glu(x, a.dim),
  (a) => `dim=${a.dim}`,
);

const dimSig = (name: string) => signature<{ dim: number | null }>()(name, ['dim'], { dim: null });
/** Softmax along `dim`, as torch.nn.Softmax(dim). */
export const Softmax = functionalModule(
  'Softmax',
  dimSig('Softmax'),
  (x, a) => F.softmax(x, a.dim),
  (a) => `dim=${pyRepr(a.dim)}`,
);
/** Softmax of −x along `dim`, as torch.nn.Softmin(dim). */
export const Softmin = functionalModule(
  'Softmin',
  dimSig('Softmin'),
  (x, a) => F.softmin(x, a.dim),
  (a) => `dim=${pyRepr(a.dim)}`,
);
/** log(softmax) along `dim`, as torch.nn.LogSoftmax(dim). */
export const LogSoftmax = functionalModule(
  'LogSoftmax',
  dimSig('LogSoftmax'),
  (x, a) => F.logSoftmax(x, a.dim),
  (a) => `dim=${pyRepr(a.dim)}`,
);
/** Softmax over the channels of (C, H, W) or (N, C, H, W), as torch.nn.Softmax2d. */
export const Softmax2d = plain('Softmax2d', (x) => {
  if (x.ndim !== 3 && x.ndim !== 4) throw new RangeError(`Softmax2d: expected input to be 3D or 4D, got ${x.ndim}D instead`);
  return F.softmax(x, -3);
});

const PRELU = signature<{ numParameters: number; init: number; device: string | null; dtype: Dtype | null }>()(
  'PReLU',
  ['numParameters', 'init', 'device', 'dtype'],
  { numParameters: 1, init: 0.25, device: null, dtype: null },
);
/** Leaky ReLU with a learnt slope (one, or one per channel), as torch.nn.PReLU(numParameters, init). */
export class PReLU extends Module {
  declare weight: Parameter;
  readonly numParameters: number;
  readonly init: number;
  constructor(...rest: ArgsOf<typeof PRELU>) {
    super();
    const a = PRELU.bind(rest);
    this.numParameters = a.numParameters;
    this.init = a.init;
    this.weight = new Parameter(empty([a.numParameters], { device: a.device ?? undefined, dtype: a.dtype ?? undefined }));
    this.resetParameters();
  }
  resetParameters(): void {
    init.constant_(this.weight, this.init);
  }
  forward(input: Tensor): Tensor {
    return F.prelu(input, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

const THRESHOLD = signature<{ inplace: boolean }>()('Threshold', ['inplace'], { inplace: false });
/** y = x where x > threshold, else value, as torch.nn.Threshold(threshold, value, inplace). */
export class Threshold extends Module {
  readonly inplace: boolean;
  constructor(
    readonly threshold: number,
    readonly value: number,
    ...rest: ArgsOf<typeof THRESHOLD>
  ) {
    super();
    this.inplace = THRESHOLD.bind(rest).inplace;
  }
  forward(input: Tensor): Tensor {
    return F.threshold(input, this.threshold, this.value, this.inplace);
  }
  override extraRepr(): string {
    return `threshold=${pyRepr(this.threshold)}, value=${pyRepr(this.value)}${inplaceStr(this)}`;
  }
}

// Each class above as a type too (`let act: ReLU`), as a class declaration gives.
export type CELU = InstanceType<typeof CELU>;
export type ELU = InstanceType<typeof ELU>;
export type GELU = InstanceType<typeof GELU>;
export type GLU = InstanceType<typeof GLU>;
export type Hardshrink = InstanceType<typeof Hardshrink>;
export type Hardsigmoid = InstanceType<typeof Hardsigmoid>;
export type Hardswish = InstanceType<typeof Hardswish>;
export type Hardtanh = InstanceType<typeof Hardtanh>;
export type LeakyReLU = InstanceType<typeof LeakyReLU>;
export type LogSigmoid = InstanceType<typeof LogSigmoid>;
export type LogSoftmax = InstanceType<typeof LogSoftmax>;
export type Mish = InstanceType<typeof Mish>;
export type RReLU = InstanceType<typeof RReLU>;
export type ReLU = InstanceType<typeof ReLU>;
export type ReLU6 = InstanceType<typeof ReLU6>;
export type SELU = InstanceType<typeof SELU>;
export type SiLU = InstanceType<typeof SiLU>;
export type Sigmoid = InstanceType<typeof Sigmoid>;
export type Softmax = InstanceType<typeof Softmax>;
export type Softmax2d = InstanceType<typeof Softmax2d>;
export type Softmin = InstanceType<typeof Softmin>;
export type Softplus = InstanceType<typeof Softplus>;
export type Softshrink = InstanceType<typeof Softshrink>;
export type Softsign = InstanceType<typeof Softsign>;
export type Tanh = InstanceType<typeof Tanh>;
export type Tanhshrink = InstanceType<typeof Tanhshrink>;
