/** A training run's per-epoch history, written as JSON and CSV. */
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** Writes a file so that readers never see a half-written one: a temp file, then rename. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function writeHistory(dir: string, history: EpochRecord[]): void {
  writeAtomic(path.join(dir, 'history.json'), JSON.stringify(history, null, 2) + '\n');
  writeAtomic(path.join(dir, 'history.csv'), historyCsv(history));
}
