/**
 * Squeeze-and-Excitation (Hu et al., 2018): global average pool → fc1 →
 * ReLU → fc2 → gate → scale the channels. impl 'conv' is the 1×1-convolution form (no flatten; the
 * layout mobile SE blocks use).
 */
import { Module, pipe, release } from '../nn/module';
import { AdaptiveAvgPool2d, Conv2d, Hardsigmoid, Linear, ReLU, Sigmoid } from '../nn/layers';
import { describe } from '../core/dtype';
import { intArg } from '../core/args';
import type { Tensor } from '../core/tensor';

export interface SEOptions {
  /** channels / reduction hidden units (default 16). */
  reduction?: number;
  /** 'hardsigmoid' is the quantisation-friendly gate (MobileNetV3-style). */
  gate?: 'sigmoid' | 'hardsigmoid';
  /** Biases in fc1/fc2 (default true, as the SENet paper). */
  bias?: boolean;
  impl?: 'linear' | 'conv';
}

export class SEModule extends Module {
  declare avg_pool: AdaptiveAvgPool2d;
  declare fc1: Linear | Conv2d;
  declare relu: ReLU;
  declare fc2: Linear | Conv2d;
  declare gate: Sigmoid | Hardsigmoid;
  readonly impl: 'linear' | 'conv';
  readonly channels: number;

  constructor(channels: number, opts: SEOptions = {}) {
    super();
    const { reduction = 16, gate = 'sigmoid', bias = true, impl = 'linear' } = opts;
    if (gate !== 'sigmoid' && gate !== 'hardsigmoid') throw new TypeError(`gate must be 'sigmoid' or 'hardsigmoid' (got ${describe(gate)})`);
    if (impl !== 'linear' && impl !== 'conv') throw new TypeError(`impl must be 'linear' or 'conv' (got ${describe(impl)})`);
    if (intArg(reduction, 'reduction') < 1) throw new RangeError(`SEModule: reduction must be a positive integer (got ${reduction})`);
    const hidden = Math.floor(intArg(channels, 'channels') / reduction);
    if (hidden < 1) throw new RangeError(`SEModule: channels // reduction must be at least 1 (channels ${channels}, reduction ${reduction})`);
    this.impl = impl;
    this.channels = channels;
    this.avg_pool = new AdaptiveAvgPool2d(1);
    if (impl === 'linear') {
      this.fc1 = new Linear(channels, hidden, { bias });
      this.relu = new ReLU({ inplace: true });
      this.fc2 = new Linear(hidden, channels, { bias });
    } else {
      this.fc1 = new Conv2d(channels, hidden, 1, { bias });
      this.relu = new ReLU({ inplace: true });
      this.fc2 = new Conv2d(hidden, channels, 1, { bias });
    }
    this.gate = gate === 'sigmoid' ? new Sigmoid() : new Hardsigmoid();
  }

  // Python's `b, c, _, _ = x.size()` ... `.view(b, c, 1, 1)`, written without reading the batch size
  // in JS, so that torch.jit.trace keeps it free (a number read from x.shape becomes a constant).
  forward(x: Tensor): Tensor {
    const flatten = this.impl === 'linear' ? [(t: Tensor) => t.flatten(1)] : [];
    const scale = pipe(
      x,
      this.avg_pool,
      ...flatten,
      this.fc1,
      this.relu,
      this.fc2,
      this.gate,
      (t) => t.view(-1, this.channels, 1, 1),
      (t) => t.expandAs(x),
    );
    const out = x.mul(scale);
    release(scale);
    return out;
  }
}
