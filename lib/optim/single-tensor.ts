/**
 * The optimizers whose update torchnode writes with tensor operations, one parameter at a time, as
 * Python's `_single_tensor_<name>` functions do (the path Python takes on the CPU): the same operations in
 * the same order, so the steps are Python's to the bit. With `foreach: true`, those whose `_multi_tensor_<name>`
 * rounds differently (NAdam, RAdam, ASGD, Adafactor) follow that order instead, through `updateForeach`.
 * Per-parameter state is made on first use and kept for the optimizer's life; a step's temporaries are
 * freed when it returns.
 */
import { Tensor } from '../core/tensor';
import { noGrad } from '../core/autograd';
import { keep, scope } from '../core/scope';
import { zeros } from '../generated/torch';
import { Optimizer, type ParamGroup, type PreparedStep } from './optimizer';

/** The options every single-tensor optimizer has, as Python's. */
export interface CommonOptions {
  lr: number;
  maximize: boolean;
  foreach: boolean | null;
  differentiable: boolean;
}

type Update<O> = (group: ParamGroup<O>, param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number) => void;

export abstract class SingleTensorOptimizer<
  O extends { lr: number; maximize?: boolean; differentiable?: boolean; foreach?: boolean | null },
> extends Optimizer<O> {
  /** One parameter's update: `state` holds what `initState` made for it (with `step` counted already). */
  protected abstract update(group: ParamGroup<O>, param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;
  /**
   * One parameter's update in the operation order of Python's `_multi_tensor_<name>` (its `_foreach_*` ops
   * apply the same per-tensor kernels on the CPU), used when the group has `foreach: true`; only the
   * optimizers whose multi-tensor form rounds differently from their single-tensor one define it.
   */
  protected updateForeach?(group: ParamGroup<O>, param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;
  /** The parameter's state before its first step (besides `step`), as Python's _init_group. */
  protected abstract initState(group: ParamGroup<O>, param: Tensor, grad: Tensor): Record<string, Tensor>;

  protected prepareStep(group: ParamGroup<O>, params: Tensor[], grads: Tensor[]): PreparedStep {
    // runs on the JS thread: the update is many small tensor operations, not one native call
    const run = () => {
      noGrad(() => params.forEach((p, i) => this.stepOne(group, p, grads[i])));
      return [];
    };
    return { run, runAsync: async () => run(), finish: () => {} };
  }

  /** Whether the state counts steps (Python's `step`, a float32 0-d tensor on the CPU); Muon's does not. */
  protected readonly countsSteps: boolean = true;

  private stepOne(group: ParamGroup<O>, param: Tensor, grad: Tensor): void {
    let state = this.state.get(param);
    if (!state) {
      state = this.countsSteps ? { step: keep(zeros([], { dtype: 'float32' })) } : {};
      for (const [k, t] of Object.entries(this.initState(group, param, grad))) state[k] = keep(t);
      this.state.set(param, state);
    }
    const s = state;
    s.step?.add_(1);
    const step = s.step ? (s.step.item() as number) : 0;
    const update: Update<O> = group.foreach === true && this.updateForeach ? this.updateForeach : this.update;
    scope(() => update.call(this, group, param, group.maximize ? grad.neg() : grad, s, step));
  }

  /** Python's checks of the options all of them share. */
  protected validateCommon(g: ParamGroup<O>): void {
    if (typeof g.lr !== 'number' || !(g.lr >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
    if (g.differentiable) throw new RangeError('differentiable: true is not supported (torchnode steps run outside autograd)');
    if ((g as { capturable?: boolean }).capturable) throw new RangeError('capturable: true is not supported by this optimizer in torchnode');
  }
}

/** Python's "Invalid <name> value: v" check of an option that must be ≥ 0. */
export function nonNegative(v: number, pyName: string, what = `${pyName} value`): void {
  if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`Invalid ${what}: ${v}`);
}
export function betasArg(betas: [number, number]): void {
  if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`betas must be two numbers (got ${String(betas)})`);
  betas.forEach((b, i) => {
    if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new RangeError(`Invalid beta parameter at index ${i}: ${b}`);
  });
}

/** The options of the Adam family's moment update (NAdam, RAdam). */
interface MomentOptions {
  lr: number;
  betas: [number, number];
  weightDecay: number;
  decoupledWeightDecay: boolean;
}
/**
 * The Adam family's first steps, as Python's NAdam and RAdam write them in both forms: weight decay (decoupled
 * on the parameter, or added to the gradient), then the two moving averages. Returns the gradient used.
 */
export function adamMoments(g: MomentOptions, param: Tensor, grad: Tensor, s: Record<string, Tensor>): Tensor {
  const [beta1, beta2] = g.betas;
  if (g.weightDecay !== 0) {
    if (g.decoupledWeightDecay) param.mul_(1 - g.lr * g.weightDecay);
    else grad = grad.add(param, { alpha: g.weightDecay });
  }
  s.expAvg.lerp_(grad, 1 - beta1);
  s.expAvgSq.mul_(beta2).addcmul_(grad, grad, { value: 1 - beta2 });
  return grad;
}
