/** torch.optim.AdamW: Adam with decoupled weight decay (default 1e-2), as PyTorch defines it now. */
import { ADAM_DEFAULTS, ADAM_POSITIONAL, Adam, type AdamOptions } from './adam';
import { pyOptions, type PyRest } from '../core/tensor';
import { optimizerOptions, type OptimizerStateDict, type ParamsArg } from './optimizer';

/** AdamW, as torch.optim.AdamW: `new Adam(params, {...opts, decoupledWeightDecay: true})` with weightDecay 1e-2 by default. */
export class AdamW extends Adam {
  constructor(
    params: ParamsArg<AdamOptions>,
    ...rest: PyRest<
      [lr: number, betas: [number, number], eps: number, weightDecay: number, amsgrad: boolean],
      Partial<Omit<AdamOptions, 'decoupledWeightDecay'>>
    >
  ) {
    const known = Object.keys(ADAM_DEFAULTS).filter((k) => k !== 'decoupledWeightDecay');
    const opts = pyOptions('AdamW', rest, ADAM_POSITIONAL);
    super(params, optimizerOptions('AdamW', { ...ADAM_DEFAULTS, weightDecay: 1e-2, decoupledWeightDecay: true }, opts, known));
  }

  /** As PyTorch's: whatever the state dict says, the decay stays decoupled. */
  override loadStateDict(sd: OptimizerStateDict): void {
    super.loadStateDict(sd);
    for (const g of this.paramGroups) g.decoupledWeightDecay = true;
  }
}
