/**
 * How the Trainer runs one batch: a StepStrategy, picked once per Trainer from its options through the one
 * table below (chooseStep), and made afresh for each fit() (makeStep).
 *
 *   eager      forward, loss and backward op by op on the JS thread (eager-step.ts)
 *   offThread  the step traced once, then run on torchnode's compute thread; with offThread 'auto' it falls
 *              back to the eager step when the trace does not reproduce it (offthread-step.ts)
 *   cudaGraph  the whole step, optimizer's update included, captured in a CUDA graph and replayed (graph-step.ts)
 *
 * AMP is a modifier of the eager step (amp.ts), not a fourth strategy: it changes three points of that step
 * (the forward under autocast, backward of the scaled loss, the update through the GradScaler) and nothing of
 * its shape; evaluate() runs under the same autocast with no step at all; and the GradScaler outlives every
 * fit() (it is checkpointed). No other strategy takes it yet: the table refuses or avoids those combinations.
 */
import type { Tensor } from '../core/tensor';
import type { Module } from '../nn/module';
import type { DistributedDataParallel } from '../nn/parallel';
import type { Optimizer } from '../optim/optimizer';
import { TorchError } from '../core/errors';
import type { MixedPrecision } from './amp';
import type { LossFn } from './step';
import { EagerStep } from './eager-step';
import { OffThreadStep } from './offthread-step';
import { CANNOT_CAPTURE, CudaGraphStep } from './graph-step';

/** One batch's results. */
export interface StepResult {
  /** The batch's loss (before accumulation scaling). */
  loss: number;
  /** Right argmax predictions. */
  right: number;
  /** Batch size. */
  n: number;
  /** The optimizer's update ran in the step too (a CUDA-graph step holds it). */
  stepped: boolean;
}

export interface StepStrategy {
  readonly kind: StepPlan['kind'];
  /** True while steps run off the JS thread. */
  readonly offThread: boolean;
  /** Forward, loss and backward of a batch already on the training device (and the update, when `stepped`). */
  step(x: Tensor, y: Tensor): Promise<StepResult>;
  /** The optimizer's update at the end of an accumulation window, then the gradients zeroed. */
  update(): Promise<void>;
  /** Zeroes the gradients at the start of an epoch. */
  zeroGrad(): void;
  /** Frees what the strategy made (a trace, a captured graph). */
  dispose(): void;
}

/** What a strategy works with: the Trainer's parts. */
export interface StepContext {
  model: Module<[Tensor], Tensor>;
  /** The DistributedDataParallel wrapper with `distributed` (its forward runs the model's), else null. */
  ddp: DistributedDataParallel<[Tensor], Tensor> | null;
  optimizer: Optimizer<{ lr: number }>;
  lossFn: LossFn;
  /** The loss is divided by it before backward (gradient accumulation). */
  accumulate: number;
  precision: MixedPrecision;
  /** Says whether steps run off the JS thread, and why (the Trainer's 'offThread' event). */
  report(offThread: boolean, reason: string): void;
}

/** The table's columns: what the Trainer's options say about stepping. */
export interface StepOptions {
  /** The resolved device ('cpu', 'cuda', 'cuda:1'). */
  device: string;
  amp: boolean;
  cudaGraph: boolean;
  offThread: boolean | 'auto';
  distributed: boolean;
  findUnusedParameters: boolean;
  accumulate: number;
  /** Why the optimizer's step cannot be captured in a CUDA graph, or null (GraphStep.optimizerProblem). */
  uncapturable: string | null;
}

/** What the table picks. `because`: why an eager step, for the 'offThread' event (null: not asked for off-thread). */
export type StepPlan =
  | { kind: 'eager'; because: string | null }
  /** insist: a step that cannot be traced fails fit() instead of falling back to the eager step. */
  | { kind: 'offThread'; insist: boolean }
  | { kind: 'cudaGraph' };

interface Facts {
  cuda: boolean;
  amp: boolean;
  graph: boolean;
  offThread: boolean | 'auto';
  ddp: boolean;
  findUnused: boolean;
  accumulates: boolean;
  capturable: boolean;
}

type Refusal = { refuse: (o: StepOptions) => Error };

const cannotCapture = (why: (o: StepOptions) => string): Refusal => ({ refuse: (o) => new TorchError(CANNOT_CAPTURE + why(o)) });
const refuse = (message: string): Refusal => ({ refuse: () => new TypeError(message) });
const eager = (because: string | null): StepPlan => ({ kind: 'eager', because });

/**
 * The allowed combinations. Read top to bottom: the first row whose named columns all match decides (a
 * column left out matches anything); a refusal is the Trainer constructor's error.
 */
export const STEP_TABLE: readonly (readonly [Partial<Facts>, StepPlan | Refusal])[] = [
  // A CUDA graph replays one captured step: it must be the same step for every batch, on CUDA.
  [{ graph: true, cuda: false }, cannotCapture((o) => `the device is ${o.device}, not CUDA`)],
  [{ graph: true, accumulates: true }, cannotCapture(() => 'gradient accumulation changes the step from batch to batch')],
  [{ graph: true, amp: true }, cannotCapture(() => 'AMP steps are not captured yet')],
  [{ graph: true, capturable: false }, cannotCapture((o) => o.uncapturable!)],
  [{ graph: true, offThread: true }, refuse('cudaGraph and offThread: true cannot be combined (a replayed graph is already one call per step)')],
  [{ graph: true, ddp: true }, refuse('Trainer: cudaGraph cannot be combined with distributed (the gradients are all-reduced during backward)')],
  [{ graph: true }, { kind: 'cudaGraph' }],
  // Otherwise off the JS thread, unless declined or the step needs the eager forward.
  [{ offThread: false }, eager(null)],
  [{ amp: true, offThread: true }, refuse('offThread: true cannot be combined with amp yet (AMP steps run on the JS thread)')],
  [{ amp: true }, eager('AMP steps run on the JS thread')],
  [{ findUnused: true, offThread: true }, refuse('offThread: true cannot be combined with findUnusedParameters (it needs the eager forward)')],
  [{ findUnused: true }, eager('DistributedDataParallel with findUnusedParameters needs the eager forward')],
  [{ offThread: true }, { kind: 'offThread', insist: true }],
  [{}, { kind: 'offThread', insist: false }],
];

/** The strategy the options ask for, or the table's error for a combination it refuses. */
export function chooseStep(o: StepOptions): StepPlan {
  const facts: Facts = {
    cuda: o.device.startsWith('cuda'),
    amp: o.amp,
    graph: o.cudaGraph,
    offThread: o.offThread,
    ddp: o.distributed,
    findUnused: o.findUnusedParameters,
    accumulates: o.accumulate > 1,
    capturable: o.uncapturable === null,
  };
  for (const [when, then] of STEP_TABLE) {
    if (!Object.entries(when).every(([k, v]) => facts[k as keyof Facts] === v)) continue;
    if ('refuse' in then) throw then.refuse(o);
    return then;
  }
  throw new Error('unreachable: the last row of STEP_TABLE matches everything');
}

/** A fresh strategy for one fit(). */
export function makeStep(plan: StepPlan, ctx: StepContext): StepStrategy {
  switch (plan.kind) {
    case 'cudaGraph':
      return new CudaGraphStep(ctx);
    case 'offThread':
      return new OffThreadStep(ctx, plan.insist);
    case 'eager':
      if (plan.because) ctx.report(false, plan.because);
      return new EagerStep(ctx);
  }
}
