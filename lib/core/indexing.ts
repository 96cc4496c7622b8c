/**
 * Index items for Tensor.index / indexPut_, turned into what native/indexing.cc reads. PyTorch's
 * x[1:3, ::2, None, ..., mask] is x.index('1:3', '::2', null, '...', mask) here.
 */
import type { Handle } from './native';
import { describe } from './dtype';

/** A slice, like Python's slice(start, stop, step); missing parts are open. */
export interface Slice {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}

/** torch.slice(start, stop, step): Python's slice object. */
export function slice(start?: number | null, stop?: number | null, step?: number | null): Slice {
  return { start, stop, step };
}

/** One index: integer, slice ('a:b:c' string or Slice), null (new axis), '...', boolean, Tensor, or an
 * array of integers (an index tensor) or booleans (a mask). */
export type Index = number | string | null | boolean | Slice | { readonly handle: Handle } | number[] | boolean[];

type Item = number | null | boolean | '...' | Handle | Slice;

const SLICE_RE = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/;

function parseSlice(s: string, pos: number): Slice | '...' {
  if (s.trim() === '...') return '...';
  const m = SLICE_RE.exec(s);
  if (!m) throw new TypeError(`index ${pos}: '${s}' is not a slice (expected 'start:stop:step', e.g. '1:3', ':', '::2', or '...')`);
  const part = (x: string | undefined) => (x === undefined ? null : Number(x));
  const step = part(m[3]);
  if (step === 0) throw new RangeError(`index ${pos}: slice step cannot be zero`);
  if (step !== null && step < 0) throw new RangeError(`index ${pos}: slice step must be positive (as in PyTorch)`);
  return { start: part(m[1]), stop: part(m[2]), step };
}

function isHandleHolder(v: unknown): v is { readonly handle: Handle } {
  return typeof v === 'object' && v !== null && 'handle' in v && typeof (v as { dispose?: unknown }).dispose === 'function';
}

/** Converts indices; arrays become temporary index tensors that the caller disposes after the call. */
export function toIndexItems(
  indices: Index[],
  fromInts: (list: number[]) => Handle,
  fromBools: (list: boolean[]) => Handle,
  dispose: (h: Handle) => void,
): { items: Item[]; temporaries: Handle[] } {
  const items: Item[] = [];
  const temporaries: Handle[] = [];
  // No index at all is Python's x[()]: the whole tensor, as x[...] gives it.
  if (indices.length === 0) return { items: ['...'], temporaries };
  try {
    indices.forEach((ix, pos) => convert(ix, pos, items, temporaries, fromInts, fromBools));
  } catch (e) {
    for (const h of temporaries) dispose(h);
    throw e;
  }
  return { items, temporaries };
}

function convert(
  ix: Index,
  pos: number,
  items: Item[],
  temporaries: Handle[],
  fromInts: (list: number[]) => Handle,
  fromBools: (list: boolean[]) => Handle,
): void {
  {
    if (ix === null || typeof ix === 'boolean') items.push(ix);
    else if (typeof ix === 'number') {
      if (!Number.isInteger(ix)) throw new TypeError(`index ${pos} must be an integer (got ${ix})`);
      items.push(ix);
    } else if (typeof ix === 'string') items.push(parseSlice(ix, pos));
    else if (isHandleHolder(ix)) items.push(ix.handle);
    else if (Array.isArray(ix)) {
      let h: Handle;
      // [] is an empty list of indices (Python's x[[]]), not an empty mask.
      if (ix.length > 0 && ix.every((v) => typeof v === 'boolean')) h = fromBools(ix as boolean[]);
      else if (ix.every((v) => typeof v === 'number' && Number.isInteger(v))) h = fromInts(ix as number[]);
      else throw new TypeError(`index ${pos}: an array index must hold only integers or only booleans`);
      temporaries.push(h);
      items.push(h);
    } else if (typeof ix === 'object') {
      const s = ix as Slice;
      for (const k of ['start', 'stop', 'step'] as const) {
        const v = s[k];
        if (v !== undefined && v !== null && !Number.isInteger(v)) throw new TypeError(`index ${pos}: slice ${k} must be an integer`);
      }
      if (s.step === 0) throw new RangeError(`index ${pos}: slice step cannot be zero`);
      if (s.step !== undefined && s.step !== null && s.step < 0) throw new RangeError(`index ${pos}: slice step must be positive (as in PyTorch)`);
      items.push({ start: s.start, stop: s.stop, step: s.step });
    } else throw new TypeError(`index ${pos} must be an integer, slice, null, '...', boolean, Tensor or array (got ${describe(ix)})`);
  }
}
