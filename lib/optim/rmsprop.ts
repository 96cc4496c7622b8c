/** torch.optim.RMSprop, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, nonNegative, type CommonOptions } from './single-tensor';

export interface RMSpropOptions extends CommonOptions {
  capturable: boolean;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}
const POSITIONAL = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'capturable', 'foreach', 'maximize', 'differentiable'] as const;

/** Divides the gradient by a running RMS of its recent magnitude, as torch.optim.RMSprop(params, lr, alpha, eps, weightDecay, momentum, centered). */
export class RMSprop extends SingleTensorOptimizer<RMSpropOptions> {
  constructor(
    params: ParamsArg<RMSpropOptions>,
    ...rest: PyRest<[lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, centered: boolean], Partial<RMSpropOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'RMSprop',
        {
          lr: 0.01,
          alpha: 0.99,
          eps: 1e-8,
          weightDecay: 0,
          momentum: 0,
          centered: false,
          capturable: false,
          foreach: null,
          maximize: false,
          differentiable: false,
        },
        pyOptions('RMSprop', rest, POSITIONAL),
      ),
    );
  }
  protected validate(g: ParamGroup<RMSpropOptions>): void {
    this.validateCommon(g);
    nonNegative(g.eps, 'epsilon');
    nonNegative(g.momentum, 'momentum');
    nonNegative(g.weightDecay, 'weight_decay');
    nonNegative(g.alpha, 'alpha');
  }
  protected initState(g: ParamGroup<RMSpropOptions>, p: Tensor): Record<string, Tensor> {
    const s: Record<string, Tensor> = { squareAvg: zerosLike(p) };
    if (g.momentum > 0) s.momentumBuffer = zerosLike(p);
    if (g.centered) s.gradAvg = zerosLike(p);
    return s;
  }
  protected update(g: ParamGroup<RMSpropOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>): void {
    if (g.weightDecay !== 0) grad = grad.add(param, { alpha: g.weightDecay });
    s.squareAvg.mul_(g.alpha).addcmul_(grad, grad, { value: 1 - g.alpha });
    let avg: Tensor;
    if (g.centered) {
      s.gradAvg.lerp_(grad, 1 - g.alpha);
      avg = s.squareAvg.addcmul(s.gradAvg, s.gradAvg, { value: -1 }).sqrt_();
    } else avg = s.squareAvg.sqrt();
    avg = avg.add_(g.eps);
    if (g.momentum > 0) {
      s.momentumBuffer.mul_(g.momentum).addcdiv_(grad, avg);
      param.add_(s.momentumBuffer, { alpha: -g.lr });
    } else param.addcdiv_(grad, avg, { value: -g.lr });
  }
}
