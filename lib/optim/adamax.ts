/** torch.optim.Adamax, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { maximum, zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, betasArg, nonNegative, type CommonOptions } from './single-tensor';

export interface AdamaxOptions extends CommonOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  capturable: boolean;
}

/** Adam with the infinity norm, as torch.optim.Adamax(params, lr, betas, eps, weightDecay). */
export class Adamax extends SingleTensorOptimizer<AdamaxOptions> {
  constructor(
    params: ParamsArg<AdamaxOptions>,
    ...rest: PyRest<[lr: number, betas: [number, number], eps: number, weightDecay: number, foreach: boolean | null], Partial<AdamaxOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'Adamax',
        {
          lr: 2e-3,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weightDecay: 0,
          foreach: null,
          maximize: false,
          differentiable: false,
          capturable: false,
        },
        pyOptions('Adamax', rest, ['lr', 'betas', 'eps', 'weightDecay', 'foreach']),
      ),
    );
  }
  protected validate(g: ParamGroup<AdamaxOptions>): void {
    this.validateCommon(g);
    nonNegative(g.eps, 'epsilon');
    betasArg(g.betas);
    nonNegative(g.weightDecay, 'weight_decay');
  }
  protected initState(_g: ParamGroup<AdamaxOptions>, p: Tensor): Record<string, Tensor> {
    return { expAvg: zerosLike(p), expInf: zerosLike(p) };
  }
  protected update(g: ParamGroup<AdamaxOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = g.betas;
    if (g.weightDecay !== 0) grad = grad.add(param, { alpha: g.weightDecay });
    s.expAvg.lerp_(grad, 1 - beta1);
    maximum(s.expInf.mul_(beta2), grad.abs().add_(g.eps), { out: s.expInf });
    const clr = g.lr / (1 - beta1 ** step);
    param.addcdiv_(s.expAvg, s.expInf, { value: -clr });
  }
}
