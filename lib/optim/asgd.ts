/** torch.optim.ASGD, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { ones, zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, nonNegative, type CommonOptions } from './single-tensor';

export interface ASGDOptions extends CommonOptions {
  lambd: number;
  alpha: number;
  t0: number;
  weightDecay: number;
  capturable: boolean;
}

/** Averaged stochastic gradient descent, as torch.optim.ASGD(params, lr, lambd, alpha, t0, weightDecay); `ax` in its state is the average. */
export class ASGD extends SingleTensorOptimizer<ASGDOptions> {
  constructor(
    params: ParamsArg<ASGDOptions>,
    ...rest: PyRest<
      [lr: number, lambd: number, alpha: number, t0: number, weightDecay: number, foreach: boolean | null, maximize: boolean],
      Partial<ASGDOptions>
    >
  ) {
    super(
      params,
      optimizerOptions(
        'ASGD',
        {
          lr: 0.01,
          lambd: 1e-4,
          alpha: 0.75,
          t0: 1e6,
          weightDecay: 0,
          foreach: null,
          maximize: false,
          differentiable: false,
          capturable: false,
        },
        pyOptions('ASGD', rest, ['lr', 'lambd', 'alpha', 't0', 'weightDecay', 'foreach', 'maximize', 'differentiable', 'capturable']),
      ),
    );
  }
  protected validate(g: ParamGroup<ASGDOptions>): void {
    this.validateCommon(g);
    nonNegative(g.weightDecay, 'weight_decay');
  }
  protected initState(g: ParamGroup<ASGDOptions>, p: Tensor): Record<string, Tensor> {
    // eta and mu: float32 0-d tensors, as Python's
    return { eta: ones([], { dtype: 'float32' }).mul_(g.lr), mu: ones([], { dtype: 'float32' }), ax: zerosLike(p) };
  }
  protected update(g: ParamGroup<ASGDOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    if (g.weightDecay !== 0) grad = grad.add(param, { alpha: g.weightDecay });
    const eta = s.eta.item() as number;
    param.mul_(1 - g.lambd * eta);
    param.add_(grad, { alpha: -eta });
    if ((s.mu.item() as number) !== 1) s.ax.add_(param.sub(s.ax).mul_(s.mu));
    else s.ax.copy_(param);
    s.eta.fill_(g.lr / (1 + g.lambd * g.lr * step) ** g.alpha);
    s.mu.fill_(1 / Math.max(1, step - g.t0));
  }
  /** foreach: true — Python's `_multi_tensor_asgd` order (param -= eta · (grad + lambd · param); eta computed in float32). */
  protected override updateForeach(g: ParamGroup<ASGDOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const intermediate =
      g.weightDecay !== 0 ? grad.add(param, { alpha: g.weightDecay }).add_(param, { alpha: g.lambd }) : grad.add(param, { alpha: g.lambd });
    param.addcmul_(intermediate, s.eta, { value: -1 });
    s.ax.addcmul_(param.sub(s.ax), s.mu);
    // lr / ((1 + lambd * lr * step) ** alpha) with `step` Python's float32 tensor
    s.eta.copy_(
      s.step
        .mul(g.lambd * g.lr)
        .add(1)
        .pow(g.alpha)
        .reciprocal()
        .mul(g.lr),
    );
    s.mu.fill_(1 / Math.max(1, step - g.t0));
  }
}
