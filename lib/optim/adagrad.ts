/** torch.optim.Adagrad, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { fullLike, zeros } from '../generated/torch';
import { keep } from '../core/scope';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, nonNegative, type CommonOptions } from './single-tensor';

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
    for (const g of this.paramGroups) {
      for (const p of g.params) this.state.set(p, { step: keep(zeros([], { dtype: 'float32' })), sum: keep(fullLike(p, g.initialAccumulatorValue)) });
    }
  }
  protected validate(g: ParamGroup<AdagradOptions>): void {
    this.validateCommon(g);
    nonNegative(g.lrDecay, 'lr_decay');
    nonNegative(g.weightDecay, 'weight_decay');
    nonNegative(g.initialAccumulatorValue, 'initial_accumulator_value');
    nonNegative(g.eps, 'epsilon');
    if (g.fused) throw new RangeError('fused: true is not supported by Adagrad in torchnode');
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
