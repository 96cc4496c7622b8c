/**
 * `torchrun --nproc-per-node N script args…` for Node: N copies of a script, one per rank, each with the
 * variables torchrun sets (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE,
 * GROUP_RANK) so that `initProcessGroup({ initMethod: 'env://' })` finds the others. A rank that fails stops
 * the rest, as torchrun does. Ctrl-C reaches every rank from the terminal; a SIGTERM sent to the launcher
 * alone is passed on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';

export interface LaunchOptions {
  /** How many ranks (torchrun's --nproc-per-node). */
  nproc: number;
  /** The script each rank runs, and its arguments. */
  script: string;
  args?: string[];
  /** The rendezvous port (default: a free one). */
  masterPort?: number;
  /** Called once, when OMP_NUM_THREADS is unset and the launcher sets it to 1 for each rank (as torchrun does). */
  onOmpDefault?: () => void;
  /** Called when a rank fails and the others are being stopped. */
  onRankFailed?: (rank: number, reason: string) => void;
}

/** The exit codes of the ranks when one or more failed; `code` is the first failure's. */
export class LaunchError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly codes: number[],
  ) {
    super(message);
    this.name = 'LaunchError';
  }
}

/** Runs the ranks to completion; resolves when all exit 0, else rejects with a LaunchError. */
export async function launch(options: LaunchOptions): Promise<void> {
  const { nproc, script, args = [] } = options;
  if (!Number.isInteger(nproc) || nproc < 1) throw new RangeError(`nproc must be a positive integer (got ${String(nproc)})`);
  const port = options.masterPort ?? (await freePort());
  if (!process.env.OMP_NUM_THREADS) options.onOmpDefault?.();
  const children: ChildProcess[] = [];
  const onSigint = () => {};
  const onSigterm = () => children.forEach((c) => c.kill('SIGTERM'));
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const codes = await new Promise<number[]>((resolve) => {
      const results: number[] = new Array(nproc).fill(0);
      let left = nproc;
      let failed = false;
      for (let rank = 0; rank < nproc; rank++) {
        const env = {
          ...process.env,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          WORLD_SIZE: String(nproc),
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: String(nproc),
          GROUP_RANK: '0',
          OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
        };
        const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit', env });
        children.push(child);
        child.on('exit', (code, signal) => {
          results[rank] = code ?? (signal ? 128 : 1);
          left--;
          if (results[rank] !== 0 && !failed) {
            failed = true;
            options.onRankFailed?.(rank, `exited with ${signal ?? code}`);
            for (const c of children) if (c !== child && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
          }
          if (left === 0) resolve(results);
        });
      }
    });
    const failures = codes.filter((c) => c !== 0);
    if (failures.length) throw new LaunchError(`${failures.length} of ${nproc} ranks failed`, failures[0], codes);
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  }
}

/** A TCP port free on this machine now (for the rendezvous). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
