/**
 * The offThread strategy: the step traced on the first batch of a fit() and checked against the eager step
 * (CompiledStep, step.ts), then forward, loss and backward on torchnode's compute thread and the optimizer's
 * update through stepAsync(), so the event loop stays free. When the trace does not reproduce the eager step,
 * 'auto' keeps the eager step (saying why) and `insist` fails instead.
 */
import type { Tensor } from '../core/tensor';
import { CompiledStep } from './step';
import { EagerStep } from './eager-step';
import type { StepContext, StepResult, StepStrategy } from './strategy';

export class OffThreadStep implements StepStrategy {
  readonly kind = 'offThread';
  // undefined: not traced yet; null: the eager step from then on
  private compiled: CompiledStep | null | undefined = undefined;
  private readonly eager: EagerStep;

  constructor(
    private readonly ctx: StepContext,
    private readonly insist: boolean,
  ) {
    this.eager = new EagerStep(ctx);
  }

  get offThread(): boolean {
    return this.compiled instanceof CompiledStep;
  }

  async step(x: Tensor, y: Tensor): Promise<StepResult> {
    if (this.compiled === undefined) this.compiled = this.compile(x, y);
    if (!this.compiled) return this.eager.step(x, y);
    // The traced step runs forward and backward together: DDP's pre- and post-forward come first.
    this.ctx.ddp?.preForward();
    this.ctx.ddp?.postForward(null);
    const r = await this.compiled.run(x, y);
    return { loss: r.loss, right: r.correct, n: y.shape[0], stepped: false };
  }

  async update(): Promise<void> {
    if (!this.offThread) return this.eager.update();
    await this.ctx.optimizer.stepAsync();
    this.ctx.optimizer.zeroGrad();
  }

  zeroGrad(): void {
    this.ctx.optimizer.zeroGrad();
  }

  dispose(): void {
    this.compiled?.dispose();
    this.compiled = undefined;
  }

  private compile(x: Tensor, y: Tensor): CompiledStep | null {
    const { model, lossFn, accumulate } = this.ctx;
    try {
      const step = CompiledStep.compile(model, lossFn, x, y, accumulate);
      this.ctx.report(true, 'the traced step reproduces the eager step');
      return step;
    } catch (e) {
      if (this.insist) throw e;
      this.ctx.report(false, e instanceof Error ? e.message : String(e));
      return null;
    }
  }
}
