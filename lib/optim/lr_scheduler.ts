/**
 * torch.optim.lr_scheduler: StepLR, MultiStepLR, CosineAnnealingLR, ExponentialLR, LinearLR, LambdaLR —
 * PyTorch's chainable formulas in the same order of float operations, with the C library's cos and pow
 * as Python's math uses, so the lr sequence is Python's to the bit.
 */
import { describe } from '../dtype';
import { intArg, numberArg, optionsArg, pyOptions, type PyRest } from '../tensor';
import { native } from '../native';
import { Optimizer } from './optimizer';

// math.cos as Python computes it (V8's Math.cos can differ in the last bit).
const cos = (x: number): number => native.libmCos(x);

/** An optimizer whose param groups have an `lr` (every torch.optim optimizer). */
export type AnyOptimizer = Optimizer<{ lr: number }>;

/** Base of the learning-rate schedules, as torch.optim.lr_scheduler.LRScheduler: step() once per epoch after the optimizer's steps; getLastLr(); stateDict()/loadStateDict(). */
export abstract class LRScheduler {
  baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  protected isInitial = false;
  private lastLr: number[] = [];

  constructor(readonly optimizer: AnyOptimizer, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${describe(optimizer)} is not an Optimizer`);
    intArg(lastEpoch, 'lastEpoch');
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new RangeError(`param 'initial_lr' is not specified in param_groups[${i}] when resuming a scheduler with lastEpoch >= 0`);
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** PyTorch's _initial_step: every subclass constructor ends with it. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }

  /** The next learning rate of each group. */
  protected abstract getLr(): number[];

  /** Advances one epoch (call after optimizer.step()) and sets each group's lr. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Everything but the optimizer, with PyTorch's key names. */
  stateDict(): Record<string, unknown> {
    return {
      base_lrs: [...this.baseLrs], last_epoch: this.lastEpoch, _step_count: this.stepCount, _is_initial: this.isInitial,
      _get_lr_called_within_step: false, _last_lr: [...this.lastLr], ...this.extraState(),
    };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (!sd || typeof sd !== 'object') throw new TypeError('loadStateDict: expected a scheduler state dict');
    if (Array.isArray(sd.base_lrs)) this.baseLrs = sd.base_lrs.map(Number);
    if (typeof sd.last_epoch === 'number') this.lastEpoch = sd.last_epoch;
    if (typeof sd._step_count === 'number') this.stepCount = sd._step_count;
    if (Array.isArray(sd._last_lr)) this.lastLr = sd._last_lr.map(Number);
    this.loadExtraState(sd);
  }
  protected abstract extraState(): Record<string, unknown>;
  protected abstract loadExtraState(sd: Record<string, unknown>): void;
}

/** lr × gamma every stepSize epochs (the seeds: StepLR(30, 0.1), StepLR(5, 0.1)). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[stepSize: number, gamma: number, lastEpoch: number], { stepSize?: number; gamma?: number; lastEpoch?: number }>) {
    const options = pyOptions('StepLR', rest, ['stepSize', 'gamma', 'lastEpoch']);
    const opts = optionsArg<{ stepSize?: number; gamma?: number; lastEpoch?: number }>(options, 'StepLR', ['stepSize', 'gamma', 'lastEpoch'], '{stepSize: 30}');
    super(optimizer, opts.lastEpoch ?? -1);
    this.stepSize = intArg(opts.stepSize, 'stepSize');
    if (this.stepSize <= 0) throw new RangeError(`stepSize must be positive (got ${this.stepSize})`);
    this.gamma = numberArg(opts.gamma ?? 0.1, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
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
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[milestones: number[], gamma: number, lastEpoch: number], { milestones?: number[]; gamma?: number; lastEpoch?: number }>) {
    const options = pyOptions('MultiStepLR', rest, ['milestones', 'gamma', 'lastEpoch']);
    const opts = optionsArg<{ milestones?: number[]; gamma?: number; lastEpoch?: number }>(options, 'MultiStepLR', ['milestones', 'gamma', 'lastEpoch'], '{milestones: [30, 80]}');
    super(optimizer, opts.lastEpoch ?? -1);
    if (!Array.isArray(opts.milestones)) throw new TypeError('milestones must be an array of epochs');
    this.milestones = new Map();
    for (const m of opts.milestones) this.milestones.set(intArg(m, 'milestones'), (this.milestones.get(m) ?? 0) + 1);
    this.gamma = numberArg(opts.gamma ?? 0.1, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * native.libmPow(this.gamma, count));
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
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[tMax: number, etaMin: number, lastEpoch: number], { tMax?: number; etaMin?: number; lastEpoch?: number }>) {
    const options = pyOptions('CosineAnnealingLR', rest, ['tMax', 'etaMin', 'lastEpoch']);
    const opts = optionsArg<{ tMax?: number; etaMin?: number; lastEpoch?: number }>(options, 'CosineAnnealingLR', ['tMax', 'etaMin', 'lastEpoch'], '{tMax: 100}');
    super(optimizer, opts.lastEpoch ?? -1);
    this.tMax = intArg(opts.tMax, 'tMax');
    if (this.tMax <= 0) throw new RangeError(`tMax must be positive (got ${this.tMax})`);
    this.etaMin = numberArg(opts.etaMin ?? 0, 'etaMin');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    if (this.isInitial) return this.groupLrs();
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((base) => etaMin + (base - etaMin) * (1 + cos((lastEpoch * Math.PI) / tMax)) / 2);
    }
    if ((((lastEpoch - 1 - tMax) % (2 * tMax)) + 2 * tMax) % (2 * tMax) === 0) {
      return this.groupLrs().map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - cos(Math.PI / tMax))) / 2);
    }
    return this.groupLrs().map((lr) =>
      ((1 + cos((Math.PI * lastEpoch) / tMax)) / (1 + cos((Math.PI * (lastEpoch - 1)) / tMax))) * (lr - etaMin) + etaMin);
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
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[gamma: number, lastEpoch: number], { gamma?: number; lastEpoch?: number }>) {
    const options = pyOptions('ExponentialLR', rest, ['gamma', 'lastEpoch']);
    const opts = optionsArg<{ gamma?: number; lastEpoch?: number }>(options, 'ExponentialLR', ['gamma', 'lastEpoch'], '{gamma: 0.9}');
    super(optimizer, opts.lastEpoch ?? -1);
    this.gamma = numberArg(opts.gamma, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
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
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[startFactor: number, endFactor: number, totalIters: number, lastEpoch: number], { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number }>) {
    const options = pyOptions('LinearLR', rest, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    const opts = optionsArg<{ startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number }>(options, 'LinearLR', ['startFactor', 'endFactor', 'totalIters', 'lastEpoch'], '{startFactor: 0.1}');
    super(optimizer, opts.lastEpoch ?? -1);
    this.startFactor = numberArg(opts.startFactor ?? 1 / 3, 'startFactor');
    this.endFactor = numberArg(opts.endFactor ?? 1, 'endFactor');
    this.totalIters = intArg(opts.totalIters ?? 5, 'totalIters');
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
  constructor(optimizer: AnyOptimizer, ...rest: PyRest<[lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], lastEpoch: number], { lrLambda?: ((epoch: number) => number) | ((epoch: number) => number)[]; lastEpoch?: number }>) {
    const options = pyOptions('LambdaLR', rest, ['lrLambda', 'lastEpoch']);
    const opts = optionsArg<{ lrLambda?: ((epoch: number) => number) | ((epoch: number) => number)[]; lastEpoch?: number }>(options, 'LambdaLR', ['lrLambda', 'lastEpoch'], '{lrLambda: (epoch) => 0.95 ** epoch}');
    super(optimizer, opts.lastEpoch ?? -1);
    const groups = optimizer.paramGroups.length;
    const fns = Array.isArray(opts.lrLambda) ? opts.lrLambda : Array.from({ length: groups }, () => opts.lrLambda);
    if (fns.length !== groups) throw new RangeError(`Expected ${groups} lrLambdas, but got ${fns.length}`);
    fns.forEach((f, i) => {
      if (typeof f !== 'function') throw new TypeError(`lrLambda${Array.isArray(opts.lrLambda) ? `[${i}]` : ''} must be a function (got ${describe(f)})`);
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
