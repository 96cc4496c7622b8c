/** A training run's per-epoch history, written as JSON and CSV. */
import * as path from 'node:path';
import { writeAtomic } from '../io/atomic';

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Seconds the epoch took (training and evaluation). */
  seconds: number;
  imagesPerSecond: number;
}

const COLUMNS: (keyof EpochRecord)[] = ['epoch', 'lr', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'seconds', 'imagesPerSecond'];

export function historyCsv(history: EpochRecord[]): string {
  const rows = history.map((r) => COLUMNS.map((c) => (r[c] === null ? '' : String(r[c]))).join(','));
  return [COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export function writeHistory(dir: string, history: EpochRecord[]): void {
  writeAtomic(path.join(dir, 'history.json'), JSON.stringify(history, null, 2) + '\n');
  writeAtomic(path.join(dir, 'history.csv'), historyCsv(history));
}
