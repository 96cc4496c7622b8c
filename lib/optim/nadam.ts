/** torch.optim.NAdam, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { ones, zerosLike } from '../generated/torch';
import { pow } from './lr_scheduler/base';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, adamMoments, betasArg, nonNegative, type CommonOptions } from './single-tensor';

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
    const mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * g.momentumDecay));
    const muNext = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * g.momentumDecay));
    s.muProduct.mul_(mu);
    grad = adamMoments(g, param, grad, s);
    const denom = s.expAvgSq.div(biasCorrection2).sqrt();
    const muProduct = s.muProduct.item() as number;
    const muProductNext = muProduct * muNext;
    denom.add_(g.eps);
    param.addcdiv_(grad, denom, { value: (-g.lr * (1.0 - mu)) / (1.0 - muProduct) });
    param.addcdiv_(s.expAvg, denom, { value: (-g.lr * muNext) / (1.0 - muProductNext) });
  }
  /** foreach: true — Python's `_multi_tensor_nadam` order (sqrt before the bias correction; step sizes negated last). */
  protected override updateForeach(g: ParamGroup<NAdamOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = g.betas;
    grad = adamMoments(g, param, grad, s);
    const denom = s.expAvgSq.sqrt();
    const biasCorrectionSqrt = pow(1 - pow(beta2, step), 0.5);
    const mu = beta1 * (1.0 - 0.5 * pow(0.96, step * g.momentumDecay));
    const muNext = beta1 * (1.0 - 0.5 * pow(0.96, (step + 1) * g.momentumDecay));
    s.muProduct.mul_(mu);
    denom.div_(biasCorrectionSqrt).add_(g.eps);
    const muProduct = s.muProduct.item() as number;
    param.addcdiv_(grad, denom, { value: ((g.lr * (1.0 - mu)) / (1.0 - muProduct)) * -1 });
    param.addcdiv_(s.expAvg, denom, { value: ((g.lr * muNext) / (1.0 - muProduct * muNext)) * -1 });
  }
}
