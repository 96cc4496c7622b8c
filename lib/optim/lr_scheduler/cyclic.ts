/**
 * The cyclic schedules, as torch.optim.lr_scheduler's: CosineAnnealingWarmRestarts (SGDR), CyclicLR and
 * OneCycleLR. The last two cycle the momentum too (SGD's momentum, or Adam's beta1) and keep their bounds
 * in the param groups under Python's names, as Python does.
 */
import { describe } from '../../core/dtype';
import { signature, type ArgsOf } from '../../core/signature';
import { LRScheduler, cos, pow, type AnyOptimizer } from './base';

/** A param group as these schedules use it: its options by name (they add Python's max_lr, base_momentum, …). */
type Group = Record<string, unknown> & { lr: number };

/** Python's _format_param: one value for every group, or a list with one per group. */
function perGroup(name: string, optimizer: AnyOptimizer, v: number | number[]): number[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(v)) {
    if (v.length !== n) throw new RangeError(`expected ${n} values for ${name}, got ${v.length}`);
    return [...v];
  }
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number or a list of numbers (got ${describe(v)})`);
  return new Array<number>(n).fill(v);
}

/** The momentum a cyclic schedule drives: SGD's momentum or Adam's beta1 (Python's use_beta1). */
function momentumKey(optimizer: AnyOptimizer): 'momentum' | 'betas' {
  const defaults = optimizer.defaults as Record<string, unknown>;
  if ('betas' in defaults) return 'betas';
  if ('momentum' in defaults) return 'momentum';
  throw new RangeError('optimizer must support momentum or beta1 with `cycleMomentum` option enabled');
}
function setMomentum(group: Group, key: 'momentum' | 'betas', m: number): void {
  if (key === 'betas') group.betas = [m, ...(group.betas as number[]).slice(1)];
  else group.momentum = m;
}

export type WarmRestartsFields = { tMult: number; etaMin: number; lastEpoch: number };
const WARM = signature<WarmRestartsFields>()('CosineAnnealingWarmRestarts', ['tMult', 'etaMin', 'lastEpoch'], { tMult: 1, etaMin: 0, lastEpoch: -1 });
/** Cosine annealing restarted every T_i epochs, T_i growing by tMult (SGDR), as CosineAnnealingWarmRestarts(optimizer, t0, tMult, etaMin). */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  t0: number;
  tI: number;
  tMult: number;
  etaMin: number;
  tCur: number;
  constructor(optimizer: AnyOptimizer, t0: number, ...rest: ArgsOf<typeof WARM>) {
    const a = WARM.bind(rest);
    if (!(Number.isInteger(t0) && t0 > 0)) throw new RangeError(`Expected positive integer T_0, but got ${t0}`);
    if (!(Number.isInteger(a.tMult) && a.tMult >= 1)) throw new RangeError(`Expected integer T_mult >= 1, but got ${a.tMult}`);
    if (typeof a.etaMin !== 'number') throw new RangeError(`Expected float or int eta_min, but got ${describe(a.etaMin)}`);
    super(optimizer, a.lastEpoch);
    this.t0 = t0;
    this.tI = t0;
    this.tMult = a.tMult;
    this.etaMin = a.etaMin;
    this.tCur = a.lastEpoch;
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + cos((Math.PI * this.tCur) / this.tI))) / 2);
  }
  /** Advances one epoch, or (as Python's step(epoch)) jumps to a fractional epoch within the restarts. */
  override step(epoch?: number): void {
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur %= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (epoch < 0) throw new RangeError(`Expected non-negative epoch, but got ${epoch}`);
      if (epoch >= this.t0) {
        if (this.tMult === 1) this.tCur = epoch % this.t0;
        else {
          const n = Math.trunc(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = epoch - (this.t0 * (pow(this.tMult, n) - 1)) / (this.tMult - 1);
          this.tI = this.t0 * pow(this.tMult, n);
        }
      } else {
        this.tI = this.t0;
        this.tCur = epoch;
      }
    }
    this.lastEpoch = Math.floor(epoch);
    this.setLrs(this.getLr());
  }
  protected extraState() {
    return { T_0: this.t0, T_i: this.tI, T_mult: this.tMult, eta_min: this.etaMin, T_cur: this.tCur };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    for (const [py, js] of [
      ['T_0', 't0'],
      ['T_i', 'tI'],
      ['T_mult', 'tMult'],
      ['eta_min', 'etaMin'],
      ['T_cur', 'tCur'],
    ] as const) {
      if (typeof sd[py] === 'number') this[js] = sd[py] as number;
    }
  }
}

export type CyclicMode = 'triangular' | 'triangular2' | 'exp_range';
/** CyclicLR's built-in scale functions and the counter each is a function of (Python's _init_scale_fn). */
function builtinScale(mode: CyclicMode, gamma: number): [(x: number) => number, 'cycle' | 'iterations'] {
  if (mode === 'triangular2') return [(x) => 1 / pow(2.0, x - 1), 'cycle'];
  if (mode === 'exp_range') return [(x) => pow(gamma, x), 'iterations'];
  return [() => 1.0, 'cycle'];
}
export type CyclicFields = {
  stepSizeUp: number;
  stepSizeDown: number | null;
  mode: CyclicMode;
  gamma: number;
  scaleFn: ((x: number) => number) | null;
  scaleMode: 'cycle' | 'iterations';
  cycleMomentum: boolean;
  baseMomentum: number | number[];
  maxMomentum: number | number[];
  lastEpoch: number;
};
const CYCLIC = signature<CyclicFields>()(
  'CyclicLR',
  ['stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'lastEpoch'],
  {
    stepSizeUp: 2000,
    stepSizeDown: null,
    mode: 'triangular',
    gamma: 1,
    scaleFn: null,
    scaleMode: 'cycle',
    cycleMomentum: true,
    baseMomentum: 0.8,
    maxMomentum: 0.9,
    lastEpoch: -1,
  },
);
/** The lr cycling between baseLr and maxLr (the momentum the other way), as CyclicLR(optimizer, baseLr, maxLr, stepSizeUp, …); step per batch. */
export class CyclicLR extends LRScheduler {
  maxLrs: number[];
  totalSize: number;
  stepRatio: number;
  mode: CyclicMode;
  gamma: number;
  scaleMode: 'cycle' | 'iterations';
  cycleMomentum: boolean;
  baseMomentums: number[] = [];
  maxMomentums: number[] = [];
  private scaleFn: (x: number) => number;
  private readonly customScaleFn: boolean;
  private readonly momentumKey: 'momentum' | 'betas' | null;
  constructor(optimizer: AnyOptimizer, baseLr: number | number[], maxLr: number | number[], ...rest: ArgsOf<typeof CYCLIC>) {
    const a = CYCLIC.bind(rest);
    const baseLrs = perGroup('base_lr', optimizer, baseLr);
    const groups: Group[] = optimizer.paramGroups;
    if (a.lastEpoch === -1) groups.forEach((g, i) => (g.lr = baseLrs[i]));
    if (!['triangular', 'triangular2', 'exp_range'].includes(a.mode) && a.scaleFn === null)
      throw new RangeError('mode is invalid and scale_fn is None');
    const key = a.cycleMomentum ? momentumKey(optimizer) : null;
    const baseMomentums = key ? perGroup('base_momentum', optimizer, a.baseMomentum) : [];
    const maxMomentums = key ? perGroup('max_momentum', optimizer, a.maxMomentum) : [];
    if (key && a.lastEpoch === -1) {
      groups.forEach((g, i) => {
        setMomentum(g, key, maxMomentums[i]);
        g.maxMomentum = maxMomentums[i];
        g.baseMomentum = baseMomentums[i];
      });
    }
    super(optimizer, a.lastEpoch);
    const up = a.stepSizeUp;
    const down = a.stepSizeDown ?? up;
    this.customScaleFn = a.scaleFn !== null;
    [this.scaleFn, this.scaleMode] = a.scaleFn ? [a.scaleFn, a.scaleMode] : builtinScale(a.mode, a.gamma);
    this.maxLrs = perGroup('max_lr', optimizer, maxLr);
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.momentumKey = key;
    this.baseMomentums = baseMomentums;
    this.maxMomentums = maxMomentums;
    this.mode = a.mode;
    this.gamma = a.gamma;
    this.cycleMomentum = a.cycleMomentum;
    this.initialStep();
    this.baseLrs = baseLrs;
  }
  protected getLr(): number[] {
    const cycle = Math.floor(1 + this.lastEpoch / this.totalSize);
    const x = 1.0 + this.lastEpoch / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const at = this.scaleMode === 'cycle' ? cycle : this.lastEpoch;
    const lrs = this.baseLrs.map((base, i) => base + (this.maxLrs[i] - base) * scaleFactor * this.scaleFn(at));
    if (this.momentumKey) {
      const groups: Group[] = this.optimizer.paramGroups;
      this.baseMomentums.forEach((base, i) => {
        const height = (this.maxMomentums[i] - base) * scaleFactor;
        setMomentum(groups[i], this.momentumKey!, this.maxMomentums[i] - height * this.scaleFn(at));
      });
    }
    return lrs;
  }
  protected extraState() {
    return {
      _scale_fn_custom: null,
      max_lrs: this.maxLrs,
      total_size: this.totalSize,
      step_ratio: this.stepRatio,
      mode: this.mode,
      gamma: this.gamma,
      scale_mode: this.scaleMode,
      cycle_momentum: this.cycleMomentum,
      ...(this.momentumKey ? { use_beta1: this.momentumKey === 'betas', base_momentums: this.baseMomentums, max_momentums: this.maxMomentums } : {}),
    };
  }
  /** As Python's: the saved fields, then the scale function rebuilt from the loaded mode and gamma (a custom one is kept). */
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (Array.isArray(sd.max_lrs)) this.maxLrs = sd.max_lrs.map(Number);
    if (Array.isArray(sd.base_momentums)) this.baseMomentums = sd.base_momentums.map(Number);
    if (Array.isArray(sd.max_momentums)) this.maxMomentums = sd.max_momentums.map(Number);
    if (typeof sd.total_size === 'number') this.totalSize = sd.total_size;
    if (typeof sd.step_ratio === 'number') this.stepRatio = sd.step_ratio;
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
    if (typeof sd.cycle_momentum === 'boolean') this.cycleMomentum = sd.cycle_momentum;
    if (sd.mode === 'triangular' || sd.mode === 'triangular2' || sd.mode === 'exp_range') this.mode = sd.mode;
    if (sd.scale_mode === 'cycle' || sd.scale_mode === 'iterations') this.scaleMode = sd.scale_mode;
    if (!this.customScaleFn) [this.scaleFn, this.scaleMode] = builtinScale(this.mode, this.gamma);
  }
}

export type OneCycleFields = {
  totalSteps: number | null;
  epochs: number | null;
  stepsPerEpoch: number | null;
  pctStart: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  baseMomentum: number | number[];
  maxMomentum: number | number[];
  divFactor: number;
  finalDivFactor: number;
  threePhase: boolean;
  lastEpoch: number;
};
const ONE_CYCLE = signature<OneCycleFields>()(
  'OneCycleLR',
  [
    'totalSteps',
    'epochs',
    'stepsPerEpoch',
    'pctStart',
    'annealStrategy',
    'cycleMomentum',
    'baseMomentum',
    'maxMomentum',
    'divFactor',
    'finalDivFactor',
    'threePhase',
    'lastEpoch',
  ],
  {
    totalSteps: null,
    epochs: null,
    stepsPerEpoch: null,
    pctStart: 0.3,
    annealStrategy: 'cos',
    cycleMomentum: true,
    baseMomentum: 0.85,
    maxMomentum: 0.95,
    divFactor: 25,
    finalDivFactor: 1e4,
    threePhase: false,
    lastEpoch: -1,
  },
);
export type Phase = { endStep: number; startLr: string; endLr: string; startMomentum: string; endMomentum: string };
/** The 1cycle policy: up to maxLr and down far below, as OneCycleLR(optimizer, maxLr, totalSteps | {epochs, stepsPerEpoch}, pctStart, …); step per batch. */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  private phases: Phase[];
  private readonly momentumKey: 'momentum' | 'betas' | null;
  constructor(optimizer: AnyOptimizer, maxLr: number | number[], ...rest: ArgsOf<typeof ONE_CYCLE>) {
    const a = ONE_CYCLE.bind(rest);
    let total: number;
    if (a.totalSteps !== null) {
      if (!(Number.isInteger(a.totalSteps) && a.totalSteps > 0))
        throw new RangeError(`Expected positive integer total_steps, but got ${a.totalSteps}`);
      total = a.totalSteps;
    } else if (a.epochs !== null && a.stepsPerEpoch !== null) {
      if (!(Number.isInteger(a.epochs) && a.epochs > 0)) throw new RangeError(`Expected positive integer epochs, but got ${a.epochs}`);
      if (!(Number.isInteger(a.stepsPerEpoch) && a.stepsPerEpoch > 0)) {
        throw new RangeError(`Expected positive integer steps_per_epoch, but got ${a.stepsPerEpoch}`);
      }
      total = a.epochs * a.stepsPerEpoch;
    } else throw new RangeError('You must define either total_steps OR (epochs AND steps_per_epoch)');
    const pct = a.pctStart;
    const phases: Phase[] = a.threePhase
      ? [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    if (typeof pct !== 'number' || pct < 0 || pct > 1) throw new RangeError(`Expected float between 0 and 1 pct_start, but got ${pct}`);
    if (a.annealStrategy !== 'cos' && a.annealStrategy !== 'linear') {
      throw new RangeError(`anneal_strategy must be one of 'cos' or 'linear', instead got ${String(a.annealStrategy)}`);
    }
    const maxLrs = perGroup('max_lr', optimizer, maxLr);
    const groups: Group[] = optimizer.paramGroups;
    if (a.lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / a.divFactor;
        g.maxLr = maxLrs[i];
        g.minLr = (g.initialLr as number) / a.finalDivFactor;
      });
    }
    const key = a.cycleMomentum ? momentumKey(optimizer) : null;
    if (key && a.lastEpoch === -1) {
      const maxM = perGroup('max_momentum', optimizer, a.maxMomentum);
      const baseM = perGroup('base_momentum', optimizer, a.baseMomentum);
      groups.forEach((g, i) => {
        setMomentum(g, key, maxM[i]);
        g.maxMomentum = maxM[i];
        g.baseMomentum = baseM[i];
      });
    }
    super(optimizer, a.lastEpoch);
    this.totalSteps = total;
    this.phases = phases;
    this.momentumKey = key;
    this.annealStrategy = a.annealStrategy;
    this.cycleMomentum = a.cycleMomentum;
    this.initialStep();
  }
  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2.0) * (cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }
  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) throw new RangeError(`Tried to step ${step} times. The specified number of total steps is ${this.totalSteps}`);
    const groups: Group[] = this.optimizer.paramGroups;
    return groups.map((g) => {
      let start = 0.0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (step <= phase.endStep || i === this.phases.length - 1) {
          const pct = (step - start) / (phase.endStep - start);
          if (this.momentumKey) {
            setMomentum(g, this.momentumKey, this.anneal(g[phase.startMomentum] as number, g[phase.endMomentum] as number, pct));
          }
          return this.anneal(g[phase.startLr] as number, g[phase.endLr] as number, pct);
        }
        start = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }
  protected extraState() {
    const py = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return {
      total_steps: this.totalSteps,
      _anneal_func_type: this.annealStrategy,
      cycle_momentum: this.cycleMomentum,
      _schedule_phases: this.phases.map((p) => ({
        end_step: p.endStep,
        start_lr: py(p.startLr),
        end_lr: py(p.endLr),
        start_momentum: py(p.startMomentum),
        end_momentum: py(p.endMomentum),
      })),
      ...(this.momentumKey ? { use_beta1: this.momentumKey === 'betas' } : {}),
    };
  }
  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.total_steps === 'number') this.totalSteps = sd.total_steps;
    if (sd._anneal_func_type === 'cos' || sd._anneal_func_type === 'linear') this.annealStrategy = sd._anneal_func_type;
    if (typeof sd.cycle_momentum === 'boolean') this.cycleMomentum = sd.cycle_momentum;
    if (Array.isArray(sd._schedule_phases)) {
      const js = (k: unknown) => String(k).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      this.phases = (sd._schedule_phases as Record<string, unknown>[]).map((p) => ({
        endStep: Number(p.end_step),
        startLr: js(p.start_lr),
        endLr: js(p.end_lr),
        startMomentum: js(p.start_momentum),
        endMomentum: js(p.end_momentum),
      }));
    }
  }
}
