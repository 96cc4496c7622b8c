/** torch.optim.Rprop, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { fullLike, zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer, type CommonOptions } from './single-tensor';

export interface RpropOptions extends CommonOptions {
  etas: [number, number];
  stepSizes: [number, number];
  capturable: boolean;
}

/** Resilient backpropagation: per-coordinate step sizes from the gradient's sign changes, as torch.optim.Rprop(params, lr, etas, stepSizes). */
export class Rprop extends SingleTensorOptimizer<RpropOptions> {
  constructor(
    params: ParamsArg<RpropOptions>,
    ...rest: PyRest<[lr: number, etas: [number, number], stepSizes: [number, number]], Partial<RpropOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'Rprop',
        {
          lr: 0.01,
          etas: [0.5, 1.2],
          stepSizes: [1e-6, 50],
          capturable: false,
          foreach: null,
          maximize: false,
          differentiable: false,
        },
        pyOptions('Rprop', rest, ['lr', 'etas', 'stepSizes']),
      ),
    );
  }
  protected validate(g: ParamGroup<RpropOptions>): void {
    this.validateCommon(g);
    const [minus, plus] = g.etas;
    if (!(minus > 0 && minus < 1 && plus > 1)) throw new RangeError(`Invalid eta values: ${minus}, ${plus}`);
  }
  protected initState(g: ParamGroup<RpropOptions>, p: Tensor, grad: Tensor): Record<string, Tensor> {
    return { prev: zerosLike(p), stepSize: fullLike(grad, g.lr) };
  }
  protected update(g: ParamGroup<RpropOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>): void {
    const [etaminus, etaplus] = g.etas;
    const [min, max] = g.stepSizes;
    const sign = grad.mul(s.prev).sign();
    // Python's sign[sign.gt(0)] = etaplus, then lt(0) → etaminus, then eq(0) → 1, in that order
    sign.maskedFill_(sign.gt(0), etaplus);
    sign.maskedFill_(sign.lt(0), etaminus);
    sign.maskedFill_(sign.eq(0), 1);
    s.stepSize.mul_(sign).clamp_(min, max);
    const g2 = grad.clone();
    g2.maskedFill_(sign.eq(etaminus), 0);
    param.addcmul_(g2.sign(), s.stepSize, { value: -1 });
    s.prev.copy_(g2);
  }
}
