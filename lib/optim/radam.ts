/** torch.optim.RAdam, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { zerosLike } from '../generated/torch';
import { pow } from './lr_scheduler/base';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, adamMoments, betasArg, nonNegative, type CommonOptions } from './single-tensor';

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
    adamMoments(g, param, grad, s);
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
  /** foreach: true — Python's `_multi_tensor_radam` order (one buffer of step sizes, then param += exp_avg · buffer). */
  protected override updateForeach(g: ParamGroup<RAdamOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = g.betas;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * pow(beta2, step)) / (1 - pow(beta2, step));
    adamMoments(g, param, grad, s);
    const rect = rhoT > 5 ? pow(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT), 0.5) : 0;
    const unrectified = rect > 0 ? 0 : 1.0;
    const biasCorrection1 = 1 - pow(beta1, step);
    const unrectStepSize = ((g.lr * unrectified) / biasCorrection1) * -1;
    const biasCorrection2 = pow(1 - pow(beta2, step), 0.5) * ((g.lr * rect) / biasCorrection1) * -1;
    const buffer = s.expAvgSq.sqrt().add_(g.eps).div_(biasCorrection2).reciprocal_().add_(unrectStepSize);
    param.addcmul_(s.expAvg, buffer);
  }
}
