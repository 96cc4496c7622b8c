/**
 * A training step that runs off the JS thread. The model's forward and the loss are traced once
 * (torch.jit.trace, run as recorded by the simple executor), and each step then runs forward, loss and
 * backward on a worker thread (ScriptModule.forwardBackwardAsync), so the event loop stays free while
 * the CPU or GPU works. The traced module shares the model's tensors: the optimizer steps them as usual.
 *
 *     const step = CompiledStep.compile(model, crossEntropy, x, y);  // checks the trace first
 *     const { loss, correct } = await step.run(x, y);                 // grads are in model's .grad
 *
 * compile() proves the trace before it is used: on the first batch and on a smaller one, the trace and
 * the eager forward give the same loss and accuracy from the same RNG state and batch-norm statistics
 * (both restored afterwards, so compiling changes nothing). A forward that branches in JS on tensor
 * values or bakes in the batch size fails that check, and the Trainer keeps the eager step.
 */
import { Tensor } from '../core/tensor';
import { Module } from '../nn/module';
import { noGrad } from '../core/autograd';
import { scope, keep } from '../core/scope';
import { getRngState, setRngState } from '../core/creation';
import { TorchError, oneLine } from '../core/errors';
import type { ScriptModule } from '../jit/script';
import { traceStep } from '../jit/trace';
import * as cuda from '../cuda';

export type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** The step body (forward, loss, right predictions), shared by every way of stepping: the batch's loss and its right argmax predictions. */
export function lossAndRight(model: Module<[Tensor], Tensor>, lossFn: LossFn, x: Tensor, y: Tensor): [Tensor, Tensor] {
  const output = model(x);
  return [lossFn(output, y), output.argmax(1).eq(y).sum()];
}

/** model + loss as one module: forward(x, y) → [loss / divisor, number of right argmax predictions]. */
class StepModule extends Module {
  constructor(
    readonly model: Module<[Tensor], Tensor>,
    private readonly lossFn: LossFn,
    private readonly divisor: number,
  ) {
    super();
  }
  forward(x: Tensor, y: Tensor): [Tensor, Tensor] {
    const [loss, right] = lossAndRight(this.model, this.lossFn, x, y);
    return [this.divisor === 1 ? loss : loss.div(this.divisor), right];
  }
}

export class CompiledStep {
  private constructor(
    private readonly traced: ScriptModule,
    private readonly divisor: number,
  ) {}

  /**
   * Traces model + lossFn on the batch (x, y) and checks the trace against the eager step. The loss is
   * divided by `divisor` before backward (gradient accumulation). Throws a TorchError saying why when
   * the step cannot be traced faithfully.
   */
  static compile(model: Module<[Tensor], Tensor>, lossFn: LossFn, x: Tensor, y: Tensor, divisor = 1): CompiledStep {
    const step = new StepModule(model, lossFn, divisor);
    const state = Snapshot.take(model);
    let traced: ScriptModule | null = null;
    try {
      traced = traceStep(step, [x, y]);
      state.restore();
      const n = x.shape[0];
      for (const size of n >= 4 ? [n, Math.floor(n / 2)] : [n]) {
        const why = scope(() => compare(step, traced!, x.narrow(0, 0, size), y.narrow(0, 0, size), state));
        if (why) throw new TorchError(`the traced training step does not reproduce the eager one (${why} on a batch of ${size})`);
      }
      return new CompiledStep(traced, divisor);
    } catch (e) {
      traced?.dispose();
      throw e;
    } finally {
      state.restore();
      state.dispose();
    }
  }

  /** Forward, loss and backward on a worker thread; returns the batch's loss and right predictions. */
  async run(x: Tensor, y: Tensor): Promise<{ loss: number; correct: number }> {
    const [scaled, right] = (await this.traced.forwardBackwardAsync(x, y)) as Tensor[];
    try {
      return { loss: (scaled.item() as number) * this.divisor, correct: right.item() as number };
    } finally {
      scaled.dispose();
      right.dispose();
    }
  }

  dispose(): void {
    this.traced.dispose();
  }
}

// The step's results from the eager module and from the trace, each from the same starting state.
function compare(step: StepModule, traced: ScriptModule, x: Tensor, y: Tensor, state: Snapshot): string | null {
  const [eagerLoss, eagerRight] = noGrad(() => step(x, y));
  state.restore();
  let replay: Tensor[];
  try {
    replay = noGrad(() => traced.forward(x, y) as Tensor[]);
  } catch (e) {
    return `the trace fails: ${oneLine(e)}`;
  } finally {
    state.restore();
  }
  const [loss, right] = replay;
  if (!loss.allclose(eagerLoss, { rtol: 1e-4, atol: 1e-6, equalNan: true })) {
    return `loss ${loss.item()} instead of ${eagerLoss.item()}`;
  }
  if (right.item() !== eagerRight.item()) return `${right.item()} right predictions instead of ${eagerRight.item()}`;
  return null;
}

// What a forward changes besides its result: the RNG (dropout; the CPU's, and the CUDA device's where the
// model is) and buffers (batch-norm statistics).
class Snapshot {
  private constructor(
    private readonly rng: Tensor,
    private readonly cudaRng: { device: string; state: Tensor } | null,
    private readonly buffers: [Tensor, Tensor][],
  ) {}
  static take(model: Module): Snapshot {
    const device = model.parameters()[0]?.device ?? 'cpu';
    const cudaRng = device.startsWith('cuda') ? { device, state: keep(cuda.getRngState(device)) } : null;
    return noGrad(
      () =>
        new Snapshot(
          keep(getRngState()),
          cudaRng,
          model.buffers().map((b) => [b, keep(b.clone())] as [Tensor, Tensor]),
        ),
    );
  }
  restore(): void {
    setRngState(this.rng);
    if (this.cudaRng) cuda.setRngState(this.cudaRng.state, this.cudaRng.device);
    noGrad(() => {
      for (const [live, saved] of this.buffers) live.copy_(saved);
    });
  }
  dispose(): void {
    this.rng.dispose();
    this.cudaRng?.state.dispose();
    for (const [, saved] of this.buffers) saved.dispose();
  }
}
