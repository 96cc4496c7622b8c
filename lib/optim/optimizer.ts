/**
 * torch.optim.Optimizer: parameter groups, per-parameter state, zeroGrad, and state dicts in PyTorch's
 * layout ({state: {0: {...}}, param_groups: [{lr, …, params: [0, 1, …]}]}, option names snake_case as
 * Python writes them), so optimizer checkpoints move between Node and Python.
 */
import { TorchError } from '../core/errors';
import { describe } from '../core/dtype';
import { Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { camelCase } from '../core/schema';
import { noGrad } from '../core/autograd';
import { keep } from '../core/scope';
import { full } from '../generated/torch';

import type { Handle } from '../core/native';

/** See Optimizer.prepareStep. */
export interface PreparedStep {
  run(): (Handle | null)[];
  runAsync(): Promise<(Handle | null)[]>;
  finish(result: (Handle | null)[]): void;
}

export type ParamGroup<O> = O & { params: Tensor[]; initialLr?: number };
/** Parameters (any leaf tensors, as in PyTorch), or param groups: `{params, ...options}`. */
export type ParamsArg<O> = Iterable<Tensor> | (Partial<O> & { params: Iterable<Tensor> })[];
export type OptimizerState = Record<string, Tensor>;
export interface OptimizerStateDict {
  state: Record<string, Record<string, Tensor>>;
  param_groups: Record<string, unknown>[];
}

/** The options that choose how torch.optim's SGD and Adam run their update. */
export interface KernelOptions {
  foreach: boolean | null;
  fused: boolean | null;
  differentiable: boolean;
}
export type StepKernel = 'single' | 'foreach' | 'fused';

/** @internal Checks them as torch.optim does when an optimizer is made. */
export function validateKernelOptions(g: KernelOptions): void {
  if (g.differentiable) throw new RangeError('differentiable: true is not supported (torchnode steps run outside autograd)');
  if (g.fused && g.foreach) throw new RangeError('`fused` and `foreach` cannot be `true` together');
}

/**
 * @internal How a group's update runs, as torch.optim chooses: fused or foreach when asked; when neither
 * is given, foreach if every parameter is on CUDA (many small kernels cost more there than a loop does on
 * the CPU), else one parameter at a time.
 */
export function stepKernel(g: KernelOptions, params: Tensor[]): StepKernel {
  if (g.fused) {
    const bad = params.find((p) => !p.isFloatingPoint() || !/^(cpu|cuda)/.test(p.device));
    if (bad) throw new TorchError(`fused: true needs floating-point parameters on the CPU or CUDA (got ${bad.dtype} on ${bad.device})`);
    return 'fused';
  }
  return (g.foreach ?? (g.fused == null && params.every((p) => p.device.startsWith('cuda')))) ? 'foreach' : 'single';
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** @internal An optimizer's options: its defaults, overridden by the user's (whose names must be known). */
export function optimizerOptions<O extends object>(who: string, defaults: O, opts: unknown, known: readonly string[] = Object.keys(defaults)): O {
  return { ...defaults, ...optionsArg<Partial<O>>(opts, who, known, '{lr: 0.1}') };
}

/** Base of the optimizers, as torch.optim.Optimizer: param groups with their options, per-parameter state, step(), zeroGrad(), and stateDict()/loadStateDict() in PyTorch's layout. */
export abstract class Optimizer<O extends { lr: number }> {
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (momentum buffers, Adam moments), keyed by the parameter. */
  readonly state = new Map<Tensor, OptimizerState>();

  constructor(
    params: ParamsArg<O>,
    readonly defaults: O,
  ) {
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new RangeError('optimizer got an empty parameter list');
    // A list of tensors is one group (addParamGroup refuses anything else); otherwise a list of groups.
    const groups = (list.every((p) => p instanceof Tensor) ? [{ params: list }] : list) as (Partial<O> & { params: Iterable<Tensor> })[];
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * Adds a group: its own options override the defaults, as in PyTorch. A group may carry keys of its own
   * (PyTorch's do), but not an option under Python's snake_case name, which would be silently unused.
   */
  addParamGroup(group: Partial<O> & { params: Iterable<Tensor> }): void {
    if (group === null || typeof group !== 'object' || !group.params)
      throw new TypeError(`param group must be an object with params (got ${describe(group)})`);
    for (const k of Object.keys(group)) {
      const name = camelCase(k);
      if (name !== k && (name in this.defaults || name === 'initialLr'))
        throw new TypeError(`param group option '${k}': torchnode's name is '${name}'`);
    }
    const params = [...group.params];
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`optimizer can only optimize Tensors; params[${i}] is ${describe(p)}`);
      if (!p.isLeaf) throw new RangeError(`can't optimize a non-leaf Tensor (params[${i}])`);
    });
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) throw new RangeError('some parameters appear in more than one parameter group');
    const full = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  // Per group: the lr as a 0-d tensor on the parameters' device, and the value it holds (lrOnDevice).
  private deviceLr: Map<ParamGroup<O>, { t: Tensor; value: number }> | null = null;

  /**
   * @internal With on, the step reads each group's lr from a device tensor, refreshed here from
   * group.lr, so a step captured in a CUDA graph follows the scheduler (train/graph-step.ts).
   */
  lrOnDevice(on: boolean): void {
    if (!on) {
      for (const { t } of this.deviceLr?.values() ?? []) t.dispose();
      this.deviceLr = null;
      return;
    }
    this.deviceLr ??= new Map();
    for (const group of this.paramGroups) this.deviceLrOf(group);
  }

  /**
   * The group's device lr while lrOnDevice is on, made or refilled when group.lr changed (a kernel on the
   * current stream; never inside a capture, where the value is the one the capture started with).
   * float32, as a Python float lr is applied in at least float32 precision.
   */
  protected deviceLrOf(group: ParamGroup<O>): Tensor | undefined {
    const held = this.deviceLr?.get(group);
    if (held) {
      if (held.value !== group.lr) {
        held.t.fill_(group.lr);
        held.value = group.lr;
      }
      return held.t;
    }
    if (!this.deviceLr || group.params.length === 0) return undefined;
    const t = keep(full([], group.lr, { dtype: 'float32', device: group.params[0].device }));
    this.deviceLr.set(group, { t, value: group.lr });
    return t;
  }

  /** Checks a group's options; subclasses throw RangeError naming the bad option. */
  protected abstract validate(group: ParamGroup<O>): void;
  /**
   * A group's update as one native call, prepared on the JS thread: `run` and `runAsync` make the same
   * call (here, or on a worker thread); `finish` takes what it returns (new state tensors).
   */
  protected abstract prepareStep(group: ParamGroup<O>, params: Tensor[], grads: Tensor[]): PreparedStep;

  private stepping = false;

  /** One optimization step over every parameter that has a gradient. */
  step(): void {
    this.notStepping();
    for (const group of this.paramGroups) {
      const { params, grads } = this.withGrads(group);
      if (params.length === 0) continue;
      try {
        const call = this.prepareStep(group, params, grads);
        call.finish(call.run());
      } finally {
        grads.forEach((g) => g.dispose());
      }
    }
  }

  /**
   * step() on a worker thread, so a large model's update does not hold the event loop. Leave the
   * parameters, their gradients and the optimizer alone until it settles.
   */
  async stepAsync(): Promise<void> {
    this.notStepping();
    this.stepping = true;
    try {
      for (const group of this.paramGroups) {
        const { params, grads } = this.withGrads(group);
        if (params.length === 0) continue;
        try {
          const call = this.prepareStep(group, params, grads);
          call.finish(await call.runAsync());
        } finally {
          grads.forEach((g) => g.dispose());
        }
      }
    } finally {
      this.stepping = false;
    }
  }

  private notStepping(): void {
    if (this.stepping) throw new TorchError('the optimizer is in the middle of stepAsync(); await it before stepping again');
  }

  /** Clears the gradients of every parameter (set to null by default, as PyTorch). */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = opts.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = p.grad;
        if (!grad) continue;
        if (setToNone) p.grad = null;
        else noGrad(() => grad.zero_());
        grad.dispose();
      }
    }
  }

  /** The parameters of a group that have gradients, with those gradients (caller disposes the grads). */
  protected withGrads(group: ParamGroup<O>): { params: Tensor[]; grads: Tensor[] } {
    const params: Tensor[] = [];
    const grads: Tensor[] = [];
    for (const p of group.params) {
      const g = p.grad;
      if (g) {
        params.push(p);
        grads.push(g);
      }
    }
    return { params, grads };
  }

  /** PyTorch's layout: parameters are numbered in group order; options use Python's names. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const param_groups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k === 'initialLr' ? 'initial_lr' : snake(k)] = v;
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return out;
    });
    const state: Record<string, Record<string, Tensor>> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[String(i)] = Object.fromEntries(Object.entries(s).map(([k, t]) => [snake(k), t.detach()]));
    }
    return { state, param_groups };
  }

  /** Restores options and state; state tensors follow their parameter's device (and dtype, except step). */
  loadStateDict(sd: OptimizerStateDict): void {
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || typeof sd.state !== 'object') {
      throw new TypeError('loadStateDict: expected {state, param_groups} (an optimizer state dict)');
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new TorchError(`loaded state dict has ${sd.param_groups.length} parameter groups but the optimizer has ${this.paramGroups.length}`);
    }
    const ids: number[] = [];
    sd.param_groups.forEach((g, i) => {
      const params = g.params as number[];
      if (!Array.isArray(params) || params.length !== this.paramGroups[i].params.length) {
        throw new TorchError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
      ids.push(...params);
    });
    const byId = new Map<number, Tensor>();
    const groupOf = new Map<Tensor, Record<string, unknown>>(); // each parameter's group options, as loaded
    let k = 0;
    this.paramGroups.forEach((g, i) => {
      for (const p of g.params) {
        byId.set(ids[k++], p);
        groupOf.set(p, { ...g, ...sd.param_groups[i] });
      }
    });
    const nextState = new Map<Tensor, OptimizerState>();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byId.get(Number(id));
      if (!p) throw new TorchError(`loaded state dict has state for parameter ${id}, which no group lists`);
      nextState.set(
        p,
        Object.fromEntries(
          Object.entries(s).map(([name, t]) => {
            if (!(t instanceof Tensor)) throw new TypeError(`state['${id}']['${name}'] must be a Tensor`);
            // As PyTorch: 'step' stays where it was loaded (on the CPU, reading it in a step costs no GPU
            // sync) unless the group is fused or capturable, whose kernels read it on the parameter's device
            // as float32; the rest follows the parameter. State lives as long as the optimizer, even when
            // loaded inside a scope.
            if (name === 'step') {
              const onDevice = Boolean(groupOf.get(p)?.fused) || Boolean(groupOf.get(p)?.capturable);
              return [name, keep(onDevice ? t.to({ device: p.device, dtype: 'float32', copy: true }) : t.clone())];
            }
            return [camelCase(name), keep(t.to({ device: p.device, dtype: t.isFloatingPoint() ? p.dtype : t.dtype, copy: true }))];
          }),
        ),
      );
    }
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
    for (const [p, s] of nextState) this.state.set(p, s);
    sd.param_groups.forEach((g, i) => {
      for (const [key, v] of Object.entries(g)) {
        if (key === 'params') continue;
        (this.paramGroups[i] as Record<string, unknown>)[key === 'initial_lr' ? 'initialLr' : camelCase(key)] = v;
      }
    });
  }
}
