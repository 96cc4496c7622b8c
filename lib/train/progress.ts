/**
 * Progress output for fit(): a TTY progress bar (step/total, loss, accuracy, lr, images/s, ETA) via
 * cli-progress, and periodic plain lines when output is not a TTY (logs, CI, pipes).
 */
import { SingleBar, Presets } from 'cli-progress';

export interface StepStats {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  lr: number;
  imagesPerSecond: number;
  /** Seconds left in this epoch at the current pace. */
  etaSeconds: number;
}

export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  step(s: StepStats): void;
  endEpoch(line: string): void;
  stop(): void;
}

const fmtLr = (lr: number) => (lr >= 1e-3 ? lr.toPrecision(3) : lr.toExponential(2));

class TtyProgress implements ProgressReporter {
  private bar: SingleBar | null = null;
  constructor(private stream: NodeJS.WriteStream) {}
  startEpoch(epoch: number, epochs: number, steps: number): void {
    this.bar = new SingleBar(
      {
        stream: this.stream,
        format: `epoch ${epoch}/${epochs} {bar} {value}/{total} | loss {loss} | acc {acc} | lr {lr} | {ips} img/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    this.bar.start(steps, 0, { loss: '-', acc: '-', lr: '-', ips: '-' });
  }
  step(s: StepStats): void {
    this.bar?.update(s.step, {
      loss: s.loss.toFixed(4),
      acc: (s.accuracy * 100).toFixed(2) + '%',
      lr: fmtLr(s.lr),
      ips: s.imagesPerSecond.toFixed(0),
    });
  }
  endEpoch(line: string): void {
    this.bar?.stop();
    this.bar = null;
    this.stream.write(line + '\n');
  }
  stop(): void {
    this.bar?.stop();
  }
}

/** Plain lines every `everySeconds` (and at the end of each epoch): what a log file wants. */
class LineProgress implements ProgressReporter {
  private last = 0;
  constructor(
    private write: (s: string) => void,
    private everySeconds: number,
  ) {}
  startEpoch(): void {
    this.last = Date.now();
  }
  step(s: StepStats): void {
    const now = Date.now();
    if (now - this.last < this.everySeconds * 1000 && s.step !== s.steps) return;
    this.last = now;
    this.write(
      `epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.steps} loss ${s.loss.toFixed(4)} acc ${(s.accuracy * 100).toFixed(2)}% ` +
        `lr ${fmtLr(s.lr)} ${s.imagesPerSecond.toFixed(0)} img/s ETA ${Math.round(s.etaSeconds)}s`,
    );
  }
  endEpoch(line: string): void {
    this.write(line);
  }
  stop(): void {}
}

class Silent implements ProgressReporter {
  startEpoch(): void {}
  step(): void {}
  endEpoch(): void {}
  stop(): void {}
}

/** 'auto': a bar on a TTY, lines otherwise; false: nothing. */
export function makeProgress(mode: boolean | 'auto', stream: NodeJS.WriteStream = process.stderr, everySeconds = 10): ProgressReporter {
  if (mode === false) return new Silent();
  if (stream.isTTY) return new TtyProgress(stream);
  return new LineProgress((s) => stream.write(s + '\n'), everySeconds);
}
