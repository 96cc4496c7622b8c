/** torch.optim.Adadelta, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, nonNegative, type CommonOptions } from './single-tensor';

export interface AdadeltaOptions extends CommonOptions {
  capturable: boolean;
  rho: number;
  eps: number;
  weightDecay: number;
}

/** A per-coordinate learning rate from running averages of squared gradients and updates, as torch.optim.Adadelta(params, lr, rho, eps, weightDecay). */
export class Adadelta extends SingleTensorOptimizer<AdadeltaOptions> {
  constructor(
    params: ParamsArg<AdadeltaOptions>,
    ...rest: PyRest<[lr: number, rho: number, eps: number, weightDecay: number, foreach: boolean | null], Partial<AdadeltaOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'Adadelta',
        {
          lr: 1,
          rho: 0.9,
          eps: 1e-6,
          weightDecay: 0,
          foreach: null,
          capturable: false,
          maximize: false,
          differentiable: false,
        },
        pyOptions('Adadelta', rest, ['lr', 'rho', 'eps', 'weightDecay', 'foreach']),
      ),
    );
  }
  protected validate(g: ParamGroup<AdadeltaOptions>): void {
    this.validateCommon(g);
    if (typeof g.rho !== 'number' || !(g.rho >= 0 && g.rho <= 1)) throw new RangeError(`Invalid rho value: ${g.rho}`);
    nonNegative(g.eps, 'epsilon');
    nonNegative(g.weightDecay, 'weight_decay');
  }
  protected initState(_g: ParamGroup<AdadeltaOptions>, p: Tensor): Record<string, Tensor> {
    return { squareAvg: zerosLike(p), accDelta: zerosLike(p) };
  }
  protected update(g: ParamGroup<AdadeltaOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>): void {
    if (g.weightDecay !== 0) grad = grad.add(param, { alpha: g.weightDecay });
    s.squareAvg.mul_(g.rho).addcmul_(grad, grad, { value: 1 - g.rho });
    const std = s.squareAvg.add(g.eps).sqrt_();
    const delta = s.accDelta.add(g.eps).sqrt_();
    delta.div_(std).mul_(grad);
    s.accDelta.mul_(g.rho).addcmul_(delta, delta, { value: 1 - g.rho });
    param.add_(delta, { alpha: -g.lr });
  }
}
