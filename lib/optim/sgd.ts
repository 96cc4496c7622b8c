/** torch.optim.SGD: exactly PyTorch's update (momentum, dampening, weight decay, Nesterov, maximize). */
import { native } from '../native';
import { numberArg, wrap } from '../tensor';
import { full } from '../creation';
import { keep } from '../scope';
import { Optimizer, stepKernel, validateKernelOptions, type ParamGroup, type ParamsArg, type PreparedStep } from './optimizer';
import type { Parameter } from '../nn/module';
import type { Tensor } from '../tensor';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  foreach: boolean | null;
  differentiable: boolean;
  fused: boolean | null;
}

/** Stochastic gradient descent, as torch.optim.SGD (momentum, dampening, weightDecay, nesterov, maximize), step for step PyTorch's. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(params, {
      lr: 0.001, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false,
      foreach: null, differentiable: false, fused: null, ...opts,
    });
  }

  protected validate(g: ParamGroup<SGDOptions>): void {
    if (!(numberArg(g.lr, 'lr') >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
    if (!(numberArg(g.momentum, 'momentum') >= 0)) throw new RangeError(`Invalid momentum value: ${g.momentum}`);
    if (!(numberArg(g.weightDecay, 'weightDecay') >= 0)) throw new RangeError(`Invalid weight_decay value: ${g.weightDecay}`);
    numberArg(g.dampening, 'dampening');
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    validateKernelOptions(g);
  }

  // Per group: the lr as a 0-d tensor on the parameters' device, and the value it holds.
  private deviceLr: Map<ParamGroup<SGDOptions>, { t: Tensor; value: number }> | null = null;

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
    for (const group of this.paramGroups) this.refreshLr(group);
  }

  // The group's device lr, made or refilled when group.lr changed (a kernel on the current stream; never
  // inside a capture, where the value is the one the capture started with). float32, as a Python float
  // lr is applied in at least float32 precision.
  private refreshLr(group: ParamGroup<SGDOptions>): Tensor | undefined {
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

  protected prepareStep(group: ParamGroup<SGDOptions>, params: Parameter[], grads: Tensor[]): PreparedStep {
    const bufs = params.map((p) => this.state.get(p)?.momentumBuffer?.handle ?? null);
    const lr = this.refreshLr(group)?.handle;
    const args = [params.map((p) => p.handle), grads.map((g) => g.handle), bufs, group.lr, group.momentum,
      group.dampening, group.weightDecay, group.nesterov, group.maximize, lr, stepKernel(group, params)] as const;
    return {
      run: () => native.sgdStep(...args),
      runAsync: () => native.sgdStepAsync(...args),
      finish: (after) => {
        if (group.momentum === 0) {
          after.forEach((h) => h && native.dispose(h)); // no momentum: no buffers
          return;
        }
        params.forEach((p, i) => {
          const buf = after[i]; // a buffer this step made; null where the parameter had one
          if (buf === null) return;
          // Optimizer state lives as long as the optimizer: no scope disposes it.
          this.state.set(p, { ...this.state.get(p), momentumBuffer: keep(wrap(buf)) });
        });
      },
    };
  }
}

