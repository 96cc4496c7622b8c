/**
 * The seeds' training loop as a Trainer: epochs of zeroGrad → forward → loss → backward → step, the
 * scheduler stepped each epoch, train loss/accuracy, test accuracy, lr; gradient accumulation (seed 000);
 * progress, events for every step and epoch (so an Electron window can follow), history as JSON/CSV, a
 * learning-curve chart, and an atomic checkpoint after each epoch from which `resume` continues to
 * bit-identical results on CPU. SIGINT stops after the current step and saves its state apart
 * (interrupted.pt), leaving checkpoint.pt at the last complete epoch.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, optionsArg } from '../core/tensor';
import { Module } from '../nn/module';
import { crossEntropy } from '../nn/functional';
import { Optimizer } from '../optim/optimizer';
import { LRScheduler } from '../optim/lr_scheduler/base';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { getRngState, setRngState } from '../core/creation';
import { describe } from '../core/dtype';
import * as cuda from '../cuda';
import * as backends from '../cuda/backends';
import { GradScaler, autocast } from '../cuda/amp';
import { save, load } from '../io/serialize';
import { type EpochRecord, writeHistory } from './history';
import { removeStaleTemps, writeAtomic } from '../io/atomic';
import { learningCurveHtml, learningCurveSvg } from './chart';
import { makeProgress, type StepStats } from './progress';
import { CompiledStep, lossAndRight } from './step';
import { GraphStep } from './graph-step';
import { DistributedDataParallel, type DistributedDataParallelOptions } from '../nn/parallel';
import * as dist from '../distributed';
import { DistributedSampler } from '../data/distributed';
import { DataLoader } from '../data/dataloader';
import { tensor } from '../core/creation';
import { TorchError } from '../core/errors';

/** What fit() and evaluate() iterate: [input, target] batches (a DataLoader, or any iterable of pairs). */
export type Batches = (AsyncIterable<[Tensor, Tensor]> | Iterable<[Tensor, Tensor]>) & { length?: number };

export interface TrainerOptions {
  model: Module;
  optimizer: Optimizer<{ lr: number }>;
  /** Stepped once per epoch, as in the seeds. */
  scheduler?: LRScheduler | null;
  /** (logits, target) → scalar loss; default cross-entropy. */
  lossFn?: (output: Tensor, target: Tensor) => Tensor;
  /** 'auto' (CUDA when present), 'cpu', 'cuda', 'cuda:N'. */
  device?: string;
  /** Optimizer step every N batches, the loss scaled by 1/N (seed 000's gradient accumulation). */
  accumulate?: number;
  /** Mixed precision: forward and loss under autocast. true = float16 with a GradScaler on CUDA,
   * bfloat16 on the CPU; or name the dtype ('bfloat16' needs no scaler). */
  amp?: boolean | 'float16' | 'bfloat16';
  /** Where history.json/csv, curve.svg/html and checkpoints go; nothing is written without it. */
  outDir?: string | null;
  /** 'auto': a bar on a TTY, plain lines otherwise; false: silent. */
  progress?: boolean | 'auto';
  /** Seconds between plain progress lines when output is not a TTY. */
  logEvery?: number;
  /** Stop after the current step on SIGINT and save a checkpoint (default true). */
  handleSigint?: boolean;
  /**
   * Run each step's forward, loss and backward on a worker thread, so the event loop stays free
   * (timers, I/O, an Electron window). The step is traced once per fit() and checked against the eager
   * step (see train/step.ts). 'auto' (default): off the thread when the check passes and AMP is off,
   * else the eager step on the JS thread (the reason goes to the 'offThread' event); true: insist
   * (fit() throws when the step cannot be traced); false: always the eager step.
   */
  offThread?: boolean | 'auto';
  /**
   * CUDA only: capture the whole step (forward, loss, backward, optimizer step) in a CUDA graph after 3
   * eager warm-up steps and replay it for every full batch (train/graph-step.ts); a batch of another
   * size runs eagerly. Needs SGD or Adam({capturable: true}), accumulate 1 and no AMP; otherwise the
   * constructor says why.
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

/** Checkpoint contents, in torch.save's format (Python reads it with torch.load). */
export interface Checkpoint {
  model: Record<string, Tensor>;
  optimizer: ReturnType<Optimizer<{ lr: number }>['stateDict']>;
  scheduler: Record<string, unknown> | null;
  scaler: Record<string, number> | null;
  epoch: number;
  history: EpochRecord[];
  rng_state: Tensor;
  /** The training DataLoader's own generator, when it has a `seed`. */
  loader_rng_state?: Tensor | null;
  /** Only in interrupted.pt: the epoch that was stopped, and how many of its steps ran. */
  interrupted?: { epoch: number; step: number } | null;
}

/**
 * A DataLoader's batches are made for this one iteration, and freed as soon as the step is done. Tensors
 * from any other iterable (an array of pairs, a generator) belong to the caller: never disposed here.
 */
function disposeBatch(input: Tensor, target: Tensor): void {
  input.dispose();
  target.dispose();
}

/** The keys of TrainerOptions: any other is a TypeError naming it. */
const TRAINER_OPTIONS = ['model', 'optimizer', 'scheduler', 'lossFn', 'device', 'accumulate', 'amp', 'outDir', 'progress',
  'logEvery', 'handleSigint', 'offThread', 'cudaGraph', 'cudnnBenchmark', 'distributed'] as const satisfies readonly (keyof TrainerOptions)[];
// (and every key: a new option left out of the list fails to compile here)
const allTrainerOptions: Exclude<keyof TrainerOptions, (typeof TRAINER_OPTIONS)[number]> extends never ? true : never = true;
void allTrainerOptions;

/** @internal The checkpoint a path names: a run folder's checkpoint.pt, or the file itself. */
export function checkpointPath(fileOrRunDir: string): string {
  return fs.existsSync(fileOrRunDir) && fs.statSync(fileOrRunDir).isDirectory() ? path.join(fileOrRunDir, 'checkpoint.pt') : fileOrRunDir;
}

export class Trainer extends EventEmitter {
  readonly model: Module;
  readonly optimizer: Optimizer<{ lr: number }>;
  readonly scheduler: LRScheduler | null;
  readonly device: string;
  readonly history: EpochRecord[] = [];
  private readonly lossFn: (output: Tensor, target: Tensor) => Tensor;
  private readonly accumulate: number;
  private readonly outDir: string | null;
  private readonly ampDtype: 'float16' | 'bfloat16' | null;
  /** Loss scaling for float16 AMP (null otherwise). */
  readonly scaler: GradScaler | null;
  private stopRequested = false;
  private trainLoader: DataLoader | null = null; // fit()'s, when a DataLoader: its generator is checkpointed
  private readonly offThread: boolean | 'auto';
  // undefined: not tried yet this fit(); null: the eager step is used
  private compiled: CompiledStep | null | undefined = undefined;
  private readonly graphOptimizer: Optimizer<{ lr: number }> | null;
  private graph: { side: cuda.Stream; shape: string; warm: number; step: GraphStep | null } | null = null;
  /** The DistributedDataParallel wrapper with `distributed`, else null. */
  readonly ddp: DistributedDataParallel | null = null;
  private readonly leader: boolean = true;

  constructor(private readonly opts: TrainerOptions) {
    super();
    optionsArg(opts, 'Trainer', TRAINER_OPTIONS, '{model, optimizer}');
    if (!(opts?.model instanceof Module)) throw new TypeError(`Trainer: model must be an nn.Module (got ${describe(opts?.model)})`);
    if (!(opts.optimizer instanceof Optimizer)) throw new TypeError(`Trainer: optimizer must be a torch.optim optimizer (got ${describe(opts.optimizer)})`);
    if (opts.scheduler != null && !(opts.scheduler instanceof LRScheduler)) throw new TypeError('Trainer: scheduler must be an lrScheduler');
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.scheduler = opts.scheduler ?? null;
    this.lossFn = opts.lossFn ?? ((o, t) => crossEntropy(o, t));
    this.accumulate = opts.accumulate ?? 1;
    if (!Number.isInteger(this.accumulate) || this.accumulate < 1) throw new RangeError(`accumulate must be a positive integer (got ${opts.accumulate})`);
    const device = opts.device ?? 'auto';
    this.device = device === 'auto' ? (cuda.isAvailable() ? 'cuda' : 'cpu') : device;
    this.outDir = opts.outDir ?? null;
    if (this.outDir) fs.mkdirSync(this.outDir, { recursive: true });
    const amp = opts.amp ?? false;
    if (amp !== false && amp !== true && amp !== 'float16' && amp !== 'bfloat16') throw new TypeError(`amp must be a boolean, 'float16' or 'bfloat16' (got ${describe(amp)})`);
    this.ampDtype = amp === false ? null : amp === true ? (this.device.startsWith('cuda') ? 'float16' : 'bfloat16') : amp;
    this.scaler = this.ampDtype === 'float16' ? new GradScaler({ device: this.device }) : null;
    this.offThread = opts.offThread ?? 'auto';
    if (this.offThread !== true && this.offThread !== false && this.offThread !== 'auto') {
      throw new TypeError(`offThread must be a boolean or 'auto' (got ${describe(opts.offThread)})`);
    }
    if (this.offThread === true && this.ampDtype) throw new TypeError('offThread: true cannot be combined with amp yet (AMP steps run on the JS thread)');
    this.graphOptimizer = opts.cudaGraph ? GraphStep.check(this.optimizer, this.device, this.accumulate, this.ampDtype !== null) : null;
    if (this.graphOptimizer && this.offThread === true) throw new TypeError('cudaGraph and offThread: true cannot be combined (a replayed graph is already one call per step)');
    if (this.device.startsWith('cuda') && (opts.cudnnBenchmark ?? true)) backends.cudnn.benchmark = true;
    this.model.to(this.device);
    const distributed = opts.distributed ?? false;
    if (distributed !== false) {
      if (opts.cudaGraph) throw new TypeError('Trainer: cudaGraph cannot be combined with distributed (the gradients are all-reduced during backward)');
      if (!dist.isInitialized()) throw new TorchError('Trainer: distributed needs the default process group: call torch.distributed.initProcessGroup first');
      this.ddp = new DistributedDataParallel(this.model, distributed === true ? {} : distributed);
      this.leader = dist.getRank() === 0;
    }
  }

  /** True while steps run off the JS thread (after the first step of a fit). */
  get stepsOffThread(): boolean {
    return this.compiled instanceof CompiledStep;
  }

  /** Asks fit() to stop after the current step (it saves a checkpoint first). */
  stop(): void {
    this.stopRequested = true;
  }

  /** The seeds' loop over `epochs`; returns the history (one record per epoch). */
  async fit(train: Batches, fitOpts: FitOptions): Promise<EpochRecord[]> {
    optionsArg(fitOpts, 'fit', ['epochs', 'testData', 'resume'], '{epochs: 4}');
    const epochs = fitOpts?.epochs;
    if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`fit: epochs must be a positive integer (got ${describe(epochs)})`);
    let startEpoch = 1;
    this.trainLoader = train instanceof DataLoader ? train : null;
    // Temporaries of writers killed mid-save (an earlier run's SIGKILL) take disk until someone removes them.
    if (this.outDir && this.leader) removeStaleTemps(this.outDir);
    if (fitOpts.resume) startEpoch = this.restore(fitOpts.resume) + 1;
    else if (this.outDir && this.leader) {
      // A new run in this folder: an earlier run's checkpoints must not be taken for its own by a resume.
      for (const f of ['checkpoint.pt', 'interrupted.pt']) fs.rmSync(path.join(this.outDir, f), { force: true });
    }
    const progress = makeProgress(this.leader ? this.opts.progress ?? 'auto' : false, process.stderr, this.opts.logEvery ?? 10);
    const onSigint = () => {
      this.stopRequested = true;
      process.stderr.write('\ntorchnode: stopping after this step and saving a checkpoint (Ctrl-C again to abort)\n');
      process.once('SIGINT', () => process.exit(130));
    };
    if (this.opts.handleSigint ?? true) process.once('SIGINT', onSigint);
    this.stopRequested = false;
    this.compiled = undefined;
    try {
      for (let epoch = startEpoch; epoch <= epochs && !this.stopRequested; epoch++) {
        const started = Date.now();
        const lr = this.optimizer.paramGroups[0].lr;
        const trainStats = await this.trainEpoch(train, epoch, epochs, progress);
        if (this.stopRequested && trainStats.steps < (train.length ?? Infinity)) {
          // checkpoint.pt stays at the last complete epoch, from which resume is bit-identical; the
          // interrupted state is kept apart (resuming from it repeats the epoch from those weights).
          this.checkpoint(epoch - 1, { epoch, step: trainStats.steps });
          break;
        }
        this.scheduler?.step();
        const test = fitOpts.testData ? await this.evaluate(fitOpts.testData) : null;
        const seconds = (Date.now() - started) / 1000;
        const record: EpochRecord = {
          epoch, lr, trainLoss: trainStats.loss, trainAccuracy: trainStats.accuracy,
          testLoss: test?.loss ?? null, testAccuracy: test?.accuracy ?? null, seconds,
          imagesPerSecond: trainStats.images / Math.max(seconds, 1e-9),
        };
        this.history.push(record);
        progress.endEpoch(`epoch ${epoch}/${epochs}: train loss ${record.trainLoss.toFixed(4)} acc ${(record.trainAccuracy * 100).toFixed(2)}%` +
          (test ? ` | test loss ${test.loss.toFixed(4)} acc ${(test.accuracy * 100).toFixed(2)}%` : '') + ` | lr ${lr} | ${seconds.toFixed(1)} s`);
        this.writeOutputs();
        this.checkpoint(epoch);
        this.emit('epoch', record);
      }
    } finally {
      progress.stop();
      process.removeListener('SIGINT', onSigint);
      this.releaseStep();
    }
    return this.history;
  }

  private async trainEpoch(batches: Batches, epoch: number, epochs: number, progress: ReturnType<typeof makeProgress>) {
    this.model.train();
    // A captured step's gradients are the graph's own tensors: zeroed in place, never dropped.
    this.optimizer.zeroGrad(this.graph?.step ? { setToNone: false } : undefined);
    let lossSum = 0;
    let correct = 0;
    let images = 0;
    let steps = 0;
    const total = batches.length ?? NaN;
    const started = Date.now();
    const sampler = (batches as { sampler?: unknown }).sampler;
    if (sampler instanceof DistributedSampler) sampler.setEpoch(epoch - 1);
    const ownBatches = batches instanceof DataLoader;
    for await (const [input, target] of batches as AsyncIterable<[Tensor, Tensor]>) {
      steps++;
      // Gradient accumulation: only the last backward of a window all-reduces (DDP's no_sync).
      if (this.ddp) this.ddp.requireBackwardGradSync = this.accumulate === 1 || !Number.isFinite(total) || steps % this.accumulate === 0 || steps === total;
      const { loss, right, n, stepped } = await this.step(input, target);
      if (ownBatches) disposeBatch(input, target);
      if (!stepped && (steps % this.accumulate === 0 || steps === total)) await this.optimizerStep();
      lossSum += loss * n;
      correct += right;
      images += n;
      const elapsed = (Date.now() - started) / 1000;
      const stats: StepEvent = {
        epoch, epochs, step: steps, steps: total, loss: lossSum / images, accuracy: correct / images, batchLoss: loss,
        lr: this.optimizer.paramGroups[0].lr, imagesPerSecond: images / Math.max(elapsed, 1e-9),
        etaSeconds: Number.isFinite(total) ? (elapsed / steps) * (total - steps) : 0,
      };
      progress.step(stats);
      this.emit('step', stats);
      if (this.ddp) this.stopRequested = await this.anyRank(this.stopRequested);
      if (this.stopRequested) break;
      await new Promise((r) => setImmediate(r)); // keep the event loop (timers, UI, SIGINT) running
    }
    // A partial accumulation window at the end of an unknown-length epoch still updates.
    if (!Number.isFinite(total) && steps % this.accumulate !== 0) await this.optimizerStep();
    [lossSum, correct, images] = await this.sumOverRanks(lossSum, correct, images);
    return { loss: lossSum / Math.max(images, 1), accuracy: correct / Math.max(images, 1), images, steps };
  }

  // One batch's forward, loss and backward: on a worker thread when the step compiles, else here.
  // `stepped`: the optimizer step is done too (a CUDA-graph step includes it).
  private async step(input: Tensor, target: Tensor): Promise<{ loss: number; right: number; n: number; stepped?: boolean }> {
    const x = input.device === this.device ? input : input.to(this.device);
    const y = target.device === this.device ? target : target.to(this.device);
    try {
      if (this.graphOptimizer) return this.graphStep(this.graphOptimizer, x, y);
      if (this.compiled === undefined) this.compiled = this.compileStep(x, y);
      if (this.compiled) {
        // The traced step runs forward and backward together: DDP's pre- and post-forward come first.
        this.ddp?.preForward();
        this.ddp?.postForward(null);
        const r = await this.compiled.run(x, y);
        return { loss: r.loss, right: r.correct, n: y.shape[0] };
      }
      return scope(() => {
        const [batchLoss, right] = this.autocast(() => lossAndRight(this.ddp ?? this.model, this.lossFn, x, y));
        const scaled = this.accumulate > 1 ? batchLoss.div(this.accumulate) : batchLoss;
        (this.scaler ? this.scaler.scale(scaled) : scaled).backward();
        return { loss: batchLoss.item() as number, right: right.item() as number, n: y.shape[0] };
      });
    } finally {
      if (x !== input) x.dispose();
      if (y !== target) y.dispose();
    }
  }

  private releaseStep(): void {
    this.compiled?.dispose();
    this.compiled = undefined;
    this.graph?.step?.dispose();
    this.graph = null;
  }

  // CUDA graphs: 3 eager warm-up steps on the side stream with batches of one shape, then capture on
  // that shape; replay for batches of it, eager steps for others.
  private graphStep(optimizer: Optimizer<{ lr: number }>, x: Tensor, y: Tensor): { loss: number; right: number; n: number; stepped: boolean } {
    const shape = `${x.shape}|${y.shape}`;
    const g = (this.graph ??= { side: new cuda.Stream(), shape, warm: 0, step: null });
    const n = y.shape[0];
    if (!g.step && g.warm >= 3 && shape === g.shape) g.step = GraphStep.capture(this.model, this.lossFn, optimizer, x, y, g.side);
    if (g.step?.fits(x, y)) {
      const r = g.step.run(x, y);
      return { loss: r.loss, right: r.correct, n, stepped: true };
    }
    // An eager step (warm-up, or a batch of another size): once captured, the gradients are the graph's
    // static tensors, zeroed in place rather than set to null.
    if (shape === g.shape) g.warm++;
    if (g.step) optimizer.zeroGrad({ setToNone: false });
    const r = cuda.onStream(g.side, () => scope(() => {
      const [loss, right] = lossAndRight(this.model, this.lossFn, x, y);
      loss.backward();
      optimizer.step();
      if (!g.step) optimizer.zeroGrad();
      return { loss: loss.item() as number, right: right.item() as number };
    }));
    return { ...r, n, stepped: true };
  }


  private compileStep(x: Tensor, y: Tensor): CompiledStep | null {
    const report = (offThread: boolean, reason: string) => this.emit('offThread', { offThread, reason });
    if (this.offThread === false) return null;
    if (this.ampDtype) {
      report(false, 'AMP steps run on the JS thread');
      return null;
    }
    if (this.ddp?.findsUnusedParameters) {
      report(false, 'DistributedDataParallel with findUnusedParameters needs the eager forward');
      return null;
    }
    try {
      const step = CompiledStep.compile(this.model, this.lossFn, x, y, this.accumulate);
      report(true, 'the traced step reproduces the eager step');
      return step;
    } catch (e) {
      if (this.offThread === true) throw e;
      report(false, e instanceof Error ? e.message : String(e));
      return null;
    }
  }

  private async optimizerStep(): Promise<void> {
    if (this.scaler) {
      this.scaler.step(this.optimizer);
      this.scaler.update();
    } else if (this.stepsOffThread) {
      await this.optimizer.stepAsync();
    } else {
      this.optimizer.step();
    }
    this.optimizer.zeroGrad();
  }

  /** fn under autocast when AMP is on. */
  private autocast<T>(fn: () => T): T {
    if (!this.ampDtype) return fn();
    return autocast({ deviceType: this.device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: this.ampDtype }, fn);
  }

  /** Loss and accuracy over a dataset, in eval mode without gradients. With `distributed`, every rank
   * calls it (on its share of the data) and gets the result over all ranks. */
  async evaluate(batches: Batches): Promise<{ loss: number; accuracy: number; images: number }> {
    const wasTraining = this.model.training;
    this.model.eval();
    let lossSum = 0;
    let correct = 0;
    let images = 0;
    const ownBatches = batches instanceof DataLoader;
    try {
      for await (const [input, target] of batches as AsyncIterable<[Tensor, Tensor]>) {
        const r = scope(() => noGrad(() => {
          const x = input.to(this.device);
          const y = target.to(this.device);
          const [output, loss] = this.autocast(() => {
            const out = this.model(x);
            return [out, this.lossFn(out, y)] as const;
          });
          return { loss: loss.item() as number, right: output.argmax(1).eq(y).sum().item() as number, n: y.shape[0] };
        }));
        if (ownBatches) disposeBatch(input, target);
        lossSum += r.loss * r.n;
        correct += r.right;
        images += r.n;
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      this.model.train(wasTraining);
    }
    [lossSum, correct, images] = await this.sumOverRanks(lossSum, correct, images);
    return { loss: lossSum / Math.max(images, 1), accuracy: correct / Math.max(images, 1), images };
  }

  // With `distributed`: each value summed over all ranks (every rank calls this at the same point). The
  // wait for slower ranks happens off the JS thread. On the training device: an NCCL group has no CPU
  // backend.
  private async sumOverRanks(...values: number[]): Promise<number[]> {
    if (!this.ddp) return values;
    const t = tensor(values, { dtype: 'float64', device: this.device });
    try {
      return (await dist.allReduceAsync(t)).toArray() as number[];
    } finally {
      t.dispose();
    }
  }

  // With `distributed`: whether any rank's flag is set, so that all ranks stop after the same step.
  private async anyRank(flag: boolean): Promise<boolean> {
    return (await this.sumOverRanks(flag ? 1 : 0))[0] > 0;
  }

  private writeOutputs(): void {
    if (!this.outDir || !this.leader) return;
    writeHistory(this.outDir, this.history);
    writeAtomic(path.join(this.outDir, 'curve.svg'), learningCurveSvg(this.history));
    writeAtomic(path.join(this.outDir, 'curve.html'), learningCurveHtml(this.history));
  }

  /**
   * Writes outDir/checkpoint.pt atomically (torch.save writes a temp file, then renames) after a complete
   * epoch, and then drops a stale interrupted.pt; a stopped epoch's state goes to interrupted.pt.
   */
  private checkpoint(epoch: number, interrupted: Checkpoint['interrupted'] = null): void {
    if (!this.outDir || !this.leader) return;
    const file = path.join(this.outDir, interrupted ? 'interrupted.pt' : 'checkpoint.pt');
    scope(() => {
      const ckpt: Checkpoint = {
        model: this.model.stateDict(),
        optimizer: this.optimizer.stateDict(),
        scheduler: this.scheduler?.stateDict() ?? null,
        scaler: this.scaler?.stateDict() ?? null,
        epoch,
        history: this.history,
        rng_state: getRngState(),
      };
      if (this.trainLoader?.generator !== undefined) ckpt.loader_rng_state = this.trainLoader.generatorState();
      if (interrupted) ckpt.interrupted = interrupted;
      save(ckpt as unknown as Record<string, unknown>, file);
    });
    if (interrupted) {
      const resumable = epoch > 0 ? `checkpoint.pt holds epoch ${epoch}, from which --resume continues as if never stopped`
        : 'no epoch has completed, so there is no checkpoint.pt yet (resuming from interrupted.pt repeats epoch 1 from its weights)';
      if (this.opts.progress !== false) process.stderr.write(`torchnode: epoch ${interrupted.epoch} stopped after step ${interrupted.step}; its state is in ${file}; ${resumable}\n`);
    } else {
      fs.rmSync(path.join(this.outDir, 'interrupted.pt'), { force: true });
    }
  }

  /** Loads a checkpoint into model, optimizer, scheduler, history and RNG; returns its epoch. */
  private restore(file: string): number {
    const target = checkpointPath(file);
    if (target !== file && !fs.existsSync(target) && fs.existsSync(path.join(file, 'interrupted.pt'))) {
      throw new TorchError(`resume: ${file} has no checkpoint.pt (no epoch was completed); to continue from the stopped ` +
        `epoch's state, resume from ${path.join(file, 'interrupted.pt')}`);
    }
    return scope(() => {
      const ckpt = load(target, { mapLocation: 'cpu' }) as unknown as Checkpoint;
      if (!ckpt || typeof ckpt !== 'object' || !ckpt.model || !ckpt.optimizer) throw new TypeError(`${target} is not a torchnode training checkpoint`);
      try {
        this.model.loadStateDict(ckpt.model);
        this.optimizer.loadStateDict(ckpt.optimizer);
        if (this.scheduler && ckpt.scheduler) this.scheduler.loadStateDict(ckpt.scheduler);
        if (this.scaler && ckpt.scaler) this.scaler.loadStateDict(ckpt.scaler);
      } catch (e) {
        if (e instanceof Error) e.message = `resume from ${target}: ${e.message}`;
        throw e;
      }
      this.history.splice(0, this.history.length, ...(ckpt.history ?? []));
      if (ckpt.rng_state instanceof Tensor) setRngState(ckpt.rng_state);
      if (ckpt.loader_rng_state instanceof Tensor && this.trainLoader?.generator !== undefined) {
        this.trainLoader?.setGeneratorState(ckpt.loader_rng_state);
      }
      return Number(ckpt.epoch) || 0;
    });
  }
}
