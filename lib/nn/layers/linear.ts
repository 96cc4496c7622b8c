/** Linear layers, as torch.nn's linear.py: Identity, Linear and Bilinear with PyTorch's initialisation. */
import type { Tensor } from '../../core/tensor';
import type { Dtype } from '../../core/dtype';
import { empty } from '../../generated/torch';
import { Module, Parameter } from '../module';
import * as F from '../functional';
import { linearOp } from '../functional/raw';
import * as init from '../init';
import { pyRepr } from '../repr';
import { signature, type ArgsOf } from '../../core/signature';

export type LinearFields = { bias: boolean; device: string | null; dtype: Dtype | null };
const factory = (a: LinearFields) => ({ device: a.device ?? undefined, dtype: a.dtype ?? undefined });
const LINEAR = signature<LinearFields>()('Linear', ['bias', 'device', 'dtype'], { bias: true, device: null, dtype: null });
const BILINEAR = signature<LinearFields>()('Bilinear', ['bias', 'device', 'dtype'], { bias: true, device: null, dtype: null });

function features(v: unknown, name: string): number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative integer (got ${pyRepr(v)})`);
  return v;
}

/** Returns its input, as torch.nn.Identity (any arguments are ignored, as Python's). */
export class Identity extends Module {
  constructor(..._args: unknown[]) {
    super();
  }
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** y = x Wᵀ + b, as torch.nn.Linear(inFeatures, outFeatures, bias); PyTorch's initialisation. */
export class Linear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(inFeatures: number, outFeatures: number, ...rest: ArgsOf<typeof LINEAR>) {
    super();
    const a = LINEAR.bind(rest);
    this.inFeatures = features(inFeatures, 'inFeatures');
    this.outFeatures = features(outFeatures, 'outFeatures');
    this.weight = new Parameter(empty([outFeatures, inFeatures], factory(a)));
    this.bias = a.bias ? new Parameter(empty([outFeatures], factory(a))) : null;
    this.resetParameters();
  }
  /** kaiming_uniform_(a=√5), bias U(±1/√fan_in). */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }
  forward(input: Tensor): Tensor {
    return linearOp(input, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyRepr(this.bias !== null)}`;
  }
}

/** y = x1ᵀ A x2 + b, as torch.nn.Bilinear(in1Features, in2Features, outFeatures, bias). */
export class Bilinear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  constructor(
    readonly in1Features: number,
    readonly in2Features: number,
    readonly outFeatures: number,
    ...rest: ArgsOf<typeof BILINEAR>
  ) {
    super();
    const a = BILINEAR.bind(rest);
    this.weight = new Parameter(
      empty([features(outFeatures, 'outFeatures'), features(in1Features, 'in1Features'), features(in2Features, 'in2Features')], factory(a)),
    );
    this.bias = a.bias ? new Parameter(empty([outFeatures], factory(a))) : null;
    this.resetParameters();
  }
  /** U(±1/√in1Features) for weight and bias. */
  resetParameters(): void {
    if (this.in1Features <= 0) throw new RangeError(`in1_features must be > 0, but got (in1_features=${this.in1Features})`);
    const bound = 1 / Math.sqrt(this.weight.shape[1]);
    init.uniform_(this.weight, -bound, bound);
    if (this.bias) init.uniform_(this.bias, -bound, bound);
  }
  forward(input1: Tensor, input2: Tensor): Tensor {
    return F.bilinear(input1, input2, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${pyRepr(this.bias !== null)}`;
  }
}
