/**
 * Atomic file writes: torch.save, ScriptModule.save and the Trainer's run files go to a temporary
 * `<target>.tmp-<pid>-<n>` first and are renamed over the target, so a reader never sees a torn file.
 * A writer killed mid-write leaves its temporary behind; the next write to the same target (and the
 * Trainer, when a run starts) removes the ones whose process no longer exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';

/** Writing through a symlink replaces what it points to (as Python's open() would), not the link. */
export function saveTarget(file: string): string {
  try {
    if (fs.lstatSync(file).isSymbolicLink()) return fs.realpathSync(file);
  } catch {
    // missing, or a dangling link: write at the path itself
  }
  return file;
}

// Starts at a random number so a temporary file left by a crashed process with the same pid is not hit.
let tmpCounter = Math.floor(Math.random() * 1e9);

/** A fresh temporary name beside `target`, naming this process (and worker thread). */
export function tmpName(target: string): string {
  return `${target}.tmp-${process.pid}-${threadId ? `${threadId}.` : ''}${tmpCounter++}`;
}

const TEMP = /^(.*)\.tmp-(\d+)-[\d.]+$/;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Removes the temporaries in `dir` left by processes that no longer exist: those of `base` only, or all
 * of them. This process's own are never touched (another thread of it may be writing). Best effort:
 * what cannot be listed or removed stays.
 */
export function removeStaleTemps(dir: string, base?: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || (base !== undefined && m[1] !== base)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processExists(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** A temporary for `target` after clearing the stale ones of that same target. */
export function freshTmpFor(target: string): string {
  removeStaleTemps(path.dirname(target), path.basename(target));
  return tmpName(target);
}

/** Writes a small file so that readers never see a half-written one: a temp file, then rename. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = freshTmpFor(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
