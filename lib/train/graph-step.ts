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
import type { Stream } from '../cuda/device';
import { CUDAGraph, graph } from '../cuda/graphs';
import { stack } from '../generated/torch';
import { lossAndRight, type LossFn } from './step';

const CANNOT_CAPTURE = 'cudaGraph: this training step cannot be captured in a CUDA graph: ';

export class GraphStep {
  private constructor(
    private readonly g: CUDAGraph,
    private readonly staticX: Tensor,
    private readonly staticY: Tensor,
    private readonly lossAndRight: Tensor, // [loss, right predictions], float32: one read a step
    private readonly optimizer: Optimizer<{ lr: number }>,
  ) {}

  /** Checks that the step can be captured at all (before any warm-up runs). */
  static check(optimizer: Optimizer<{ lr: number }>, device: string, accumulate: number, amp: boolean): Optimizer<{ lr: number }> {
    const why = !device.startsWith('cuda') ? `the device is ${device}, not CUDA`
      : accumulate !== 1 ? 'gradient accumulation changes the step from batch to batch'
      : amp ? 'AMP steps are not captured yet'
      : GraphStep.optimizerProblem(optimizer);
    if (why) throw new TorchError(CANNOT_CAPTURE + why);
    return optimizer;
  }

  // Why the optimizer's step cannot be captured, or null. Asked again at capture: a loadStateDict between
  // can change the options.
  private static optimizerProblem(optimizer: Optimizer<{ lr: number }>): string | null {
    if (!(optimizer instanceof SGD || optimizer instanceof Adam)) return 'only SGD and Adam steps are captured (their update reads the learning rate from a device tensor)';
    if (optimizer instanceof Adam && !optimizer.paramGroups.every((g) => g.capturable)) {
      return 'Adam is captured only with capturable: true, as in PyTorch (its step counts then stay on the GPU)';
    }
    return null;
  }

  /** Captures the step on (x, y)'s shapes; runs nothing (call run() next). */
  static capture(model: Module, lossFn: LossFn, optimizer: Optimizer<{ lr: number }>, x: Tensor, y: Tensor, side: Stream): GraphStep {
    const why = GraphStep.optimizerProblem(optimizer);
    if (why) throw new TorchError(CANNOT_CAPTURE + why);
    optimizer.lrOnDevice(true);
    optimizer.zeroGrad({ setToNone: true });
    const staticX = keep(x.clone());
    const staticY = keep(y.clone());
    try {
      const g = new CUDAGraph();
      const summary = graph(g, () => scope(() => {
        const [l, r] = lossAndRight(model, lossFn, staticX, staticY);
        l.backward();
        optimizer.step();
        return stack([l.detach().float(), r.float()]);
      }), { stream: side });
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
