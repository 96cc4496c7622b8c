/**
 * Scopes: torch.scope(fn) disposes every tensor created inside fn except what fn returns (those move
 * to the enclosing scope, if any). scopeAsync does the same across awaits, using AsyncLocalStorage so
 * concurrent async scopes each see their own tensors.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Disposable {
  dispose(): void;
}

// What happens to a tensor that leaves every scope alive (returned from the outermost one, or kept):
// tensor.ts hands it to the GC backstop.
let escape: (t: Disposable) => void = () => {};
/** @internal Set once by tensor.ts. */
export function onEscape(fn: (t: Disposable) => void): void {
  escape = fn;
}

type Frame = Disposable[];

let current: Frame | null = null; // innermost synchronous scope
let asyncScopes = 0; // > 0 while some scopeAsync is running: only then ask AsyncLocalStorage
const asyncFrame = new AsyncLocalStorage<Frame>();

/**
 * Registers a new tensor with the innermost scope (called by the Tensor constructor). Returns false when
 * no scope is active: then nothing disposes it but its owner (or the GC backstop).
 */
export function track(t: Disposable): boolean {
  if (current !== null) {
    current.push(t);
    return true;
  }
  if (asyncScopes > 0) {
    const frame = asyncFrame.getStore();
    if (frame !== undefined) {
      frame.push(t);
      return true;
    }
  }
  return false;
}

function activeFrame(): Frame | null {
  return current ?? (asyncScopes > 0 ? (asyncFrame.getStore() ?? null) : null);
}

// Everything a scope's result holds that the scope must keep: the value itself, arrays, Maps, Sets
// and plain objects, recursively.
function collect(value: unknown, keep: Set<unknown>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  keep.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, keep, seen);
  else if (value instanceof Map) {
    for (const [k, v] of value) {
      collect(k, keep, seen);
      collect(v, keep, seen);
    }
  } else if (value instanceof Set) for (const v of value) collect(v, keep, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, keep, seen);
  else if (typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function' && !(value as Disposable).dispose) {
    for (const v of value as Iterable<unknown>) collect(v, keep, seen);
  }
}

function close(frame: Frame, result: unknown, parent: Frame | null): void {
  const keep = new Set<unknown>();
  if (result !== null && typeof result === 'object') collect(result, keep, new Set());
  for (const t of frame) {
    if (keep.has(t)) {
      if (parent !== null) parent.push(t);
      else escape(t); // leaves the outermost scope alive
    } else if (anyKept && kept.has(t))
      escape(t); // keep(): no scope disposes it
    else t.dispose();
  }
}

// Tensors marked with keep(): never disposed by a scope.
const kept = new WeakSet<Disposable>();
let anyKept = false;

/** Marks a tensor so no enclosing scope disposes it (tf.keep's role). Returns it. */
export function keep<T extends Disposable>(t: T): T {
  anyKept = true;
  kept.add(t);
  return t;
}

/** Runs fn; disposes every tensor created inside it except those in its result. */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('scope(fn): fn must be a function');
  const parent = activeFrame();
  const frame: Frame = [];
  const saved = current;
  current = frame;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = saved;
    close(frame, undefined, parent);
    throw e;
  }
  current = saved;
  if (result instanceof Promise) {
    close(frame, undefined, parent);
    throw new TypeError('scope(fn) got a Promise: use scopeAsync(fn) for async functions');
  }
  close(frame, result, parent);
  return result;
}

/** The async form of scope(): tensors created across fn's awaits are disposed when it settles. */
export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError('scopeAsync(fn): fn must be a function');
  const parent = activeFrame();
  const frame: Frame = [];
  asyncScopes++;
  try {
    const result = await asyncFrame.run(frame, () => {
      // Inside, new tensors go to this async frame (found through AsyncLocalStorage), not to a sync
      // scope that happens to be running around the call; that one is restored as soon as fn returns.
      const saved = current;
      current = null;
      try {
        return fn();
      } finally {
        current = saved;
      }
    });
    close(frame, result, parent);
    return result;
  } catch (e) {
    close(frame, undefined, parent);
    throw e;
  } finally {
    asyncScopes--;
  }
}
