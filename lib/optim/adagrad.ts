/** torch.optim.Adagrad, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { fullLike, zeros } from '../generated/torch';
import { keep } from '../core/scope';
import { noGrad } from '../core/autograd';
import { native } from '../core/native';
import { bindFunction } from '../core/dispatch';
import { optimizerOptions, stepKernel, validateKernelOptions, type ParamGroup, type ParamsArg, type PreparedStep } from './optimizer';
import { SingleTensorOptimizer, nonNegative, type CommonOptions } from './single-tensor';

// LibTorch's fused kernel (CPU and CUDA), which Python's Adagrad(fused=True) calls
const fusedAdagrad = bindFunction('torch._fused_adagrad_', [
  '_fused_adagrad_(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] state_sums, Tensor(d!)[] state_steps, *, float lr, float lr_decay, float weight_decay, float eps, bool maximize, Tensor? grad_scale=None, Tensor? found_inf=None) -> ()',
]);

export interface AdagradOptions extends CommonOptions {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  fused: boolean | null;
}
const POSITIONAL = ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'foreach'] as const;

/** Scales each coordinate by its accumulated squared gradients, as torch.optim.Adagrad(params, lr, lrDecay, weightDecay, initialAccumulatorValue, eps). */
export class Adagrad extends SingleTensorOptimizer<AdagradOptions> {
  constructor(
    params: ParamsArg<AdagradOptions>,
    ...rest: PyRest<
      [lr: number, lrDecay: number, weightDecay: number, initialAccumulatorValue: number, eps: number, foreach: boolean | null],
      Partial<AdagradOptions>
    >
  ) {
    super(
      params,
      optimizerOptions(
        'Adagrad',
        {
          lr: 0.01,
          lrDecay: 0,
          weightDecay: 0,
          initialAccumulatorValue: 0,
          eps: 1e-10,
          foreach: null,
          maximize: false,
          differentiable: false,
          fused: null,
        },
        pyOptions('Adagrad', rest, POSITIONAL),
      ),
    );
    // as Python's Adagrad: every parameter's state is made now, not at its first gradient
    for (const g of this.paramGroups) for (const p of g.params) this.state.set(p, this.newState(g, p));
  }
  /** A parameter's state before its first step; a fused group's step lives on the parameter's device, where its kernel reads it. */
  private newState(g: ParamGroup<AdagradOptions>, p: Tensor): Record<string, Tensor> {
    return { step: keep(zeros([], { dtype: 'float32', device: g.fused ? p.device : 'cpu' })), sum: keep(this.initState(g, p).sum) };
  }
  protected validate(g: ParamGroup<AdagradOptions>): void {
    this.validateCommon(g);
    nonNegative(g.lrDecay, 'lr_decay');
    nonNegative(g.weightDecay, 'weight_decay');
    nonNegative(g.initialAccumulatorValue, 'initial_accumulator_value');
    nonNegative(g.eps, 'epsilon');
    validateKernelOptions({ foreach: g.foreach, fused: g.fused, differentiable: g.differentiable });
  }
  protected override prepareStep(group: ParamGroup<AdagradOptions>, params: Tensor[], grads: Tensor[]): PreparedStep {
    if (!group.fused) return super.prepareStep(group, params, grads);
    stepKernel(group, params); // its checks of the parameters' devices and dtypes
    const run = () => {
      const states = params.map((p) => {
        let s = this.state.get(p);
        if (!s) this.state.set(p, (s = this.newState(group, p)));
        return s;
      });
      const { lr, lrDecay, weightDecay, eps, maximize } = group;
      noGrad(() => {
        // one kernel call per (device, dtype), as Python's _fused_adagrad groups them
        for (const idx of native.foreachGroups(params.map((p) => p.handle))) {
          const ss = idx.map((i) => states[i]);
          for (const s of ss) s.step.add_(1);
          fusedAdagrad(
            idx.map((i) => params[i]),
            idx.map((i) => grads[i]),
            ss.map((s) => s.sum),
            ss.map((s) => s.step),
            { lr, lrDecay, weightDecay, eps, maximize: Boolean(maximize) },
          );
        }
      });
      return [];
    };
    return { run, runAsync: async () => run(), finish: () => {} };
  }
  protected initState(g: ParamGroup<AdagradOptions>, p: Tensor): Record<string, Tensor> {
    return { sum: fullLike(p, g.initialAccumulatorValue) };
  }
  protected update(g: ParamGroup<AdagradOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    if (g.weightDecay !== 0) grad = grad.add(param, { alpha: g.weightDecay });
    const clr = g.lr / (1 + (step - 1) * g.lrDecay);
    s.sum.addcmul_(grad, grad, { value: 1 });
    param.addcdiv_(grad, s.sum.sqrt().add_(g.eps), { value: -clr });
  }
}
