/** torch.optim.SGD: exactly PyTorch's update (momentum, dampening, weight decay, Nesterov, maximize). */
import { native, type NativeAddon } from '../core/native';
import { pyOptions, wrap, type PyRest } from '../core/tensor';
import { numberArg } from '../core/args';
import { keep } from '../core/scope';
import { Optimizer, optimizerOptions, stepKernel, validateKernelOptions, type ParamGroup, type ParamsArg, type PreparedStep } from './optimizer';
import type { Tensor } from '../core/tensor';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  foreach: boolean | null;
  differentiable: boolean;
  fused: boolean | null;
}

/** Stochastic gradient descent, as torch.optim.SGD (momentum, dampening, weightDecay, nesterov, maximize), step for step PyTorch's. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: ParamsArg<SGDOptions>,
    ...rest: PyRest<[lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean], Partial<SGDOptions>>
  ) {
    super(
      params,
      optimizerOptions(
        'SGD',
        {
          lr: 0.001,
          momentum: 0,
          dampening: 0,
          weightDecay: 0,
          nesterov: false,
          maximize: false,
          foreach: null,
          differentiable: false,
          fused: null,
        },
        pyOptions('SGD', rest, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']),
      ),
    );
  }

  protected validate(g: ParamGroup<SGDOptions>): void {
    if (!(numberArg(g.lr, 'lr') >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
    if (!(numberArg(g.momentum, 'momentum') >= 0)) throw new RangeError(`Invalid momentum value: ${g.momentum}`);
    if (!(numberArg(g.weightDecay, 'weightDecay') >= 0)) throw new RangeError(`Invalid weight_decay value: ${g.weightDecay}`);
    numberArg(g.dampening, 'dampening');
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    validateKernelOptions(g);
  }

  protected prepareStep(group: ParamGroup<SGDOptions>, params: Tensor[], grads: Tensor[]): PreparedStep {
    const bufs = params.map((p) => this.state.get(p)?.momentumBuffer?.handle ?? null);
    const args: Parameters<NativeAddon['sgdStep']> = [
      params.map((p) => p.handle),
      grads.map((g) => g.handle),
      bufs,
      {
        lr: group.lr,
        momentum: group.momentum,
        dampening: group.dampening,
        weightDecay: group.weightDecay,
        nesterov: group.nesterov,
        maximize: group.maximize,
        lrTensor: this.deviceLrOf(group)?.handle,
        kernel: stepKernel(group, params),
      },
    ];
    return {
      run: () => native.sgdStep(...args),
      runAsync: () => native.sgdStepAsync(...args),
      finish: (after) => {
        if (group.momentum === 0) {
          after.forEach((h) => h && native.dispose(h)); // no momentum: no buffers
          return;
        }
        params.forEach((p, i) => {
          const buf = after[i]; // a buffer this step made; null where the parameter had one
          if (buf === null) return;
          // Optimizer state lives as long as the optimizer: no scope disposes it.
          this.state.set(p, { ...this.state.get(p), momentumBuffer: keep(wrap(buf)) });
        });
      },
    };
  }
}
