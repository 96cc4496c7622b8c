/**
 * The schedules that are one formula of the epoch: StepLR, MultiStepLR, CosineAnnealingLR, ExponentialLR,
 * LinearLR, LambdaLR, MultiplicativeLR, ConstantLR and PolynomialLR, as torch.optim.lr_scheduler's.
 */
import { describe } from '../../core/dtype';
import { intArg, numberArg } from '../../core/args';
import { signature, type ArgsOf } from '../../core/signature';
import { LRScheduler, cos, pow, type AnyOptimizer } from './base';

/** A schedule multiplier of the epoch (LambdaLR, MultiplicativeLR). */
export type LrLambda = (epoch: number) => number;
// Python's signatures (torch.optim.lr_scheduler): positional order and defaults; undefined = required.
const STEP = signature<{ stepSize: number | undefined; gamma: number; lastEpoch: number }>()('StepLR', ['stepSize', 'gamma', 'lastEpoch'], {
  stepSize: undefined,
  gamma: 0.1,
  lastEpoch: -1,
});
const MULTI_STEP = signature<{ milestones: number[] | undefined; gamma: number; lastEpoch: number }>()(
  'MultiStepLR',
  ['milestones', 'gamma', 'lastEpoch'],
  { milestones: undefined, gamma: 0.1, lastEpoch: -1 },
);
const COSINE = signature<{ tMax: number | undefined; etaMin: number; lastEpoch: number }>()('CosineAnnealingLR', ['tMax', 'etaMin', 'lastEpoch'], {
  tMax: undefined,
  etaMin: 0,
  lastEpoch: -1,
});
const EXPONENTIAL = signature<{ gamma: number | undefined; lastEpoch: number }>()('ExponentialLR', ['gamma', 'lastEpoch'], {
  gamma: undefined,
  lastEpoch: -1,
});
const LINEAR = signature<{ startFactor: number; endFactor: number; totalIters: number; lastEpoch: number }>()(
  'LinearLR',
  ['startFactor', 'endFactor', 'totalIters', 'lastEpoch'],
  { startFactor: 1 / 3, endFactor: 1, totalIters: 5, lastEpoch: -1 },
);
export type LambdaFields = { lrLambda: LrLambda | LrLambda[] | undefined; lastEpoch: number };
const LAMBDA = signature<LambdaFields>()('LambdaLR', ['lrLambda', 'lastEpoch'], { lrLambda: undefined, lastEpoch: -1 });
const MULTIPLICATIVE = signature<LambdaFields>()('MultiplicativeLR', ['lrLambda', 'lastEpoch'], { lrLambda: undefined, lastEpoch: -1 });
const CONSTANT = signature<{ factor: number; totalIters: number; lastEpoch: number }>()('ConstantLR', ['factor', 'totalIters', 'lastEpoch'], {
  factor: 1 / 3,
  totalIters: 5,
  lastEpoch: -1,
});
const POLYNOMIAL = signature<{ totalIters: number; power: number; lastEpoch: number }>()('PolynomialLR', ['totalIters', 'power', 'lastEpoch'], {
  totalIters: 5,
  power: 1,
  lastEpoch: -1,
});

/** An integer argument that must be positive (StepLR's stepSize, CosineAnnealingLR's tMax). */
function positiveInt(v: unknown, argName: string): number {
  const n = intArg(v, argName);
  if (n <= 0) throw new RangeError(`${argName} must be positive (got ${n})`);
  return n;
}

/** lr × gamma every stepSize epochs (e.g. StepLR(30, 0.1) for a 90-epoch ImageNet run). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof STEP>) {
    const a = STEP.bind(rest);
    super(optimizer, a.lastEpoch);
    this.stepSize = positiveInt(a.stepSize, 'stepSize');
    this.gamma = numberArg(a.gamma, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pow(this.gamma, Math.floor(this.lastEpoch / this.stepSize)));
  }
  protected extraState() {
    return { step_size: this.stepSize, gamma: this.gamma };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.step_size === 'number') this.stepSize = sd.step_size;
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

/** lr × gamma at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  milestones: Map<number, number>;
  gamma: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof MULTI_STEP>) {
    const a = MULTI_STEP.bind(rest);
    super(optimizer, a.lastEpoch);
    if (!Array.isArray(a.milestones)) throw new TypeError('milestones must be an array of epochs');
    this.milestones = new Map();
    for (const m of a.milestones) this.milestones.set(intArg(m, 'milestones'), (this.milestones.get(m) ?? 0) + 1);
    this.gamma = numberArg(a.gamma, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * pow(this.gamma, count));
  }
  protected override closedFormLr(): number[] {
    let passed = 0;
    for (const [m, count] of this.milestones) if (m <= this.lastEpoch) passed += count;
    return this.baseLrs.map((base) => base * pow(this.gamma, passed));
  }
  protected extraState() {
    return { milestones: Object.fromEntries(this.milestones), gamma: this.gamma };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (sd.milestones && typeof sd.milestones === 'object') {
      this.milestones = new Map(Object.entries(sd.milestones as Record<string, number>).map(([k, v]) => [Number(k), v]));
    }
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

/** Cosine annealing from the base lr to etaMin over tMax epochs (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof COSINE>) {
    const a = COSINE.bind(rest);
    super(optimizer, a.lastEpoch);
    this.tMax = positiveInt(a.tMax, 'tMax');
    this.etaMin = numberArg(a.etaMin, 'etaMin');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    if (this.isInitial) return this.groupLrs();
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + cos((lastEpoch * Math.PI) / tMax))) / 2);
    }
    if ((((lastEpoch - 1 - tMax) % (2 * tMax)) + 2 * tMax) % (2 * tMax) === 0) {
      return this.groupLrs().map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - cos(Math.PI / tMax))) / 2);
    }
    return this.groupLrs().map(
      (lr) => ((1 + cos((Math.PI * lastEpoch) / tMax)) / (1 + cos((Math.PI * (lastEpoch - 1)) / tMax))) * (lr - etaMin) + etaMin,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
  protected extraState() {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.T_max === 'number') this.tMax = sd.T_max;
    if (typeof sd.eta_min === 'number') this.etaMin = sd.eta_min;
  }
}

/** lr × gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof EXPONENTIAL>) {
    const a = EXPONENTIAL.bind(rest);
    super(optimizer, a.lastEpoch);
    this.gamma = numberArg(a.gamma, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pow(this.gamma, this.lastEpoch));
  }
  protected extraState() {
    return { gamma: this.gamma };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

/** The lr scaled by a factor going linearly from startFactor to endFactor over totalIters epochs (a warm-up). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof LINEAR>) {
    const a = LINEAR.bind(rest);
    super(optimizer, a.lastEpoch);
    this.startFactor = numberArg(a.startFactor, 'startFactor');
    this.endFactor = numberArg(a.endFactor, 'endFactor');
    this.totalIters = intArg(a.totalIters, 'totalIters');
    if (this.startFactor > 1 || this.startFactor <= 0) throw new RangeError(`startFactor must be in (0, 1] (got ${this.startFactor})`);
    if (this.endFactor > 1 || this.endFactor < 0) throw new RangeError(`endFactor must be in [0, 1] (got ${this.endFactor})`);
    this.initialStep();
  }
  protected getLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    if (lastEpoch === 0) return this.groupLrs().map((lr) => lr * startFactor);
    if (this.isInitial || lastEpoch > totalIters) return this.groupLrs();
    const factor = 1 + (endFactor - startFactor) / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor));
    return this.groupLrs().map((lr) => lr * factor);
  }
  protected override closedFormLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    return this.baseLrs.map((base) => base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, lastEpoch)) / totalIters));
  }
  protected extraState() {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.start_factor === 'number') this.startFactor = sd.start_factor;
    if (typeof sd.end_factor === 'number') this.endFactor = sd.end_factor;
    if (typeof sd.total_iters === 'number') this.totalIters = sd.total_iters;
  }
}

/** The base lr × lrLambda(epoch): one function, or one per param group. */
export class LambdaLR extends LRScheduler {
  lrLambdas: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof LAMBDA>) {
    const opts = LAMBDA.bind(rest);
    super(optimizer, opts.lastEpoch);
    const groups = optimizer.paramGroups.length;
    const fns = Array.isArray(opts.lrLambda) ? opts.lrLambda : Array.from({ length: groups }, () => opts.lrLambda);
    if (fns.length !== groups) throw new RangeError(`Expected ${groups} lrLambdas, but got ${fns.length}`);
    fns.forEach((f, i) => {
      if (typeof f !== 'function')
        throw new TypeError(`lrLambda${Array.isArray(opts.lrLambda) ? `[${i}]` : ''} must be a function (got ${describe(f)})`);
    });
    this.lrLambdas = fns as ((epoch: number) => number)[];
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i](this.lastEpoch));
  }
  // As PyTorch: functions are not saved (one null per group).
  protected extraState() {
    return { lr_lambdas: this.lrLambdas.map(() => null) };
  }
  protected loadExtraState(): void {}
}

/** The lr × lrLambda(epoch) each epoch: one function, or one per param group. */
export class MultiplicativeLR extends LRScheduler {
  lrLambdas: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof MULTIPLICATIVE>) {
    const opts = MULTIPLICATIVE.bind(rest);
    const groups = optimizer.paramGroups.length;
    const fns = Array.isArray(opts.lrLambda) ? opts.lrLambda : Array.from({ length: groups }, () => opts.lrLambda);
    if (fns.length !== groups) throw new RangeError(`Expected ${groups} lr_lambdas, but got ${fns.length}`);
    fns.forEach((f) => {
      if (typeof f !== 'function') throw new TypeError(`lr_lambda should be a function, but got ${describe(f)}`);
    });
    super(optimizer, opts.lastEpoch);
    this.lrLambdas = fns as ((epoch: number) => number)[];
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial) return this.groupLrs();
    return this.groupLrs().map((lr, i) => lr * this.lrLambdas[i](this.lastEpoch));
  }
  protected extraState() {
    return { lr_lambdas: this.lrLambdas.map(() => null) };
  }
  protected loadExtraState(): void {}
}

/** The lr × factor until epoch totalIters, then the lr itself (a constant warm-up). */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof CONSTANT>) {
    const a = CONSTANT.bind(rest);
    const factor = numberArg(a.factor, 'factor');
    if (factor > 1 || factor < 0) throw new RangeError('Constant multiplicative factor expected to be between 0 and 1.');
    super(optimizer, a.lastEpoch);
    this.factor = factor;
    this.totalIters = intArg(a.totalIters, 'totalIters');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1.0 / this.factor));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * (this.factor + (this.lastEpoch >= this.totalIters ? 1 : 0) * (1 - this.factor)));
  }
  protected extraState() {
    return { factor: this.factor, total_iters: this.totalIters };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.factor === 'number') this.factor = sd.factor;
    if (typeof sd.total_iters === 'number') this.totalIters = sd.total_iters;
  }
}

/** The lr decayed by a polynomial of power over totalIters epochs. */
export class PolynomialLR extends LRScheduler {
  totalIters: number;
  power: number;
  constructor(optimizer: AnyOptimizer, ...rest: ArgsOf<typeof POLYNOMIAL>) {
    const a = POLYNOMIAL.bind(rest);
    super(optimizer, a.lastEpoch);
    this.totalIters = intArg(a.totalIters, 'totalIters');
    this.power = numberArg(a.power, 'power');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial || this.lastEpoch > this.totalIters) return this.groupLrs();
    const decay = pow((1.0 - this.lastEpoch / this.totalIters) / (1.0 - (this.lastEpoch - 1) / this.totalIters), this.power);
    return this.groupLrs().map((lr) => lr * decay);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pow(1.0 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters, this.power));
  }
  protected extraState() {
    return { total_iters: this.totalIters, power: this.power };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.total_iters === 'number') this.totalIters = sd.total_iters;
    if (typeof sd.power === 'number') this.power = sd.power;
  }
}
