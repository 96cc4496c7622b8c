/** ReduceLROnPlateau, as torch.optim.lr_scheduler's: the lr × factor once a metric stops improving for `patience` epochs. */
import { describe } from '../../core/dtype';
import { signature, type ArgsOf } from '../../core/signature';
import { Optimizer } from '../optimizer';
import type { AnyOptimizer } from './base';

export type PlateauFields = {
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLr: number | number[];
  eps: number;
};
const PLATEAU = signature<PlateauFields>()(
  'ReduceLROnPlateau',
  ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'],
  { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8 },
);

/** Reduces each group's lr by factor after `patience` epochs without improvement of the metric passed to step(metric). */
export class ReduceLROnPlateau {
  factor: number;
  minLrs: number[];
  defaultMinLr: number | null;
  patience: number;
  cooldown: number;
  cooldownCounter = 0;
  mode: 'min' | 'max';
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  best: number;
  numBadEpochs = 0;
  modeWorse: number;
  eps: number;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: AnyOptimizer,
    ...rest: ArgsOf<typeof PLATEAU>
  ) {
    const a = PLATEAU.bind(rest);
    if (a.factor >= 1.0) throw new RangeError('Factor should be < 1.0.');
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${describe(optimizer)} is not an Optimizer`);
    this.factor = a.factor;
    const n = optimizer.paramGroups.length;
    if (Array.isArray(a.minLr)) {
      if (a.minLr.length !== n) throw new RangeError(`expected ${n} min_lrs, got ${a.minLr.length}`);
      this.defaultMinLr = null;
      this.minLrs = [...a.minLr];
    } else {
      this.defaultMinLr = a.minLr;
      this.minLrs = new Array<number>(n).fill(a.minLr);
    }
    this.patience = a.patience;
    this.cooldown = a.cooldown;
    this.eps = a.eps;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
    if (a.mode !== 'min' && a.mode !== 'max') throw new RangeError(`mode ${String(a.mode)} is unknown!`);
    if (a.thresholdMode !== 'rel' && a.thresholdMode !== 'abs') throw new RangeError(`threshold mode ${String(a.thresholdMode)} is unknown!`);
    this.mode = a.mode;
    this.threshold = a.threshold;
    this.thresholdMode = a.thresholdMode;
    this.modeWorse = a.mode === 'min' ? Infinity : -Infinity;
    this.best = this.modeWorse;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1.0 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1.0) : a > best + this.threshold;
  }

  /** One epoch's metric (a number, or a 0-d tensor's value). */
  step(metrics: number | { item(): number | bigint | boolean }): void {
    const current = typeof metrics === 'number' ? metrics : Number(metrics.item());
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length) {
      if (this.defaultMinLr === null) {
        throw new RangeError(
          `The number of param groups in the \`optimizer\` (${groups.length}) differs from when \`ReduceLROnPlateau\` was ` +
            `initialized (${this.minLrs.length}), usually due to a new param group being added to the optimizer. Please modify the \`min_lrs\` ` +
            'field to match the length of the `optimizer` param groups.',
        );
      }
      this.minLrs = new Array<number>(groups.length).fill(this.defaultMinLr);
    }
    groups.forEach((g, i) => {
      const old = g.lr;
      const next = Math.max(old * this.factor, this.minLrs[i]);
      if (old - next > this.eps) g.lr = next;
    });
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Everything but the optimizer, with Python's key names. */
  stateDict(): Record<string, unknown> {
    return {
      factor: this.factor,
      min_lrs: [...this.minLrs],
      default_min_lr: this.defaultMinLr,
      patience: this.patience,
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      mode_worse: this.modeWorse,
      eps: this.eps,
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
    };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (!sd || typeof sd !== 'object') throw new TypeError('loadStateDict: expected a scheduler state dict');
    const num = (k: string) => (typeof sd[k] === 'number' ? (sd[k] as number) : undefined);
    this.factor = num('factor') ?? this.factor;
    if (Array.isArray(sd.min_lrs)) this.minLrs = sd.min_lrs.map(Number);
    if ('default_min_lr' in sd) this.defaultMinLr = sd.default_min_lr as number | null;
    this.patience = num('patience') ?? this.patience;
    this.cooldown = num('cooldown') ?? this.cooldown;
    this.cooldownCounter = num('cooldown_counter') ?? this.cooldownCounter;
    if (sd.mode === 'min' || sd.mode === 'max') this.mode = sd.mode;
    this.threshold = num('threshold') ?? this.threshold;
    if (sd.threshold_mode === 'rel' || sd.threshold_mode === 'abs') this.thresholdMode = sd.threshold_mode;
    this.best = num('best') ?? this.best;
    this.numBadEpochs = num('num_bad_epochs') ?? this.numBadEpochs;
    this.modeWorse = num('mode_worse') ?? this.modeWorse;
    this.eps = num('eps') ?? this.eps;
    this.lastEpoch = num('last_epoch') ?? this.lastEpoch;
    if (Array.isArray(sd._last_lr)) this.lastLr = sd._last_lr.map(Number);
  }
}
