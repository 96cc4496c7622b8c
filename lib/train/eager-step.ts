/**
 * The eager strategy: forward, loss and backward op by op on the JS thread, through DistributedDataParallel
 * when training is distributed, and with the Trainer's AMP (autocast, loss scaling) when it is on.
 */
import type { Tensor } from '../core/tensor';
import { scope } from '../core/scope';
import { lossAndRight } from './step';
import type { StepContext, StepResult, StepStrategy } from './strategy';

export class EagerStep implements StepStrategy {
  readonly kind = 'eager';
  readonly offThread = false;

  constructor(private readonly ctx: StepContext) {}

  async step(x: Tensor, y: Tensor): Promise<StepResult> {
    const { model, ddp, lossFn, accumulate, precision } = this.ctx;
    return scope(() => {
      const [batchLoss, right] = precision.autocast(() => lossAndRight(ddp ?? model, lossFn, x, y));
      precision.backward(accumulate > 1 ? batchLoss.div(accumulate) : batchLoss);
      return { loss: batchLoss.item() as number, right: right.item() as number, n: y.shape[0], stepped: false };
    });
  }

  async update(): Promise<void> {
    this.ctx.precision.step(this.ctx.optimizer);
    this.ctx.optimizer.zeroGrad();
  }

  zeroGrad(): void {
    this.ctx.optimizer.zeroGrad();
  }

  dispose(): void {}
}
