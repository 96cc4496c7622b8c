/** torch.optim.Adam: PyTorch's update, amsgrad, weight decay (L2 or decoupled), maximize. */
import { native, type NativeAddon } from '../core/native';
import { pyOptions, type PyRest } from '../core/tensor';
import { numberArg } from '../core/args';
import { tensor } from '../core/creation';
import { zeros, zerosLike } from '../generated/torch';
import { keep } from '../core/scope';
import { Optimizer, optimizerOptions, stepKernel, validateKernelOptions, type ParamGroup, type ParamsArg, type PreparedStep } from './optimizer';
import { TorchError } from '../core/errors';
import type { Tensor } from '../core/tensor';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  foreach: boolean | null;
  capturable: boolean;
  differentiable: boolean;
  fused: boolean | null;
  decoupledWeightDecay: boolean;
}

/** @internal torch.optim.Adam's defaults. */
/** Adam's and AdamW's arguments Python takes by position, in its order. */
export const ADAM_POSITIONAL = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'];

export const ADAM_DEFAULTS: Readonly<AdamOptions> = {
  lr: 0.001,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
  foreach: null,
  capturable: false,
  differentiable: false,
  fused: null,
  decoupledWeightDecay: false,
};

/** Adam, as torch.optim.Adam (amsgrad, maximize; `decoupledWeightDecay: true` is AdamW), step for step PyTorch's. */
export class Adam extends Optimizer<AdamOptions> {
  constructor(
    params: ParamsArg<AdamOptions>,
    ...rest: PyRest<[lr: number, betas: [number, number], eps: number, weightDecay: number, amsgrad: boolean], Partial<AdamOptions>>
  ) {
    super(params, optimizerOptions('Adam', ADAM_DEFAULTS, pyOptions('Adam', rest, ADAM_POSITIONAL)));
  }

  protected validate(g: ParamGroup<AdamOptions>): void {
    if (!(numberArg(g.lr, 'lr') >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
    if (!(numberArg(g.eps, 'eps') >= 0)) throw new RangeError(`Invalid epsilon value: ${g.eps}`);
    const [b1, b2] = g.betas ?? [];
    if (!(numberArg(b1, 'betas[0]') >= 0 && b1 < 1)) throw new RangeError(`Invalid beta parameter at index 0: ${b1}`);
    if (!(numberArg(b2, 'betas[1]') >= 0 && b2 < 1)) throw new RangeError(`Invalid beta parameter at index 1: ${b2}`);
    if (!(numberArg(g.weightDecay, 'weightDecay') >= 0)) throw new RangeError(`Invalid weight_decay value: ${g.weightDecay}`);
    validateKernelOptions(g);
  }

  protected prepareStep(group: ParamGroup<AdamOptions>, params: Tensor[], grads: Tensor[]): PreparedStep {
    const kernel = stepKernel(group, params);
    const stepOnDevice = group.capturable || kernel === 'fused';
    // capturable also runs on the CPU (PyTorch refuses it there): the same math, with nothing to capture.
    if (group.capturable) {
      const bad = params.find((p) => !p.device.startsWith('cuda') && p.device !== 'cpu');
      if (bad) throw new TorchError(`capturable: true needs parameters on CUDA (or the CPU); got one on ${bad.device}`);
    }
    const states = params.map((p) => {
      let s = this.state.get(p);
      if (!s) {
        // PyTorch's lazy state: step as a float32 0-d tensor (on the CPU, unless fused or capturable
        // kernels read it on the device), zeroed moments in the parameter's layout.
        const step = stepOnDevice ? zeros([], { dtype: 'float32', device: p.device }) : tensor(0, { dtype: 'float32' });
        s = { step: keep(step), expAvg: keep(zerosLike(p)), expAvgSq: keep(zerosLike(p)) };
        if (group.amsgrad) s.maxExpAvgSq = keep(zerosLike(p));
        this.state.set(p, s);
      } else if (stepOnDevice && (s.step.device !== p.device || s.step.dtype !== 'float32')) {
        // A step kept on the CPU (a checkpoint from before fused or capturable was set) moves to the
        // device once, here, rather than failing in the kernel (or, worse, inside a CUDA graph capture).
        const moved = keep(s.step.to({ device: p.device, dtype: 'float32', copy: true }));
        s.step.dispose();
        s.step = moved;
      }
      return s;
    });
    const args: Parameters<NativeAddon['adamStep']> = [
      params.map((p) => p.handle),
      grads.map((g) => g.handle),
      states.map((s) => s.expAvg.handle),
      states.map((s) => s.expAvgSq.handle),
      group.amsgrad ? states.map((s) => s.maxExpAvgSq.handle) : [],
      states.map((s) => s.step.handle),
      {
        lr: group.lr,
        beta1: group.betas[0],
        beta2: group.betas[1],
        eps: group.eps,
        weightDecay: group.weightDecay,
        amsgrad: group.amsgrad,
        maximize: group.maximize,
        decoupledWeightDecay: group.decoupledWeightDecay,
        kernel,
        capturable: group.capturable,
        lrTensor: this.deviceLrOf(group)?.handle,
      },
    ];
    return {
      run: () => native.adamStep(...args),
      runAsync: () => native.adamStepAsync(...args),
      finish: () => {}, // Adam updates its state tensors in place
    };
  }
}
