/**
 * torch.distributed: processes that train together, on LibTorch's own c10d (Gloo on the CPU, NCCL on
 * CUDA) with a TCPStore rendezvous, as PyTorch does it.
 *
 *     await torch.distributed.initProcessGroup({ backend: 'gloo' });   // env:// as torchrun sets it
 *     const x = torch.ones([4]).mul(torch.distributed.getRank());
 *     torch.distributed.allReduce(x, { op: 'sum' });                   // in place, on every rank
 *     await torch.distributed.barrierAsync();                          // the event loop runs meanwhile
 *     torch.distributed.destroyProcessGroup();
 *
 * One default group per process (or worker thread). Every rank must issue the same collectives in the
 * same order. Each collective has a blocking form (PyTorch's) and an Async form whose Promise settles
 * when the collective completes, while the event loop goes on; leave its tensors alone until then.
 * A peer that dies fails the others' collectives with Gloo's "Connection closed by peer"; a peer that
 * stops answering fails them after the group's timeout.
 */
import { Tensor } from '../core/tensor';
import { native, type ProcessGroupHandle } from '../core/native';
import { TorchError, withCallerStack } from '../core/errors';
import { describe } from '../core/dtype';

export type Backend = 'gloo' | 'nccl';
/** Reductions, as torch.distributed.ReduceOp ('avg' needs NCCL; the bitwise ones integer tensors). */
export type ReduceOpName = 'sum' | 'product' | 'min' | 'max' | 'band' | 'bor' | 'bxor' | 'avg';
export const ReduceOp = {
  SUM: 'sum',
  PRODUCT: 'product',
  MIN: 'min',
  MAX: 'max',
  BAND: 'band',
  BOR: 'bor',
  BXOR: 'bxor',
  AVG: 'avg',
} as const satisfies Record<string, ReduceOpName>;
const OPS = new Set<string>(Object.values(ReduceOp));

/** A collective or the rendezvous failed: a peer died, stopped answering (timeout), or refused. */
export class DistError extends TorchError {}

export interface InitProcessGroupOptions {
  /** 'gloo' (default: CPU tensors, and CUDA tensors through the host) or 'nccl' (CUDA tensors). */
  backend?: Backend;
  /** 'env://' (default: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, as torchrun sets them) or
   * 'tcp://host:port' (then give rank and worldSize). Rank 0 hosts the rendezvous store. */
  initMethod?: string;
  /** This process's rank, 0..worldSize-1 (default: RANK, or the initMethod's ?rank=). */
  rank?: number;
  /** The number of processes (default: WORLD_SIZE, or the initMethod's ?world_size=). */
  worldSize?: number;
  /** Milliseconds the rendezvous and each collective may wait for the others (default 30 minutes, as PyTorch). */
  timeout?: number;
}

interface Group {
  handle: ProcessGroupHandle;
  rank: number;
  worldSize: number;
  backend: Backend;
}

let group: Group | null = null;
let pending = false;
const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** Whether torch.distributed is usable: always true (Gloo is part of every build). */
export function isAvailable(): boolean {
  return true;
}
export function isGlooAvailable(): boolean {
  return native.distBackends().gloo;
}
/** Whether this build has the NCCL backend (a CUDA LibTorch and nccl.h when it was built). */
export function isNcclAvailable(): boolean {
  return native.distBackends().nccl;
}
export function isInitialized(): boolean {
  return group !== null;
}

function env(name: string, method: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new TorchError(`Error initializing torch.distributed using ${method} rendezvous: environment variable ${name} expected, but not set`);
  }
  return v;
}

function intOption(v: unknown, name: string, min: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError(`${name} must be an integer (got ${describe(v)})`);
  if (n < min) throw new RangeError(`${name} must be at least ${min} (got ${n})`);
  return n;
}

/** Where to meet and who we are, from initMethod, the options and the environment (as PyTorch's handlers). */
function rendezvous(o: InitProcessGroupOptions): { host: string; port: number; rank: number; worldSize: number; hostStore: boolean; prefix: string } {
  const method = o.initMethod ?? 'env://';
  if (typeof method !== 'string') throw new TypeError(`initMethod must be a string like 'env://' or 'tcp://host:port' (got ${describe(method)})`);
  let host: string;
  let port: string;
  let query = new URLSearchParams();
  if (method === 'env://' || method.startsWith('env://?')) {
    query = new URLSearchParams(method.slice('env://'.length).replace(/^\?/, ''));
    host = env('MASTER_ADDR', 'env://');
    port = env('MASTER_PORT', 'env://');
  } else if (method.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(method);
    } catch {
      throw new TypeError(`initMethod ${method} is not a valid tcp://host:port address`);
    }
    if (!url.hostname || !url.port) throw new TypeError(`initMethod ${method} must name a host and a port: tcp://host:port`);
    host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = url.port;
    query = url.searchParams;
  } else {
    throw new TypeError(`initMethod must be 'env://' or 'tcp://host:port' (got '${method}')`);
  }
  const fromEnv = method.startsWith('env://');
  const pick = (given: number | undefined, q: string, envName: string, name: string): number => {
    if (given !== undefined) return intOption(given, name, 0);
    if (query.has(q)) return intOption(query.get(q), `${name} (?${q}=)`, 0);
    if (fromEnv) return intOption(env(envName, 'env://'), envName, 0);
    throw new TypeError(`initProcessGroup: ${name} is required with initMethod ${method}`);
  };
  const rank = pick(o.rank, 'rank', 'RANK', 'rank');
  const worldSize = pick(o.worldSize, 'world_size', 'WORLD_SIZE', 'worldSize');
  if (worldSize < 1) throw new RangeError(`worldSize must be at least 1 (got ${worldSize})`);
  if (rank >= worldSize) throw new RangeError(`rank must be below worldSize (got rank ${rank}, worldSize ${worldSize})`);
  const portNumber = intOption(port, fromEnv ? 'MASTER_PORT' : 'the port', 1);
  if (portNumber > 65535) throw new RangeError(`the port must be at most 65535 (got ${portNumber})`);
  // Under torchrun the agent already serves the store on MASTER_PORT: every rank is a client of it, with
  // the prefix PyTorch uses there (as torch.distributed.rendezvous's env:// handler).
  const agent = fromEnv && process.env.TORCHELASTIC_USE_AGENT_STORE === 'True';
  const prefix = agent ? `/worker/attempt_${env('TORCHELASTIC_RESTART_COUNT', 'env://')}` : '';
  return { host, port: portNumber, rank, worldSize, hostStore: !agent && rank === 0, prefix };
}

/**
 * Joins the default process group: waits (off the JS thread) until all worldSize ranks have met at the
 * rendezvous and the backend has connected them. Rejects with a DistError when that does not happen
 * within `timeout`.
 */
export async function initProcessGroup(opts: InitProcessGroupOptions = {}): Promise<void> {
  const callerStack = new Error().stack;
  if (opts === null || typeof opts !== 'object') throw new TypeError(`initProcessGroup: options must be an object (got ${describe(opts)})`);
  if (group !== null || pending) throw new TorchError('trying to initialize the default process group twice!');
  const backend = opts.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') throw new TypeError(`backend must be 'gloo' or 'nccl' (got ${describe(backend)})`);
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 1) {
    throw new TypeError(`timeout must be a positive number of milliseconds (got ${describe(timeout)})`);
  }
  const r = rendezvous(opts);
  if (backend === 'nccl' && !isNcclAvailable()) {
    throw new TorchError(
      "the 'nccl' backend is not in this build of torchnode: it needs a CUDA LibTorch and NCCL's header (nccl.h) " +
        'when the addon is built (set NCCL_INCLUDE_DIR and rebuild); use gloo',
    );
  }
  pending = true;
  try {
    const handle = await native.distInitAsync(backend, r.host, r.port, r.rank, r.worldSize, Math.ceil(timeout), r.hostStore, r.prefix);
    group = { handle, rank: r.rank, worldSize: r.worldSize, backend };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw withCallerStack(
      new DistError(
        `torch.distributed.initProcessGroup: rank ${r.rank} of ${r.worldSize} could not join the ` + `group at ${r.host}:${r.port}: ${msg}`,
      ),
      callerStack,
    );
  } finally {
    pending = false;
  }
}

/** Leaves the default group: its connections close and its threads end. */
export function destroyProcessGroup(): void {
  const g = current('destroyProcessGroup');
  group = null;
  native.distDestroy(g.handle);
}

function current(what: string): Group {
  if (group === null) {
    throw new TorchError(
      `torch.distributed.${what}: the default process group has not been initialized; call torch.distributed.initProcessGroup first`,
    );
  }
  return group;
}

/** This process's rank in the default group. */
export function getRank(): number {
  return current('getRank').rank;
}
export function getWorldSize(): number {
  return current('getWorldSize').worldSize;
}
export function getBackend(): Backend {
  return current('getBackend').backend;
}
/** This process's rank on its machine: LOCAL_RANK (set by torchrun and `torchnode train --nproc`), else
 * fallbackRank, as torch.distributed.get_node_local_rank. */
export function getNodeLocalRank(opts: { fallbackRank?: number } = {}): number {
  const v = process.env.LOCAL_RANK;
  if (v !== undefined && v !== '') return intOption(v, 'LOCAL_RANK', 0);
  if (opts.fallbackRank !== undefined) return intOption(opts.fallbackRank, 'fallbackRank', 0);
  throw new TorchError(
    'LOCAL_RANK is not in the environment: give fallbackRank, or start the processes with torchrun or `torchnode train --nproc N`',
  );
}

function denseArg(t: unknown, what: string): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${what} must be a Tensor (got ${describe(t)})`);
  if (!t.isContiguous()) throw new RangeError(`${what} must be contiguous (call .contiguous() first)`);
  return t;
}

// Runs a collective of the default group; c10d's failures become DistErrors naming the rank.
function collective<T>(what: string, run: (g: Group) => T): T {
  const g = current(what);
  try {
    return run(g);
  } catch (e) {
    throw wrapError(e, what, g);
  }
}

async function collectiveAsync<T>(what: string, run: (g: Group) => Promise<T>): Promise<T> {
  const callerStack = new Error().stack;
  const g = current(what);
  try {
    return await run(g);
  } catch (e) {
    throw withCallerStack(wrapError(e, what, g), callerStack);
  }
}

function wrapError(e: unknown, what: string, g: Group): unknown {
  if (!(e instanceof TorchError) || e instanceof DistError) return e;
  return new DistError(`torch.distributed.${what} failed on rank ${g.rank} of ${g.worldSize}: ${e.message}`);
}

function opArg(opts: { op?: ReduceOpName } | undefined, what: string): ReduceOpName {
  const op = opts?.op ?? 'sum';
  if (typeof op !== 'string' || !OPS.has(op)) throw new TypeError(`${what}: op must be one of ${[...OPS].join(', ')} (got ${describe(op)})`);
  return op;
}

function srcArg(opts: { src?: number } | undefined, g: Group, what: string): number {
  const src = opts?.src ?? 0;
  if (!Number.isInteger(src) || src < 0 || src >= g.worldSize)
    throw new RangeError(`${what}: src must be a rank in 0..${g.worldSize - 1} (got ${describe(src)})`);
  return src;
}

/** Reduces `tensor` over all ranks, in place on every rank (default op 'sum'); returns it. */
export function allReduce(tensor: Tensor, opts: { op?: ReduceOpName } = {}): Tensor {
  const t = denseArg(tensor, 'allReduce: tensor');
  const op = opArg(opts, 'allReduce');
  return collective('allReduce', (g) => (native.distAllReduce(g.handle, [t.handle], op), t));
}
export function allReduceAsync(tensor: Tensor, opts: { op?: ReduceOpName } = {}): Promise<Tensor> {
  const t = denseArg(tensor, 'allReduceAsync: tensor');
  const op = opArg(opts, 'allReduceAsync');
  return collectiveAsync('allReduceAsync', (g) => native.distAllReduceAsync(g.handle, [t.handle], op).then(() => t));
}

/** Copies rank `src`'s tensor (default 0) into `tensor` on every other rank; returns it. */
export function broadcast(tensor: Tensor, opts: { src?: number } = {}): Tensor {
  const t = denseArg(tensor, 'broadcast: tensor');
  return collective('broadcast', (g) => (native.distBroadcast(g.handle, [t.handle], srcArg(opts, g, 'broadcast')), t));
}
export function broadcastAsync(tensor: Tensor, opts: { src?: number } = {}): Promise<Tensor> {
  const t = denseArg(tensor, 'broadcastAsync: tensor');
  return collectiveAsync('broadcastAsync', (g) => native.distBroadcastAsync(g.handle, [t.handle], srcArg(opts, g, 'broadcastAsync')).then(() => t));
}

function gatherArgs(args: [Tensor[], Tensor] | [Tensor], what: string): { outputs: Tensor[] | null; input: Tensor } {
  if (args.length === 1 || args[1] === undefined) return { outputs: null, input: denseArg(args[0], `${what}: tensor`) };
  const [outputs, input] = args as [Tensor[], Tensor];
  if (!Array.isArray(outputs)) throw new TypeError(`${what}: tensorList must be an array of Tensors (got ${describe(outputs)})`);
  outputs.forEach((o, k) => denseArg(o, `${what}: tensorList[${k}]`));
  return { outputs, input: denseArg(input, `${what}: tensor`) };
}

/**
 * Runs `gather` (the native all-gather, synchronous or async) into tensorList, or into one new tensor per
 * rank, which are freed again if the gather fails.
 */
function gatherInto(outputs: Tensor[] | null, input: Tensor, g: Group, what: string, gather: (out: Tensor[]) => Promise<void>): Promise<Tensor[]>;
function gatherInto(outputs: Tensor[] | null, input: Tensor, g: Group, what: string, gather: (out: Tensor[]) => void): Tensor[];
function gatherInto(
  outputs: Tensor[] | null,
  input: Tensor,
  g: Group,
  what: string,
  gather: (out: Tensor[]) => void | Promise<void>,
): Tensor[] | Promise<Tensor[]> {
  if (outputs !== null && outputs.length !== g.worldSize)
    throw new RangeError(`${what}: tensorList must hold worldSize (${g.worldSize}) tensors (got ${outputs.length})`);
  const out = outputs ?? Array.from({ length: g.worldSize }, () => input.detach().clone());
  const failed = (e: unknown): never => {
    if (outputs === null) out.forEach((o) => o.dispose());
    throw e;
  };
  try {
    const done = gather(out);
    return done instanceof Promise ? done.then(() => out, failed) : out;
  } catch (e) {
    return failed(e);
  }
}

/**
 * Every rank's `tensor`, in rank order, on every rank. allGather(tensorList, tensor) fills tensorList
 * (PyTorch's form); allGather(tensor) returns new tensors.
 */
export function allGather(tensorList: Tensor[], tensor: Tensor): Tensor[];
export function allGather(tensor: Tensor): Tensor[];
export function allGather(...args: [Tensor[], Tensor] | [Tensor]): Tensor[] {
  const { outputs, input } = gatherArgs(args, 'allGather');
  return collective('allGather', (g) =>
    gatherInto(outputs, input, g, 'allGather', (out) =>
      native.distAllGather(
        g.handle,
        out.map((o) => o.handle),
        input.handle,
      ),
    ),
  );
}
export function allGatherAsync(tensorList: Tensor[], tensor: Tensor): Promise<Tensor[]>;
export function allGatherAsync(tensor: Tensor): Promise<Tensor[]>;
export function allGatherAsync(...args: [Tensor[], Tensor] | [Tensor]): Promise<Tensor[]> {
  const { outputs, input } = gatherArgs(args, 'allGatherAsync');
  return collectiveAsync('allGatherAsync', (g) =>
    gatherInto(outputs, input, g, 'allGatherAsync', (out) =>
      native.distAllGatherAsync(
        g.handle,
        out.map((o) => o.handle),
        input.handle,
      ),
    ),
  );
}

/** Waits until every rank has reached this barrier. */
export function barrier(): void {
  collective('barrier', (g) => native.distBarrier(g.handle));
}
export function barrierAsync(): Promise<void> {
  return collectiveAsync('barrierAsync', (g) => native.distBarrierAsync(g.handle));
}

/** @internal Rank src's values into every rank's tensors, few broadcasts for many tensors (DDP's state sync). */
export function broadcastCoalesced(tensors: Tensor[], opts: { bufferBytes: number; src?: number }): void {
  if (tensors.length === 0) return;
  collective('broadcastCoalesced', (g) =>
    native.distBroadcastCoalesced(
      g.handle,
      tensors.map((t) => t.handle),
      opts.bufferBytes,
      srcArg(opts, g, 'broadcastCoalesced'),
    ),
  );
}

/** @internal For DistributedDataParallel: c10d failures become DistErrors naming the rank. */
export function withGroup<T>(what: string, run: (handle: ProcessGroupHandle) => T): T {
  return collective(what, (g) => run(g.handle));
}
export { launch, freePort, LaunchError, type LaunchOptions } from './launch';
