/** torch.optim.RAdam, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, betasArg, nonNegative, type CommonOptions } from './single-tensor';

export interface RAdamOptions extends CommonOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupledWeightDecay: boolean;
  capturable: boolean;
}

/** Adam with a rectified adaptive learning rate, as torch.optim.RAdam(params, lr, betas, eps, weightDecay, decoupledWeightDecay). */
export class RAdam extends SingleTensorOptimizer<RAdamOptions> {
  constructor(
    params: ParamsArg<RAdamOptions>,
    ...rest: PyRest<[lr: number, betas: [number, number], eps: number, weightDecay: number, decoupledWeightDecay: boolean], Partial<RAdamOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'RAdam',
        {
          lr: 1e-3,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weightDecay: 0,
          decoupledWeightDecay: false,
          foreach: null,
          maximize: false,
          capturable: false,
          differentiable: false,
        },
        pyOptions('RAdam', rest, ['lr', 'betas', 'eps', 'weightDecay', 'decoupledWeightDecay']),
      ),
    );
  }
  protected validate(g: ParamGroup<RAdamOptions>): void {
    this.validateCommon(g);
    nonNegative(g.eps, 'epsilon');
    betasArg(g.betas);
    nonNegative(g.weightDecay, 'weight_decay');
  }
  protected initState(_g: ParamGroup<RAdamOptions>, p: Tensor): Record<string, Tensor> {
    return { expAvg: zerosLike(p), expAvgSq: zerosLike(p) };
  }
  protected update(g: ParamGroup<RAdamOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = g.betas;
    if (g.weightDecay !== 0) {
      if (g.decoupledWeightDecay) param.mul_(1 - g.lr * g.weightDecay);
      else grad = grad.add(param, { alpha: g.weightDecay });
    }
    s.expAvg.lerp_(grad, 1 - beta1);
    s.expAvgSq.mul_(beta2).addcmul_(grad, grad, { value: 1 - beta2 });
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const corrected = s.expAvg.div(biasCorrection1);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
    if (rhoT > 5.0) {
      const rect = (((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) ** 0.5;
      const adaptive = s.expAvgSq
        .sqrt()
        .add_(g.eps)
        .reciprocal()
        .mul(biasCorrection2 ** 0.5);
      param.add_(corrected.mul(g.lr).mul(adaptive).mul(rect), { alpha: -1.0 });
    } else param.add_(corrected.mul(g.lr), { alpha: -1.0 });
  }
}
