/**
 * The usual training loop as a Trainer: epochs of zeroGrad → forward → loss → backward → step, the
 * scheduler stepped each epoch, train loss/accuracy, test accuracy, lr; gradient accumulation;
 * progress, events for every step and epoch (so an Electron window can follow), and the run's files and
 * checkpoints (Checkpointer, checkpoint.ts), from which `resume` continues to bit-identical results on CPU.
 * How a batch is stepped (eager, off the JS thread, a CUDA graph; AMP) is a StepStrategy that the options pick
 * through one table (strategy.ts). stop() (or SIGINT, see handleSigint) ends fit() after the current step and
 * saves its state apart (interrupted.pt), leaving checkpoint.pt at the last complete epoch.
 */
import { EventEmitter } from 'node:events';
import { type Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { Module } from '../nn/module';
import { crossEntropy } from '../nn/functional';
import { Optimizer } from '../optim/optimizer';
import { LRScheduler } from '../optim/lr_scheduler/base';
import { noGrad } from '../core/autograd';
import { scope } from '../core/scope';
import { checkComputeDevice, describe } from '../core/dtype';
import { tensor } from '../core/creation';
import { TorchError } from '../core/errors';
import * as cuda from '../cuda';
import * as backends from '../cuda/backends';
import type { GradScaler } from '../cuda/amp';
import { DistributedDataParallel } from '../nn/parallel';
import * as dist from '../distributed';
import { DistributedSampler } from '../data/distributed';
import { DataLoader } from '../data/dataloader';
import type { EpochRecord } from './history';
import { makeProgress } from './progress';
import { TRAINER_OPTIONS, type Batches, type FitOptions, type StepEvent, type TrainerOptions } from './options';
import { MixedPrecision } from './amp';
import { GraphStep } from './graph-step';
import { chooseStep, makeStep, type StepPlan, type StepResult, type StepStrategy } from './strategy';
import { Checkpointer } from './checkpoint';

/**
 * A DataLoader's batches are made for this one iteration, and freed as soon as the step is done. Tensors
 * from any other iterable (an array of pairs, a generator) belong to the caller: never disposed here.
 */
function disposeBatch(input: Tensor, target: Tensor): void {
  input.dispose();
  target.dispose();
}

export class Trainer extends EventEmitter {
  readonly model: Module<[Tensor], Tensor>;
  readonly optimizer: Optimizer<{ lr: number }>;
  readonly scheduler: LRScheduler | null;
  readonly device: string;
  readonly history: EpochRecord[] = [];
  /** Loss scaling for float16 AMP (null otherwise). */
  readonly scaler: GradScaler | null;
  /** The DistributedDataParallel wrapper with `distributed`, else null. */
  readonly ddp: DistributedDataParallel<[Tensor], Tensor> | null = null;
  /** @internal What STEP_TABLE picked for these options. */
  readonly stepPlan: StepPlan;
  private readonly lossFn: (output: Tensor, target: Tensor) => Tensor;
  private readonly accumulate: number;
  private readonly precision: MixedPrecision;
  private readonly checkpointer: Checkpointer;
  private readonly leader: boolean = true;
  private stopRequested = false;
  private strategy: StepStrategy | null = null; // fit()'s own

  constructor(private readonly opts: TrainerOptions) {
    super();
    optionsArg(opts, 'Trainer', TRAINER_OPTIONS, '{model, optimizer}');
    if (!(opts?.model instanceof Module)) throw new TypeError(`Trainer: model must be an nn.Module (got ${describe(opts?.model)})`);
    if (!(opts.optimizer instanceof Optimizer))
      throw new TypeError(`Trainer: optimizer must be a torch.optim optimizer (got ${describe(opts.optimizer)})`);
    if (opts.scheduler != null && !(opts.scheduler instanceof LRScheduler)) throw new TypeError('Trainer: scheduler must be an lrScheduler');
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.scheduler = opts.scheduler ?? null;
    this.lossFn = opts.lossFn ?? ((o, t) => crossEntropy(o, t));
    this.accumulate = opts.accumulate ?? 1;
    if (!Number.isInteger(this.accumulate) || this.accumulate < 1)
      throw new RangeError(`accumulate must be a positive integer (got ${opts.accumulate})`);
    const device = opts.device ?? 'auto';
    this.device = device === 'auto' ? (cuda.isAvailable() ? 'cuda' : 'cpu') : device;
    this.precision = new MixedPrecision(opts.amp ?? false, this.device);
    this.scaler = this.precision.scaler;
    const offThread = opts.offThread ?? 'auto';
    if (offThread !== true && offThread !== false && offThread !== 'auto')
      throw new TypeError(`offThread must be a boolean or 'auto' (got ${describe(opts.offThread)})`);
    const distributed = opts.distributed ?? false;
    // Refused combinations first, before anything moves or is written.
    this.stepPlan = chooseStep({
      device: this.device,
      amp: this.precision.enabled,
      cudaGraph: Boolean(opts.cudaGraph),
      offThread,
      distributed: distributed !== false,
      findUnusedParameters: typeof distributed === 'object' && distributed?.findUnusedParameters === true,
      accumulate: this.accumulate,
      uncapturable: opts.cudaGraph ? GraphStep.optimizerProblem(this.optimizer) : null,
    });
    checkComputeDevice(this.device, 'Trainer: device'); // 'cuda' on a machine without it: said plainly here
    if (this.device.startsWith('cuda') && (opts.cudnnBenchmark ?? true)) backends.cudnn.benchmark = true;
    this.model.to(this.device);
    if (distributed !== false) {
      if (!dist.isInitialized())
        throw new TorchError('Trainer: distributed needs the default process group: call torch.distributed.initProcessGroup first');
      this.ddp = new DistributedDataParallel(this.model, distributed === true ? {} : distributed);
      this.leader = dist.getRank() === 0;
    }
    this.checkpointer = new Checkpointer(this, {
      dir: opts.outDir ?? null,
      writes: this.leader,
      log: opts.progress === false ? null : (line) => process.stderr.write(line + '\n'),
    });
  }

  /** True while steps run off the JS thread (after the first step of a fit). */
  get stepsOffThread(): boolean {
    return this.strategy?.offThread ?? false;
  }

  /** Asks fit() to stop after the current step (it saves a checkpoint first). */
  stop(): void {
    this.stopRequested = true;
  }

  /** The loop over `epochs`; returns the history (one record per epoch). */
  async fit(train: Batches, fitOpts: FitOptions): Promise<EpochRecord[]> {
    optionsArg(fitOpts, 'fit', ['epochs', 'testData', 'resume'], '{epochs: 4}');
    const epochs = fitOpts?.epochs;
    if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`fit: epochs must be a positive integer (got ${describe(epochs)})`);
    this.checkpointer.loader = train instanceof DataLoader ? train : null;
    const startEpoch = this.checkpointer.begin(fitOpts.resume ?? null) + 1;
    const strategy = (this.strategy = makeStep(this.stepPlan, {
      model: this.model,
      ddp: this.ddp,
      optimizer: this.optimizer,
      lossFn: this.lossFn,
      accumulate: this.accumulate,
      precision: this.precision,
      report: (offThread, reason) => this.emit('offThread', { offThread, reason }),
    }));
    const progress = makeProgress(this.leader ? (this.opts.progress ?? 'auto') : false, process.stderr, this.opts.logEvery ?? 10);
    const stopListening = this.listenForSigint();
    this.stopRequested = false;
    try {
      for (let epoch = startEpoch; epoch <= epochs && !this.stopRequested; epoch++) {
        const started = Date.now();
        const lr = this.optimizer.paramGroups[0].lr;
        const trainStats = await this.trainEpoch(strategy, train, epoch, epochs, progress);
        if (this.stopRequested && trainStats.steps < (train.length ?? Infinity)) {
          // checkpoint.pt stays at the last complete epoch, from which resume is bit-identical; the
          // interrupted state is kept apart (resuming from it repeats the epoch from those weights).
          this.checkpointer.saveInterrupted(epoch - 1, { epoch, step: trainStats.steps });
          break;
        }
        this.scheduler?.step();
        const test = fitOpts.testData ? await this.evaluate(fitOpts.testData) : null;
        const seconds = (Date.now() - started) / 1000;
        const record: EpochRecord = {
          epoch,
          lr,
          trainLoss: trainStats.loss,
          trainAccuracy: trainStats.accuracy,
          testLoss: test?.loss ?? null,
          testAccuracy: test?.accuracy ?? null,
          seconds,
          imagesPerSecond: trainStats.images / Math.max(seconds, 1e-9),
        };
        this.history.push(record);
        progress.endEpoch(
          `epoch ${epoch}/${epochs}: train loss ${record.trainLoss.toFixed(4)} acc ${(record.trainAccuracy * 100).toFixed(2)}%` +
            (test ? ` | test loss ${test.loss.toFixed(4)} acc ${(test.accuracy * 100).toFixed(2)}%` : '') +
            ` | lr ${lr} | ${seconds.toFixed(1)} s`,
        );
        this.checkpointer.writeRunFiles();
        this.checkpointer.save(epoch);
        this.emit('epoch', record);
      }
    } finally {
      progress.stop();
      stopListening();
      strategy.dispose();
      this.strategy = null;
    }
    return this.history;
  }

  // handleSigint: the first SIGINT of a fit() stops it (see TrainerOptions.handleSigint); returns the remover.
  private listenForSigint(): () => void {
    if (!(this.opts.handleSigint ?? true)) return () => {};
    const onSigint = () => {
      this.stop();
      // Listened for once: with no other listener left, Node's default ends the process on the next one.
      const again = process.listenerCount('SIGINT') === 0 ? ' (Ctrl-C again to abort)' : '';
      process.stderr.write(`\ntorchnode: stopping after this step and saving a checkpoint${again}\n`);
    };
    process.once('SIGINT', onSigint);
    return () => process.removeListener('SIGINT', onSigint);
  }

  private async trainEpoch(strategy: StepStrategy, batches: Batches, epoch: number, epochs: number, progress: ReturnType<typeof makeProgress>) {
    this.model.train();
    strategy.zeroGrad();
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
      if (this.ddp)
        this.ddp.requireBackwardGradSync = this.accumulate === 1 || !Number.isFinite(total) || steps % this.accumulate === 0 || steps === total;
      const { loss, right, n, stepped } = await this.stepOnDevice(strategy, input, target);
      if (ownBatches) disposeBatch(input, target);
      if (!stepped && (steps % this.accumulate === 0 || steps === total)) await strategy.update();
      lossSum += loss * n;
      correct += right;
      images += n;
      const elapsed = (Date.now() - started) / 1000;
      const stats: StepEvent = {
        epoch,
        epochs,
        step: steps,
        steps: total,
        loss: lossSum / images,
        accuracy: correct / images,
        batchLoss: loss,
        lr: this.optimizer.paramGroups[0].lr,
        imagesPerSecond: images / Math.max(elapsed, 1e-9),
        etaSeconds: Number.isFinite(total) ? (elapsed / steps) * (total - steps) : 0,
      };
      progress.step(stats);
      this.emit('step', stats);
      if (this.ddp) this.stopRequested = await this.anyRank(this.stopRequested);
      if (this.stopRequested) break;
      await new Promise((r) => setImmediate(r)); // keep the event loop (timers, UI, SIGINT) running
    }
    // A partial accumulation window at the end of an unknown-length epoch still updates.
    if (!Number.isFinite(total) && steps % this.accumulate !== 0) await strategy.update();
    [lossSum, correct, images] = await this.sumOverRanks(lossSum, correct, images);
    return { loss: lossSum / Math.max(images, 1), accuracy: correct / Math.max(images, 1), images, steps };
  }

  // One step on the batch moved to the training device; copies made here are freed after it.
  private async stepOnDevice(strategy: StepStrategy, input: Tensor, target: Tensor): Promise<StepResult> {
    const x = input.device === this.device ? input : input.to(this.device);
    const y = target.device === this.device ? target : target.to(this.device);
    try {
      return await strategy.step(x, y);
    } finally {
      if (x !== input) x.dispose();
      if (y !== target) y.dispose();
    }
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
        const r = scope(() =>
          noGrad(() => {
            const x = input.to(this.device);
            const y = target.to(this.device);
            const [output, loss] = this.precision.autocast(() => {
              const out = this.model(x);
              return [out, this.lossFn(out, y)] as const;
            });
            return { loss: loss.item() as number, right: output.argmax(1).eq(y).sum().item() as number, n: y.shape[0] };
          }),
        );
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
}
