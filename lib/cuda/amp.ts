/**
 * Mixed precision: torch.autocast(options, fn) runs fn with LibTorch's autocast on (ops pick float16 or
 * bfloat16 where PyTorch's autocast lists say so), and torch.amp.GradScaler scales the loss so float16
 * gradients do not underflow, with PyTorch's own unscale and scale-update ops.
 */
import { native } from '../core/native';
import { TorchError } from '../core/errors';
import { describe, dtypeCode, type Dtype } from '../core/dtype';
import { Tensor } from '../core/tensor';
import { full } from '../generated/torch';
import { keep } from '../core/scope';
import { Optimizer } from '../optim/optimizer';

export interface AutocastOptions {
  deviceType: 'cpu' | 'cuda';
  /** Default float16 on CUDA, bfloat16 on the CPU, as PyTorch. */
  dtype?: Dtype;
  enabled?: boolean;
}

/** Runs fn under autocast (torch.autocast as a context manager). fn must be synchronous. */
export function autocast<T>(opts: AutocastOptions, fn: () => T): T {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`autocast(options, fn): options must be an object (got ${describe(opts)})`);
  const { deviceType } = opts;
  if (deviceType !== 'cpu' && deviceType !== 'cuda') throw new TypeError(`deviceType must be 'cpu' or 'cuda' (got ${describe(deviceType)})`);
  const dtype = opts.dtype ?? (deviceType === 'cuda' ? 'float16' : 'bfloat16');
  if (dtype !== 'float16' && dtype !== 'bfloat16') throw new TypeError(`autocast dtype must be 'float16' or 'bfloat16' (got ${describe(dtype)})`);
  if (typeof fn !== 'function') throw new TypeError(`autocast(options, fn): fn must be a function (got ${describe(fn)})`);
  const [wasEnabled, wasDtype] = native.autocastEnter(deviceType, opts.enabled ?? true, dtypeCode(dtype));
  try {
    const result = fn();
    if (result instanceof Promise) throw new TypeError('autocast(options, fn) takes a synchronous function: autocast state cannot follow an await');
    return result;
  } finally {
    native.autocastExit(deviceType, wasEnabled, wasDtype);
  }
}

export function isAutocastEnabled(deviceType: 'cpu' | 'cuda' = 'cuda'): boolean {
  return native.isAutocastEnabled(deviceType);
}

export interface GradScalerOptions {
  device?: string;
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  enabled?: boolean;
}

type Stage = 'ready' | 'unscaled' | 'stepped';

/** PyTorch's GradScaler: scale(loss).backward(); scaler.step(optimizer); scaler.update(). */
export class GradScaler {
  readonly device: string;
  readonly enabled: boolean;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  private initScale: number;
  private scaleT: Tensor | null = null;
  private growthTracker: Tensor | null = null;
  private states = new Map<Optimizer<{ lr: number }>, { stage: Stage; foundInf: Tensor[] }>();

  constructor(opts: GradScalerOptions = {}) {
    this.device = opts.device ?? 'cuda';
    this.enabled = opts.enabled ?? true;
    this.initScale = opts.initScale ?? 2 ** 16;
    this.growthFactor = opts.growthFactor ?? 2;
    this.backoffFactor = opts.backoffFactor ?? 0.5;
    this.growthInterval = opts.growthInterval ?? 2000;
    if (!(this.growthFactor > 1)) throw new RangeError('growthFactor should be > 1');
    if (!(this.backoffFactor < 1)) throw new RangeError('backoffFactor should be < 1');
    if (!Number.isInteger(this.growthInterval) || this.growthInterval < 1) throw new RangeError('growthInterval should be a positive integer');
  }

  private lazyInit(device: string): void {
    if (this.scaleT) return;
    this.scaleT = keep(full([], this.initScale, { dtype: 'float32', device }));
    this.growthTracker = keep(full([], 0, { dtype: 'int32', device }));
  }

  private state(optimizer: Optimizer<{ lr: number }>) {
    let s = this.states.get(optimizer);
    if (!s) this.states.set(optimizer, (s = { stage: 'ready', foundInf: [] }));
    return s;
  }

  /** outputs × the current scale (the loss to call backward() on). */
  scale(outputs: Tensor): Tensor {
    if (!this.enabled) return outputs;
    this.lazyInit(outputs.device);
    return outputs.mul(this.scaleT!);
  }

  /** Divides the optimizer's gradients by the scale in place and records whether any is inf/NaN. */
  unscale_(optimizer: Optimizer<{ lr: number }>): void {
    if (!this.enabled) return;
    const s = this.state(optimizer);
    if (s.stage === 'unscaled') throw new TorchError('unscale_() has already been called on this optimizer since the last update().');
    if (s.stage === 'stepped') throw new TorchError('unscale_() is being called after step().');
    if (!this.scaleT) throw new TorchError('GradScaler: scale() has not been called yet');
    const invScale = this.scaleT.double().reciprocal().float();
    const groups = new Map<string, Tensor[]>();
    for (const g of optimizer.paramGroups) {
      for (const p of g.params) {
        const grad = p.grad;
        if (!grad) continue;
        if (grad.dtype === 'float16') throw new TorchError('Attempting to unscale FP16 gradients.');
        const key = `${grad.device}|${grad.dtype}`;
        (groups.get(key) ?? groups.set(key, []).get(key)!).push(grad);
      }
    }
    const foundInf = keep(full([], 0, { dtype: 'float32', device: this.scaleT.device }));
    for (const grads of groups.values()) {
      native.ampUnscale(
        grads.map((t) => t.handle),
        foundInf.handle,
        invScale.handle,
      );
      grads.forEach((t) => t.dispose());
    }
    invScale.dispose();
    s.foundInf = [foundInf];
    s.stage = 'unscaled';
  }

  /** Unscales if needed, then steps the optimizer unless a gradient was inf/NaN. */
  step(optimizer: Optimizer<{ lr: number }>): void {
    if (!this.enabled) {
      optimizer.step();
      return;
    }
    const s = this.state(optimizer);
    if (s.stage === 'stepped') throw new TorchError('step() has already been called since the last update().');
    if (s.stage === 'ready') this.unscale_(optimizer);
    if (s.foundInf.reduce((n, t) => n + (t.item() as number), 0) === 0) optimizer.step();
    s.stage = 'stepped';
  }

  /** Grows the scale after growthInterval clean steps, backs off after an inf/NaN step. */
  update(): void {
    if (!this.enabled || !this.scaleT) return;
    const found = [...this.states.values()].flatMap((s) => s.foundInf);
    if (found.length === 0) throw new TorchError('No inf checks were recorded prior to update.');
    const combined = found[0].clone();
    for (const f of found.slice(1)) combined.add_(f);
    native.ampUpdateScale(
      this.scaleT.handle,
      this.growthTracker!.handle,
      combined.handle,
      this.growthFactor,
      this.backoffFactor,
      this.growthInterval,
    );
    combined.dispose();
    for (const s of this.states.values()) s.foundInf.forEach((t) => t.dispose());
    this.states.clear();
  }

  getScale(): number {
    return this.enabled ? (this.scaleT ? (this.scaleT.item() as number) : this.initScale) : 1;
  }

  /** Python's layout. */
  stateDict(): Record<string, number> {
    if (!this.enabled) return {};
    return {
      scale: this.getScale(),
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker ? (this.growthTracker.item() as number) : 0,
    };
  }

  loadStateDict(sd: Record<string, number>): void {
    if (!sd || typeof sd.scale !== 'number') throw new TypeError('loadStateDict: expected a GradScaler state dict with a scale');
    this.initScale = sd.scale;
    this.growthFactor = sd.growth_factor ?? this.growthFactor;
    this.backoffFactor = sd.backoff_factor ?? this.backoffFactor;
    this.growthInterval = sd.growth_interval ?? this.growthInterval;
    if (this.scaleT) {
      this.scaleT.fill_(sd.scale);
      this.growthTracker!.fill_(sd._growth_tracker ?? 0);
    } else {
      this.lazyInit(this.device);
      this.growthTracker!.fill_(sd._growth_tracker ?? 0);
    }
  }
}
