/**
 * A training run's files and its resume. In the run folder: checkpoint.pt after each complete epoch,
 * interrupted.pt for a stopped epoch (checkpoint.pt stays at the last complete one), history.json/csv and the
 * learning curve (curve.svg/html). Every file is written atomically (a temporary renamed over it), so a kill
 * mid-write leaves the previous one loadable. resume loads a checkpoint back into the model, optimizer,
 * scheduler, scaler, history and RNGs, so training continues to bit-identical results on the CPU.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../core/tensor';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import type { LRScheduler } from '../optim/lr_scheduler/base';
import type { GradScaler } from '../cuda/amp';
import type { DataLoader } from '../data/dataloader';
import { scope } from '../core/scope';
import { getRngState, setRngState } from '../core/creation';
import { TorchError } from '../core/errors';
import { save, load } from '../io/serialize';
import { removeStaleTemps, writeAtomic } from '../io/atomic';
import { type EpochRecord, writeHistory } from './history';
import { learningCurveHtml, learningCurveSvg } from './chart';

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

/** What a checkpoint holds of training. */
export interface TrainingState {
  model: Module;
  optimizer: Optimizer<{ lr: number }>;
  scheduler: LRScheduler | null;
  scaler: GradScaler | null;
  /** Restored in place by resume. */
  history: EpochRecord[];
}

export interface CheckpointerOptions {
  /** The run folder (made if missing); null: nothing is written, and resume still reads. */
  dir: string | null;
  /** False on the ranks other than 0 of a data-parallel run: only one process writes the run. */
  writes?: boolean;
  /** Where the note about a stopped epoch goes; null: nowhere. */
  log?: ((line: string) => void) | null;
}

/**
 * Whether a loaded file is a checkpoint: an object with the model's and the optimizer's states (each checked
 * by its own loadStateDict); resume reads every other field as one that may be missing or wrong.
 */
function isCheckpoint(loaded: unknown): loaded is Pick<Checkpoint, 'model' | 'optimizer'> & Partial<Checkpoint> {
  return !!loaded && typeof loaded === 'object' && 'model' in loaded && !!loaded.model && 'optimizer' in loaded && !!loaded.optimizer;
}

const CHECKPOINT = 'checkpoint.pt';
const INTERRUPTED = 'interrupted.pt';

/** @internal The checkpoint a path names: a run folder's checkpoint.pt, or the file itself. */
export function checkpointPath(fileOrRunDir: string): string {
  return fs.existsSync(fileOrRunDir) && fs.statSync(fileOrRunDir).isDirectory() ? path.join(fileOrRunDir, CHECKPOINT) : fileOrRunDir;
}

export class Checkpointer {
  /** The training DataLoader of the current fit(), when it is one: its generator is saved and restored too. */
  loader: DataLoader | null = null;
  readonly dir: string | null;
  private readonly writes: boolean;
  private readonly log: ((line: string) => void) | null;

  constructor(
    private readonly state: TrainingState,
    opts: CheckpointerOptions,
  ) {
    this.dir = opts.dir || null;
    this.writes = this.dir !== null && (opts.writes ?? true);
    this.log = opts.log ?? null;
    if (this.dir) fs.mkdirSync(this.dir, { recursive: true });
  }

  /**
   * A fit() begins: the temporaries of writers killed mid-save (an earlier run's SIGKILL) go, then training
   * resumes from `resume`, or, for a new run, the folder's earlier checkpoints go (a resume must not take
   * them for this run's). Returns the last complete epoch: 0 for a new run.
   */
  begin(resume: string | null): number {
    if (this.writes) removeStaleTemps(this.dir!);
    if (resume) return this.resume(resume);
    if (this.writes) for (const f of [CHECKPOINT, INTERRUPTED]) fs.rmSync(path.join(this.dir!, f), { force: true });
    return 0;
  }

  /** checkpoint.pt after complete epoch `epoch`; a stale interrupted.pt goes. */
  save(epoch: number): void {
    if (!this.writes) return;
    this.write(CHECKPOINT, epoch, null);
    fs.rmSync(path.join(this.dir!, INTERRUPTED), { force: true });
  }

  /** interrupted.pt: the state of epoch `at.epoch` stopped after `at.step` steps; `epoch` is the last complete one. */
  saveInterrupted(epoch: number, at: { epoch: number; step: number }): void {
    if (!this.writes) return;
    const file = this.write(INTERRUPTED, epoch, at);
    const resumable =
      epoch > 0
        ? `checkpoint.pt holds epoch ${epoch}, from which --resume continues as if never stopped`
        : 'no epoch has completed, so there is no checkpoint.pt yet (resuming from interrupted.pt repeats epoch 1 from its weights)';
    this.log?.(`torchnode: epoch ${at.epoch} stopped after step ${at.step}; its state is in ${file}; ${resumable}`);
  }

  /** history.json/csv and the learning curve, from the history so far. */
  writeRunFiles(): void {
    if (!this.writes) return;
    writeHistory(this.dir!, this.state.history);
    writeAtomic(path.join(this.dir!, 'curve.svg'), learningCurveSvg(this.state.history));
    writeAtomic(path.join(this.dir!, 'curve.html'), learningCurveHtml(this.state.history));
  }

  /** Loads a checkpoint (or a run folder's checkpoint.pt) into the training state; returns its epoch. */
  resume(fileOrRunDir: string): number {
    const file = checkpointPath(fileOrRunDir);
    if (file !== fileOrRunDir && !fs.existsSync(file) && fs.existsSync(path.join(fileOrRunDir, INTERRUPTED))) {
      throw new TorchError(
        `resume: ${fileOrRunDir} has no checkpoint.pt (no epoch was completed); to continue from the stopped ` +
          `epoch's state, resume from ${path.join(fileOrRunDir, INTERRUPTED)}`,
      );
    }
    const { model, optimizer, scheduler, scaler, history } = this.state;
    return scope(() => {
      const ckpt = load(file, { mapLocation: 'cpu' }); // a damaged file: an error naming it
      if (!isCheckpoint(ckpt)) throw new TypeError(`${file} is not a torchnode training checkpoint`);
      try {
        model.loadStateDict(ckpt.model);
        optimizer.loadStateDict(ckpt.optimizer);
        if (scheduler && ckpt.scheduler) scheduler.loadStateDict(ckpt.scheduler);
        if (scaler && ckpt.scaler) scaler.loadStateDict(ckpt.scaler);
      } catch (e) {
        if (e instanceof Error) e.message = `resume from ${file}: ${e.message}`;
        throw e;
      }
      history.splice(0, history.length, ...(ckpt.history ?? []));
      if (ckpt.rng_state instanceof Tensor) setRngState(ckpt.rng_state);
      if (ckpt.loader_rng_state instanceof Tensor && this.loader?.generator !== undefined) this.loader.setGeneratorState(ckpt.loader_rng_state);
      return Number(ckpt.epoch) || 0;
    });
  }

  private write(name: string, epoch: number, interrupted: Checkpoint['interrupted']): string {
    const file = path.join(this.dir!, name);
    const { model, optimizer, scheduler, scaler, history } = this.state;
    scope(() => {
      const ckpt: Checkpoint = {
        model: model.stateDict(),
        optimizer: optimizer.stateDict(),
        scheduler: scheduler?.stateDict() ?? null,
        scaler: scaler?.stateDict() ?? null,
        epoch,
        history,
        rng_state: getRngState(),
      };
      if (this.loader?.generator !== undefined) ckpt.loader_rng_state = this.loader.generatorState();
      if (interrupted) ckpt.interrupted = interrupted;
      save(ckpt, file); // atomic: a temporary renamed over the file
    });
    return file;
  }
}
