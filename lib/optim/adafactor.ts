/** torch.optim.Adafactor, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { zerosLike } from '../generated/torch';
import { pow } from './lr_scheduler/base';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer } from './single-tensor';

export interface AdafactorOptions {
  lr: number;
  beta2Decay: number;
  /** [eps1 (null: the dtype's machine epsilon), eps2]. */
  eps: [number | null, number];
  d: number;
  weightDecay: number;
  foreach: boolean | null;
  maximize: boolean;
}
const EPSILON: Record<string, number> = {
  float32: 1.1920928955078125e-7,
  float64: 2.220446049250313e-16,
  float16: 0.0009765625,
  bfloat16: 0.0078125,
};

/** Adam with factored second moments (a row and a column average per matrix), as torch.optim.Adafactor(params, lr, beta2Decay, eps, d, weightDecay). */
export class Adafactor extends SingleTensorOptimizer<AdafactorOptions> {
  constructor(
    params: ParamsArg<AdafactorOptions>,
    ...rest: PyRest<[lr: number, beta2Decay: number, eps: [number | null, number], d: number, weightDecay: number], Partial<AdafactorOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'Adafactor',
        { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, foreach: null, maximize: false },
        pyOptions('Adafactor', rest, ['lr', 'beta2Decay', 'eps', 'd', 'weightDecay']),
      ),
    );
  }
  protected validate(g: ParamGroup<AdafactorOptions>): void {
    if (typeof g.lr !== 'number' || !(g.lr >= 0)) throw new RangeError(`Learning rate should be >= 0 but is: ${g.lr}`);
    if (!(g.beta2Decay <= 0)) throw new RangeError(`beta2_decay should be <= 0 but is: ${g.beta2Decay}`);
    if (g.eps[0] !== null && !(g.eps[0] >= 0)) throw new RangeError(`epsilon1 should be >= 0 but is: ${g.eps[0]}`);
    if (!(g.eps[1] >= 0)) throw new RangeError(`epsilon2 should be >= 0 but is: ${g.eps[1]}`);
    if (!(g.d >= 1)) throw new RangeError(`Clipping threshold d should be >= 1 but is: ${g.d}`);
    if (!(g.weightDecay >= 0)) throw new RangeError(`weight_decay should be >= 0 but is: ${g.weightDecay}`);
  }
  protected initState(_g: ParamGroup<AdafactorOptions>, _p: Tensor, grad: Tensor): Record<string, Tensor> {
    if (grad.ndim <= 1) return { variance: zerosLike(grad) };
    const rows = [...grad.shape];
    rows[rows.length - 1] = 1;
    const cols = [...grad.shape];
    cols[cols.length - 2] = 1;
    return { rowVar: grad.newZeros(rows), colVar: grad.newZeros(cols) };
  }
  protected update(g: ParamGroup<AdafactorOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    this.adafactor(g, param, grad, s, step, false);
  }
  /** foreach: true — Python's `_multi_tensor_adafactor` order. */
  protected override updateForeach(g: ParamGroup<AdafactorOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number): void {
    this.adafactor(g, param, grad, s, step, true);
  }
  // Python's single- and multi-tensor forms round differently in two places: the multi-tensor one squares the
  // row and column norms with a multiply, and scales the update by a multiply before adding it.
  private adafactor(g: ParamGroup<AdafactorOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>, step: number, foreach: boolean): void {
    const eps1 = g.eps[0] ?? EPSILON[param.dtype];
    const eps2 = g.eps[1];
    const oneMinusBeta2 = pow(step, g.beta2Decay);
    const rho = Math.min(g.lr, 1 / pow(step, 0.5));
    const alpha = Math.max(eps2, (param.norm(2).item() as number) / pow(param.numel(), 0.5)) * rho;
    if (g.weightDecay !== 0) param.mul_(1 - g.lr * g.weightDecay);
    const square = (t: Tensor) => (foreach ? t.mul_(t) : t.square_());
    let estimate: Tensor;
    if (grad.ndim > 1) {
      s.rowVar.lerp_(square(grad.norm(2, -1, true)).div_(grad.shape[grad.ndim - 1]), oneMinusBeta2);
      s.colVar.lerp_(square(grad.norm(2, -2, true)).div_(grad.shape[grad.ndim - 2]), oneMinusBeta2);
      estimate = s.rowVar.matmul(s.colVar);
      estimate.div_(s.rowVar.mean(-2, { keepdim: true }).clamp_({ min: eps1 }));
    } else {
      s.variance.lerp_(grad.mul(grad), oneMinusBeta2);
      estimate = s.variance.clone();
    }
    const update = estimate
      .clamp_({ min: eps1 * eps1 })
      .rsqrt_()
      .mul_(grad);
    const denom = Math.max(1.0, (update.norm(2).item() as number) / (pow(update.numel(), 0.5) * g.d));
    if (foreach) param.add_(update.mul_(-alpha / denom));
    else param.add_(update, { alpha: -alpha / denom });
  }
}
