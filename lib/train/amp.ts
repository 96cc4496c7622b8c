/**
 * The Trainer's `amp` option: forward and loss under autocast, and for float16 a GradScaler around backward
 * and the optimizer's update. A modifier of the eager step and of evaluate(), not a step of its own (see
 * strategy.ts for why).
 */
import type { Tensor } from '../core/tensor';
import { describe } from '../core/dtype';
import { GradScaler, autocast } from '../cuda/amp';
import type { Optimizer } from '../optim/optimizer';

export type AmpOption = boolean | 'float16' | 'bfloat16';

export class MixedPrecision {
  /** The autocast dtype, or null when AMP is off. */
  readonly dtype: 'float16' | 'bfloat16' | null;
  /** Loss scaling, for float16 only (bfloat16 has float32's range). */
  readonly scaler: GradScaler | null;

  /** true: float16 on CUDA, bfloat16 on the CPU (as the Trainer documents). */
  constructor(
    amp: AmpOption,
    private readonly device: string,
  ) {
    if (amp !== false && amp !== true && amp !== 'float16' && amp !== 'bfloat16')
      throw new TypeError(`amp must be a boolean, 'float16' or 'bfloat16' (got ${describe(amp)})`);
    this.dtype = amp === false ? null : amp === true ? (device.startsWith('cuda') ? 'float16' : 'bfloat16') : amp;
    this.scaler = this.dtype === 'float16' ? new GradScaler({ device }) : null;
  }

  get enabled(): boolean {
    return this.dtype !== null;
  }

  /** fn under autocast when AMP is on. */
  autocast<T>(fn: () => T): T {
    if (!this.dtype) return fn();
    return autocast({ deviceType: this.device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: this.dtype }, fn);
  }

  /** backward of the loss, scaled first when a scaler is in use. */
  backward(loss: Tensor): void {
    (this.scaler ? this.scaler.scale(loss) : loss).backward();
  }

  /** The optimizer's update: through the scaler (which skips a step whose gradients overflowed), else plain. */
  step(optimizer: Optimizer<{ lr: number }>): void {
    if (!this.scaler) return optimizer.step();
    this.scaler.step(optimizer);
    this.scaler.update();
  }
}
