/**
 * A whole training step (forward, loss, backward, optimizer step) captured once in a CUDA graph and replayed
 * for every batch of the same shape, as PyTorch's whole-network capture recipe does:
 *   - warm-up steps run eagerly on the side stream first (cuDNN/cuBLAS set up their workspaces), which
 *     also creates the optimizer's state (momentum buffers, Adam's moments and step counts);
 *   - gradients are set to null before capture, so backward allocates them from the graph's memory and
 *     each replay writes them afresh (they are never set to null again; an eager step zeroes them);
 *   - the batch is copied into static input tensors before each replay;
 *   - the learning rate lives in a device tensor the captured step reads, so StepLR's changes apply
 *     without capturing again.
 * Steps of another batch size (a last partial batch) run eagerly. SGD is captured as it is; Adam needs
 * capturable: true, as in PyTorch (its step counts and bias corrections then stay on the GPU).
 */
import { Tensor } from '../core/tensor';
import type { Module } from '../nn/module';
import { keep, scope } from '../core/scope';
import { TorchError } from '../core/errors';
import { SGD } from '../optim/sgd';
import { Adam } from '../optim/adam';
import type { Optimizer } from '../optim/optimizer';
import { Stream, onStream } from '../cuda/device';
import { CUDAGraph, graph } from '../cuda/graphs';
import { stack } from '../generated/torch';
import { lossAndRight, type LossFn } from './step';
import type { StepContext, StepResult, StepStrategy } from './strategy';

export const CANNOT_CAPTURE = 'cudaGraph: this training step cannot be captured in a CUDA graph: ';

export class GraphStep {
  private constructor(
    private readonly g: CUDAGraph,
    private readonly staticX: Tensor,
    private readonly staticY: Tensor,
    private readonly lossAndRight: Tensor, // [loss, right predictions], float32: one read a step
    private readonly optimizer: Optimizer<{ lr: number }>,
  ) {}

  /** Why the optimizer's step cannot be captured, or null. Asked when the Trainer is made (STEP_TABLE) and
   * again at capture: a loadStateDict between can change the options. */
  static optimizerProblem(optimizer: Optimizer<{ lr: number }>): string | null {
    if (!(optimizer instanceof SGD || optimizer instanceof Adam))
      return 'only SGD and Adam steps are captured (their update reads the learning rate from a device tensor)';
    if (optimizer instanceof Adam && !optimizer.paramGroups.every((g) => g.capturable)) {
      return 'Adam is captured only with capturable: true, as in PyTorch (its step counts then stay on the GPU)';
    }
    return null;
  }

  /** Captures the step on (x, y)'s shapes; runs nothing (call run() next). */
  static capture(
    model: Module<[Tensor], Tensor>,
    lossFn: LossFn,
    optimizer: Optimizer<{ lr: number }>,
    x: Tensor,
    y: Tensor,
    side: Stream,
  ): GraphStep {
    const why = GraphStep.optimizerProblem(optimizer);
    if (why) throw new TorchError(CANNOT_CAPTURE + why);
    optimizer.lrOnDevice(true);
    optimizer.zeroGrad({ setToNone: true });
    const staticX = keep(x.clone());
    const staticY = keep(y.clone());
    try {
      const g = new CUDAGraph();
      const summary = graph(
        g,
        () =>
          scope(() => {
            const [l, r] = lossAndRight(model, lossFn, staticX, staticY);
            l.backward();
            optimizer.step();
            return stack([l.detach().float(), r.float()]);
          }),
        { stream: side },
      );
      return new GraphStep(g, staticX, staticY, keep(summary), optimizer);
    } catch (e) {
      staticX.dispose();
      staticY.dispose();
      optimizer.lrOnDevice(false);
      throw e;
    }
  }

  /** True when (x, y) fit the captured shapes. */
  fits(x: Tensor, y: Tensor): boolean {
    return x.shape.join() === this.staticX.shape.join() && y.shape.join() === this.staticY.shape.join();
  }

  /** Copies the batch in, replays the step; the batch's loss and right predictions. */
  run(x: Tensor, y: Tensor): { loss: number; correct: number } {
    this.staticX.copy_(x);
    this.staticY.copy_(y);
    this.optimizer.lrOnDevice(true); // refreshes the device lr if a scheduler changed it
    this.g.replay();
    const [loss, correct] = this.lossAndRight.toArray() as number[];
    return { loss, correct };
  }

  dispose(): void {
    this.g.reset();
    for (const t of [this.staticX, this.staticY, this.lossAndRight]) t.dispose();
    this.optimizer.lrOnDevice(false);
  }
}

/** Eager steps before capture: cuDNN and cuBLAS set up their workspaces, the optimizer its state. */
const WARM_UP_STEPS = 3;

/**
 * The cudaGraph strategy: eager warm-up steps on a side stream with batches of the first batch's shape, then
 * the step captured on that shape; replayed for batches of it, eager (on the side stream) for others. Every
 * step includes the optimizer's update.
 */
export class CudaGraphStep implements StepStrategy {
  readonly kind = 'cudaGraph';
  readonly offThread = false;
  private readonly side = new Stream();
  private shape: string | null = null;
  private warm = 0;
  private captured: GraphStep | null = null;

  constructor(private readonly ctx: StepContext) {}

  async step(x: Tensor, y: Tensor): Promise<StepResult> {
    const { model, lossFn, optimizer } = this.ctx;
    const shape = `${x.shape}|${y.shape}`;
    this.shape ??= shape;
    const n = y.shape[0];
    if (!this.captured && this.warm >= WARM_UP_STEPS && shape === this.shape)
      this.captured = GraphStep.capture(model, lossFn, optimizer, x, y, this.side);
    if (this.captured?.fits(x, y)) {
      const r = this.captured.run(x, y);
      return { loss: r.loss, right: r.correct, n, stepped: true };
    }
    if (shape === this.shape) this.warm++;
    // Once captured, the gradients are the graph's static tensors: zeroed in place, never set to null.
    if (this.captured) optimizer.zeroGrad({ setToNone: false });
    const captured = this.captured;
    const r = onStream(this.side, () =>
      scope(() => {
        const [loss, right] = lossAndRight(model, lossFn, x, y);
        loss.backward();
        optimizer.step();
        if (!captured) optimizer.zeroGrad();
        return { loss: loss.item() as number, right: right.item() as number };
      }),
    );
    return { ...r, n, stepped: true };
  }

  /** Nothing to do: every step includes the update. */
  async update(): Promise<void> {}

  zeroGrad(): void {
    this.ctx.optimizer.zeroGrad(this.captured ? { setToNone: false } : undefined);
  }

  dispose(): void {
    this.captured?.dispose();
    this.captured = null;
  }
}
