/** Schedules made of schedules, as torch.optim.lr_scheduler's SequentialLR and ChainedScheduler. */
import { LRScheduler, type AnyOptimizer } from './base';

function checkSchedulers(who: string, schedulers: LRScheduler[], optimizer: AnyOptimizer): void {
  if (!Array.isArray(schedulers) || schedulers.length < 1) throw new RangeError(`${who} expects at least one scheduler, but got no scheduler.`);
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRScheduler)) {
      throw new TypeError(`${who} at index ${i} should be an LRScheduler (ReduceLROnPlateau steps on a metric and cannot be sequenced)`);
    }
    if (s.optimizer !== optimizer) {
      throw new RangeError(
        `${who} expects all schedulers to belong to the same optimizer, but got scheduler ${s.constructor.name} at index ${i} ` +
          `with another optimizer.`,
      );
    }
  });
}

/** One scheduler after another: schedulers[i] runs from milestones[i − 1] until milestones[i]. */
export class SequentialLR {
  lastEpoch: number;
  private lastLr: number[];
  constructor(
    readonly optimizer: AnyOptimizer,
    readonly schedulers: LRScheduler[],
    readonly milestones: number[],
    lastEpoch = -1,
  ) {
    checkSchedulers('SequentialLR', schedulers, optimizer);
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(
        'Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but ' +
          `got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${Array.isArray(milestones) ? milestones.length : 0}`,
      );
    }
    this.lastEpoch = lastEpoch + 1;
    // as Python: back to each group's initial lr, the schedulers' own first steps undone, the first one started
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of schedulers) s.lastEpoch -= 1;
    const first = schedulers[this.index(0)];
    first.initialStep();
    this.lastLr = first.getLastLr();
  }
  private index(epoch: number): number {
    let i = 0;
    while (i < this.milestones.length && this.milestones[i] <= epoch) i++;
    return i;
  }
  step(): void {
    this.lastEpoch += 1;
    const i = this.index(this.lastEpoch);
    const s = this.schedulers[i];
    if (i > 0 && this.milestones[i - 1] === this.lastEpoch) s.updateLr(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }
  getLastLr(): number[] {
    return [...this.lastLr];
  }
  stateDict(): Record<string, unknown> {
    return {
      _milestones: [...this.milestones],
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
      _schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (!sd || typeof sd !== 'object') throw new TypeError('loadStateDict: expected a scheduler state dict');
    if (typeof sd.last_epoch === 'number') this.lastEpoch = sd.last_epoch;
    if (Array.isArray(sd._last_lr)) this.lastLr = sd._last_lr.map(Number);
    if (Array.isArray(sd._schedulers)) sd._schedulers.forEach((s, i) => this.schedulers[i]?.loadStateDict(s as Record<string, unknown>));
  }
}

/** Several schedulers stepped together, each applying its change to the lr the previous one left. */
export class ChainedScheduler {
  readonly optimizer: AnyOptimizer;
  private lastLr: number[];
  constructor(
    readonly schedulers: LRScheduler[],
    optimizer?: AnyOptimizer,
  ) {
    this.optimizer = optimizer ?? schedulers?.[0]?.optimizer;
    checkSchedulers('ChainedScheduler', schedulers, this.optimizer);
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  getLastLr(): number[] {
    return [...this.lastLr];
  }
  stateDict(): Record<string, unknown> {
    return { _last_lr: [...this.lastLr], _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (!sd || typeof sd !== 'object') throw new TypeError('loadStateDict: expected a scheduler state dict');
    if (Array.isArray(sd._last_lr)) this.lastLr = sd._last_lr.map(Number);
    if (Array.isArray(sd._schedulers)) sd._schedulers.forEach((s, i) => this.schedulers[i]?.loadStateDict(s as Record<string, unknown>));
  }
}
