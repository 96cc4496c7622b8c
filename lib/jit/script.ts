/**
 * torch.jit: TorchScript modules saved by Python (`torch.jit.script(m).save(path)`,
 * `torch.jit.trace(m, x).save(path)`) loaded and run from Node, and saved again for Python.
 *
 *     const m = torch.jit.load('model.pt');
 *     const logits = m.forward(x) as torch.Tensor;
 *
 * Arguments and results, JS ↔ TorchScript: Tensor ↔ Tensor; number → int when integral, else float
 * (float when the method's schema asks for float); bigint → int; int → number, or bigint beyond 2^53
 * (a number would round it); float → number; boolean ↔ bool; string ↔ str;
 * null/undefined → None (None → null); Array → List, or Tuple where the schema wants a tuple (lists
 * and tuples come back as arrays); plain object ↔ Dict[str, …] (a dict with other keys comes back as a
 * Map); a submodule comes back as a ScriptModule. A value of the wrong type is a TorchError with
 * LibTorch's message, which names the argument and the type it expects.
 *
 * Grad mode is the caller's: forward under torch.noGrad() records no graph. The async forms
 * (loadAsync, forwardAsync, runMethodAsync) convert the arguments at once and run LibTorch on a
 * worker thread with the grad mode of the call. Results are new tensors the caller owns (dispose them
 * or use torch.scope); dispose() frees the module at once (the garbage collector is only a backstop).
 */
import { fileURLToPath } from 'node:url';
import { isHandle, native, type ModuleHandle } from '../core/native';
import { freshTmpFor, saveTarget } from '../io/atomic';
import { TorchError, withCallerStack } from '../core/errors';
import { Tensor, wrap } from '../core/tensor';
import { optionsArg } from '../core/args';
import { checkDevice, describe } from '../core/dtype';
import type { StateDict } from '../nn/parameter';

// ---- public API ----

export type PathLike = string | URL;
export interface JitLoadOptions {
  /** Where the module's tensors go ('cpu', 'cuda', 'cuda:1'), as Python's map_location. Default: where they were saved. */
  device?: string;
}
/** What TorchScript values become in JS (see the module comment). */
export type ScriptValue =
  Tensor | number | bigint | boolean | string | null | ScriptModule | ScriptValue[] | { [key: string]: ScriptValue } | Map<unknown, ScriptValue>;

/** torch.jit.load(path, {device}): a TorchScript module saved by torch.jit.save (Python) or ScriptModule.save. */
export function load(path: PathLike, opts: JitLoadOptions = {}): ScriptModule {
  const file = pathArg(path, 'torch.jit.load');
  const device = deviceOpt(opts);
  try {
    return new ScriptModule(native.jitLoad(file, device));
  } catch (e) {
    throw fileError('torch.jit.load', file, e);
  }
}

/** load() with the file reading and compilation on a worker thread. */
export async function loadAsync(path: PathLike, opts: JitLoadOptions = {}): Promise<ScriptModule> {
  const callerStack = new Error().stack;
  const file = pathArg(path, 'torch.jit.load');
  const device = deviceOpt(opts);
  try {
    return new ScriptModule(await native.jitLoadAsync(file, device));
  } catch (e) {
    throw withCallerStack(fileError('torch.jit.load', file, e), callerStack);
  }
}

export class ScriptModule {
  private _h: ModuleHandle | null;

  /** @internal Made by load(), loadAsync() and namedChildren(). The handle's own finalizer frees the module if dispose() is never called. */
  constructor(handle: ModuleHandle) {
    this._h = handle;
  }

  /** @internal */
  get handle(): ModuleHandle {
    if (this._h === null) throw new TorchError('this ScriptModule was disposed; it can no longer be used');
    return this._h;
  }

  /** Calls the module's forward method. */
  forward(...args: unknown[]): ScriptValue {
    return this.runMethod('forward', ...args);
  }

  /** Calls method `name` (forward, or one marked @torch.jit.export). */
  runMethod(name: string, ...args: unknown[]): ScriptValue {
    if (typeof name !== 'string') throw new TypeError(`runMethod(name, ...args): name must be a string (got ${describe(name)})`);
    const h = this.handle;
    const values = toNative(args, `${name}()`) as unknown[];
    try {
      return fromNative(native.jitRun(h, name, values));
    } catch (e) {
      throw methodError(name, e);
    }
  }

  /** forward() on a worker thread. */
  forwardAsync(...args: unknown[]): Promise<ScriptValue> {
    return this.runMethodAsync('forward', ...args);
  }

  /** runMethod() on a worker thread; the arguments are converted now, with the current grad mode. */
  runMethodAsync(name: string, ...args: unknown[]): Promise<ScriptValue> {
    if (typeof name !== 'string')
      return Promise.reject(new TypeError(`runMethodAsync(name, ...args): name must be a string (got ${describe(name)})`));
    return this.callAsync(name, args, false, new Error().stack);
  }

  /**
   * A training step's forward and backward on a worker thread: runs forward, then backward from its
   * first result (the loss), and returns the results detached. Gradients accumulate into the
   * parameters' .grad as loss.backward() would; leave the parameters alone until it settles.
   */
  forwardBackwardAsync(...args: unknown[]): Promise<ScriptValue> {
    return this.callAsync('forward', args, true, new Error().stack);
  }

  private async callAsync(name: string, args: unknown[], backward: boolean, callerStack: string | undefined): Promise<ScriptValue> {
    let pending: Promise<unknown>;
    try {
      pending = native.jitRunAsync(this.handle, name, toNative(args, `${name}()`) as unknown[], backward);
    } catch (e) {
      throw withCallerStack(methodError(name, e), callerStack);
    }
    try {
      return fromNative(await pending);
    } catch (e) {
      throw withCallerStack(methodError(name, e), callerStack);
    }
  }

  /** The names of the module's methods (forward and the exported ones). */
  methodNames(): string[] {
    return native.jitMethodNames(this.handle);
  }

  *namedParameters(opts: { recurse?: boolean } = {}): IterableIterator<[string, Tensor]> {
    // All wrapped at once: a handle left unwrapped when the caller stops early would have no GC backstop.
    yield* native.jitNamedParameters(this.handle, opts.recurse ?? true).map(([k, h]): [string, Tensor] => [k, wrap(h)]);
  }
  parameters(opts: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedParameters(opts)].map(([, p]) => p);
  }
  *namedBuffers(opts: { recurse?: boolean } = {}): IterableIterator<[string, Tensor]> {
    // All wrapped at once: a handle left unwrapped when the caller stops early would have no GC backstop.
    yield* native.jitNamedBuffers(this.handle, opts.recurse ?? true).map(([k, h]): [string, Tensor] => [k, wrap(h)]);
  }
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(opts)].map(([, b]) => b);
  }
  /** The direct submodules, as ScriptModules sharing this one's state. */
  *namedChildren(): IterableIterator<[string, ScriptModule]> {
    for (const [k, h] of native.jitNamedChildren(this.handle)) yield [k, new ScriptModule(h)];
  }
  children(): ScriptModule[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /**
   * Parameters and buffers by Python's state_dict keys ('layer1.0.bn1.running_mean'), in its order;
   * detached tensors sharing the module's storage. Loads into a torchnode Module of the same
   * architecture with loadStateDict.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, h] of native.jitStateDict(this.handle)) out[k] = wrap(h);
    return out;
  }

  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train(mode): mode must be a boolean (got ${describe(mode)})`);
    native.jitTrain(this.handle, mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  get training(): boolean {
    return native.jitIsTraining(this.handle);
  }

  /** Moves the module's parameters and buffers to `device`, in place. */
  to(device: string): this {
    const d = checkDevice(device, 'device');
    native.jitTo(this.handle, d);
    return this;
  }

  /** Saves the module (TorchScript's format, loadable by Python's torch.jit.load); atomic: temp file + rename. */
  save(path: PathLike): void {
    const file = pathArg(path, 'ScriptModule.save');
    const h = this.handle;
    const target = saveTarget(file);
    try {
      native.jitSave(h, freshTmpFor(target), target);
    } catch (e) {
      throw fileError('ScriptModule.save', file, e);
    }
  }

  /** Frees the native module now. Tensors taken from it (parameters, state dict) stay valid. */
  dispose(): void {
    if (this._h === null) return;
    native.jitDispose(this._h);
    this._h = null;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  get isDisposed(): boolean {
    return this._h === null;
  }
}

// ---- helpers ----

function toNative(v: unknown, where: string, depth = 0): unknown {
  if (depth > 64) throw new RangeError(`${where}: arguments nested more than 64 levels deep`);
  if (v instanceof Tensor) return v.handle;
  if (v instanceof ScriptModule) throw new TypeError(`${where}: a ScriptModule cannot be passed as an argument`);
  if (Array.isArray(v)) return v.map((x) => toNative(x, where, depth + 1));
  if (v !== null && typeof v === 'object') {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      throw new TypeError(
        `${where}: cannot pass ${describe(v)} to TorchScript (tensors, numbers, booleans, strings, null, arrays and plain objects can be passed)`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toNative(x, where, depth + 1);
    return out;
  }
  if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError(`${where}: cannot pass ${describe(v)} to TorchScript`);
  return v;
}

// The native side returns tensors as handles (BigInts of at least 2^63; an int is a number, or an int64
// BigInt, below 2^63, past 2^53), dicts as {__dict: [[k, v], ...], strKeys} and submodules as {__module: handle}.
function fromNative(v: unknown): ScriptValue {
  if (isHandle(v)) return wrap(v);
  if (typeof v === 'bigint') return v;
  if (v === null || typeof v !== 'object') return v as ScriptValue;
  if (Array.isArray(v)) return v.map(fromNative);
  if ('__dict' in v) {
    const d = v as { __dict: [unknown, unknown][]; strKeys: boolean };
    if (d.strKeys) {
      const out: Record<string, ScriptValue> = {};
      for (const [k, x] of d.__dict) {
        const value = fromNative(x);
        if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
        else out[k as string] = value;
      }
      return out;
    }
    return new Map(d.__dict.map(([k, x]) => [fromNative(k), fromNative(x)]));
  }
  if ('__module' in v) return new ScriptModule((v as { __module: ModuleHandle }).__module);
  throw new TorchError('unexpected value from TorchScript');
}

function deviceOpt(opts: JitLoadOptions): string | undefined {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`torch.jit.load: options must be an object (got ${describe(opts)})`);
  optionsArg(opts, 'torch.jit.load', ['device'], "{device: 'cpu'}");
  return opts.device === undefined || opts.device === null ? undefined : checkDevice(opts.device, 'device');
}

function pathArg(p: unknown, fn: string): string {
  const s = p instanceof URL ? fileURLToPath(p) : p;
  if (typeof s !== 'string' || s.length === 0 || s.includes('\0')) {
    throw new TypeError(`${fn}: path must be a non-empty string or a file URL (got ${describe(p)})`);
  }
  return s;
}

function clean(e: unknown): string {
  return (e instanceof Error ? e.message : String(e))
    .replace(/\[enforce fail at [^\]]*\]\s*\.?\s*/g, '')
    .replace(/\.?\s*This is an internal miniz error[\s\S]*$/, '')
    .replace(/\s*\(Could this error message be improved\?[\s\S]*$/, '');
}

function fileError(fn: string, file: string, e: unknown): Error {
  if (e instanceof TypeError || e instanceof RangeError) return e;
  return new TorchError(`${fn}('${file}'): ${clean(e)}`);
}

function methodError(name: string, e: unknown): unknown {
  if (e instanceof TorchError && !e.message.startsWith('ScriptModule.')) {
    const err = new (e.constructor as new (m: string) => TorchError)(`ScriptModule.${name}(): ${clean(e)}`);
    return err;
  }
  return e;
}
