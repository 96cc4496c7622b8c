/** torch.optim.Muon, step for step Python's. */
import type { Tensor } from '../core/tensor';
import { pyOptions, type PyRest } from '../core/tensor';
import { addmm, zerosLike } from '../generated/torch';
import { optimizerOptions, type ParamGroup, type ParamsArg } from './optimizer';
import { SingleTensorOptimizer } from './single-tensor';

export interface MuonOptions {
  lr: number;
  weightDecay: number;
  momentum: number;
  nesterov: boolean;
  nsCoefficients: [number, number, number];
  eps: number;
  nsSteps: number;
  adjustLrFn: 'original' | 'match_rms_adamw' | null;
}

/** Python's _zeropower_via_newtonschulz: the update orthogonalised by nsSteps Newton–Schulz iterations in bfloat16. */
function orthogonalize(grad: Tensor, [a, b, c]: [number, number, number], steps: number, eps: number): Tensor {
  if (steps >= 100) throw new RangeError('Number of steps must be less than 100 for computational efficiency');
  const tall = grad.shape[0] > grad.shape[1];
  let x = grad.bfloat16();
  if (tall) x = x.t();
  x.div_(x.norm().clamp({ min: eps }));
  for (let i = 0; i < steps; i++) {
    const gram = x.matmul(x.t());
    const gramUpdate = addmm(gram, gram, gram, { beta: b, alpha: c });
    x = addmm(x, gramUpdate, x, { beta: a });
  }
  return tall ? x.t() : x;
}

/** Momentum orthogonalised by Newton–Schulz iterations, for 2-D parameters, as torch.optim.Muon(params, lr, weightDecay, momentum, nesterov, …). */
export class Muon extends SingleTensorOptimizer<MuonOptions> {
  protected override readonly countsSteps = false;
  constructor(
    params: ParamsArg<MuonOptions>,
    ...rest: PyRest<
      [
        lr: number,
        weightDecay: number,
        momentum: number,
        nesterov: boolean,
        nsCoefficients: [number, number, number],
        eps: number,
        nsSteps: number,
        adjustLrFn: 'original' | 'match_rms_adamw' | null,
      ],
      Partial<MuonOptions>
    >
  ) {
    super(
      params,
      optimizerOptions(
        'Muon',
        {
          lr: 1e-3,
          weightDecay: 0.1,
          momentum: 0.95,
          nesterov: true,
          nsCoefficients: [3.4445, -4.775, 2.0315],
          eps: 1e-7,
          nsSteps: 5,
          adjustLrFn: null,
        },
        pyOptions('Muon', rest, ['lr', 'weightDecay', 'momentum', 'nesterov', 'nsCoefficients', 'eps', 'nsSteps', 'adjustLrFn']),
      ),
    );
  }
  protected validate(g: ParamGroup<MuonOptions>): void {
    if (typeof g.lr !== 'number' || !(g.lr >= 0)) throw new RangeError(`Learning rate should be >= 0 but is: ${g.lr}`);
    if (!(g.momentum >= 0)) throw new RangeError(`momentum should be >= 0 but is: ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new RangeError(`weight decay should be >= 0 but is: ${g.weightDecay}`);
    if (g.adjustLrFn !== null && g.adjustLrFn !== 'original' && g.adjustLrFn !== 'match_rms_adamw') {
      throw new RangeError(`Adjust learning rate function ${String(g.adjustLrFn)} is not supported`);
    }
    const bad = g.params.find((p) => p.ndim !== 2);
    if (bad) throw new RangeError(`Muon only supports 2D parameters whereas we found a parameter with size: [${bad.shape.join(', ')}]`);
  }
  protected initState(_g: ParamGroup<MuonOptions>, _p: Tensor, grad: Tensor): Record<string, Tensor> {
    return { momentumBuffer: zerosLike(grad) };
  }
  protected update(g: ParamGroup<MuonOptions>, param: Tensor, grad: Tensor, s: Record<string, Tensor>): void {
    s.momentumBuffer.lerp_(grad, 1 - g.momentum);
    const update = orthogonalize(g.nesterov ? grad.lerp(s.momentumBuffer, g.momentum) : s.momentumBuffer, g.nsCoefficients, g.nsSteps, g.eps);
    const [rows, cols] = param.shape;
    const ratio = g.adjustLrFn === 'match_rms_adamw' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
    param.mul_(1 - g.lr * g.weightDecay);
    param.add_(update, { alpha: -(g.lr * ratio) });
  }
}
