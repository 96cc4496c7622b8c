/**
 * torch.optim.lr_scheduler's base: LRScheduler steps each param group's lr by a subclass's getLr() (PyTorch's
 * chainable formulas, in the same order of float operations, with the C library's cos and pow as Python's
 * math uses, so every lr sequence is Python's to the bit) and keeps Python's state-dict keys.
 */
import { describe } from '../../core/dtype';
import { intArg } from '../../core/args';
import { native } from '../../core/native';
import { Optimizer } from '../optimizer';

// math.cos as Python computes it (V8's Math.cos can differ in the last bit).
export const cos = (x: number): number => native.libmCos(x);
/** x ** y as Python's math.pow (the C library's). */
export const pow = (x: number, y: number): number => native.libmPow(x, y);

/** An optimizer whose param groups have an `lr` (every torch.optim optimizer). */
export type AnyOptimizer = Optimizer<{ lr: number }>;

/** Base of the learning-rate schedules, as torch.optim.lr_scheduler.LRScheduler: step() once per epoch after the optimizer's steps; getLastLr(); stateDict()/loadStateDict(). */
export abstract class LRScheduler {
  baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  protected isInitial = false;
  private lastLr: number[] = [];

  constructor(
    readonly optimizer: AnyOptimizer,
    lastEpoch = -1,
  ) {
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
  /** @internal */
  initialStep(): void {
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
    this.updateLr();
  }

  /**
   * @internal Python's _update_lr: the next epoch's lr; or, given an epoch, that epoch's lr from the
   * schedule's closed form where it has one (what SequentialLR uses at a milestone).
   */
  updateLr(epoch?: number): void {
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr?.() ?? this.getLr();
    }
    this.setLrs(values);
  }

  /** The lr of each group as a formula of lastEpoch alone, for the schedules that have one. */
  protected closedFormLr?(): number[];

  protected setLrs(values: number[]): void {
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
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      _step_count: this.stepCount,
      _is_initial: this.isInitial,
      _get_lr_called_within_step: false,
      _last_lr: [...this.lastLr],
      ...this.extraState(),
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
