/** torch.optim.NAdam, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { ones, zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, betasArg, nonNegative, type CommonOptions } from './single-tensor';

export interface NAdamOptions extends CommonOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  decoupledWeightDecay: boolean;
  capturable: boolean;
}

/** Adam with Nesterov momentum, as torch.optim.NAdam(params, lr, betas, eps, weightDecay, momentumDecay, decoupledWeightDecay). */
export class NAdam extends SingleTensorOptimizer<NAdamOptions> {
  constructor(
    params: ParamsArg<NAdamOptions>,
    ...rest: PyRest<
      [lr: number, betas: [number, number], eps: number, weightDecay: number, momentumDecay: number, decoupledWeightDecay: boolean],
      Partial<NAdamOptions>
    >
  ) {
    super(
      params,
      optimizerOptions(
        'NAdam',
        {
          lr: 2e-3,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weightDecay: 0,
          momentumDecay: 4e-3,
          decoupledWeightDecay: false,
          foreach: null,
          maximize: false,
          capturable: false,
          differentiable: false,
        },
        pyOptions('NAdam', rest, ['lr', 'betas', 'eps', 'weightDecay', 'momentumDecay', 'decoupledWeightDecay']),
      ),
    );
  }
  protected validate(g: ParamGroup<NAdamOptions>): void {
    this.validateCommon(g);
    nonNegative(g.eps, 'epsilon');
    betasArg(g.betas);
    nonNegative(g.weightDecay, 'weight_decay');
    nonNegative(g.momentumDecay, 'momentum_decay');
  }
  protected initState(_g: ParamGroup<NAdamOptions>, p: Tensor): Record<string, Tensor> {
    // mu_product: a float32 0-d tensor, as Python's (its rounding is part of the update)
    return { muProduct: ones([], { dtype: 'float32' }), expAvg: zerosLike(p), expAvgSq: zerosLike(p) };
  }
  protected update(g: ParamGroup<NAdamOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = g.betas;
    const biasCorrection2 = 1 - beta2 ** step;
    if (g.weightDecay !== 0) {
      if (g.decoupledWeightDecay) param.mul_(1 - g.lr * g.weightDecay);
      else grad = grad.add(param, { alpha: g.weightDecay });
    }
    const mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * g.momentumDecay));
    const muNext = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * g.momentumDecay));
    s.muProduct.mul_(mu);
    s.expAvg.lerp_(grad, 1 - beta1);
    s.expAvgSq.mul_(beta2).addcmul_(grad, grad, { value: 1 - beta2 });
    const denom = s.expAvgSq.div(biasCorrection2).sqrt();
    const muProduct = s.muProduct.item() as number;
    const muProductNext = muProduct * muNext;
    denom.add_(g.eps);
    param.addcdiv_(grad, denom, { value: (-g.lr * (1.0 - mu)) / (1.0 - muProduct) });
    param.addcdiv_(s.expAvg, denom, { value: (-g.lr * muNext) / (1.0 - muProductNext) });
  }
}
