/** The Trainer's options, fit()'s, and what its 'step' event carries. */
import type { Tensor } from '../core/tensor';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import type { LRScheduler } from '../optim/lr_scheduler/base';
import type { DistributedDataParallelOptions } from '../nn/parallel';
import type { AmpOption } from './amp';
import type { StepStats } from './progress';

/** What fit() and evaluate() iterate: [input, target] batches (a DataLoader, or any iterable of pairs). */
export type Batches = (AsyncIterable<[Tensor, Tensor]> | Iterable<[Tensor, Tensor]>) & { length?: number };

export interface TrainerOptions {
  model: Module<[Tensor], Tensor>;
  optimizer: Optimizer<{ lr: number }>;
  /** Stepped once per epoch (epoch-based schedules such as StepLR). */
  scheduler?: LRScheduler | null;
  /** (logits, target) → scalar loss; default cross-entropy. */
  lossFn?: (output: Tensor, target: Tensor) => Tensor;
  /** 'auto' (CUDA when present), 'cpu', 'cuda', 'cuda:N'. */
  device?: string;
  /** Optimizer step every N batches, the loss scaled by 1/N (gradient accumulation: a batch N times larger). */
  accumulate?: number;
  /** Mixed precision: forward and loss under autocast. true = float16 with a GradScaler on CUDA,
   * bfloat16 on the CPU; or name the dtype ('bfloat16' needs no scaler). */
  amp?: AmpOption;
  /** Where history.json/csv, curve.svg/html and checkpoints go; nothing is written without it. */
  outDir?: string | null;
  /** 'auto': a bar on a TTY, plain lines otherwise; false: silent. */
  progress?: boolean | 'auto';
  /** Seconds between plain progress lines when output is not a TTY. */
  logEvery?: number;
  /**
   * During fit(), the first SIGINT (Ctrl-C) stops after the current step and saves, as stop() does (default
   * true). The Trainer takes that one SIGINT only and never ends the process: a second goes to the program's
   * other SIGINT listeners or, with none, to Node's default, which ends the process (killed by SIGINT; a shell
   * shows 130). A program that owns its signals (the torchnode CLI, an Electron app) passes false and calls stop().
   */
  handleSigint?: boolean;
  /**
   * Run each step's forward, loss and backward on a worker thread, so the event loop stays free
   * (timers, I/O, an Electron window). The step is traced once per fit() and checked against the eager
   * step (see train/step.ts). 'auto' (default): off the thread when the check passes and AMP is off,
   * else the eager step on the JS thread (the reason goes to the 'offThread' event); true: insist
   * (fit() throws when the step cannot be traced; with amp or DDP's findUnusedParameters the constructor
   * refuses it); false: always the eager step.
   */
  offThread?: boolean | 'auto';
  /**
   * CUDA only: capture the whole step (forward, loss, backward, optimizer step) in a CUDA graph after 3
   * eager warm-up steps and replay it for every full batch (train/graph-step.ts); a batch of another
   * size runs eagerly. Needs SGD or Adam({capturable: true}), accumulate 1 and no AMP; otherwise the
   * constructor says why (the allowed combinations: STEP_TABLE in train/strategy.ts).
   */
  cudaGraph?: boolean;
  /** CUDA: let cuDNN benchmark convolution algorithms for the (fixed) batch shape (default true on CUDA). */
  cudnnBenchmark?: boolean;
  /**
   * Data-parallel training over the default process group (call torch.distributed.initProcessGroup
   * first): the model is wrapped in DistributedDataParallel (these are its options), each rank trains on
   * its own batches (a DataLoader with a DistributedSampler, whose epoch the Trainer sets), the epoch's
   * loss and accuracy are over all ranks, a stop() on any rank stops all after the same step, and only
   * rank 0 shows progress and writes outputs. Checkpoints hold the model's own keys (no `module.`).
   */
  distributed?: boolean | DistributedDataParallelOptions;
}

export interface FitOptions {
  epochs: number;
  testData?: Batches | null;
  /** A checkpoint file (or outDir/checkpoint.pt) to continue from. */
  resume?: string | null;
}

export interface StepEvent extends StepStats {
  /** The batch's loss (before accumulation scaling). */
  batchLoss: number;
}

/** The keys of TrainerOptions: any other is a TypeError naming it. */
export const TRAINER_OPTIONS = [
  'model',
  'optimizer',
  'scheduler',
  'lossFn',
  'device',
  'accumulate',
  'amp',
  'outDir',
  'progress',
  'logEvery',
  'handleSigint',
  'offThread',
  'cudaGraph',
  'cudnnBenchmark',
  'distributed',
] as const satisfies readonly (keyof TrainerOptions)[];
// (and every key: a new option left out of the list fails to compile here)
const allTrainerOptions: Exclude<keyof TrainerOptions, (typeof TRAINER_OPTIONS)[number]> extends never ? true : never = true;
void allTrainerOptions;
