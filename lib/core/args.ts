/**
 * Argument checks shared by every layer (as sharp's lib/is.js): each names the argument and what it must
 * be, and an options object is checked by name (a misspelt or snake_case option is a TypeError naming the
 * right spelling). The checks that need a Tensor live with it in tensor.ts.
 */
import { describe } from './dtype';
import { camelCase } from './schema';

/** Whether a bigint is an int64 value. */
export function fitsInt64(v: bigint): boolean {
  return v >= -(2n ** 63n) && v < 2n ** 63n;
}

/** Whether two shapes are the same. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** A CUDA device string's index: 'cuda:N' → N, 'cuda' → undefined (the current device), anything else → null. */
export function cudaIndexOf(device: string): number | undefined | null {
  const m = /^cuda(?::(\d+))?$/.exec(device);
  return m ? (m[1] === undefined ? undefined : Number(m[1])) : null;
}

export function intArg(v: unknown, argName: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new TypeError(`${argName} must be an integer (got ${describe(v)})`);
}

export function optIntArg(v: unknown, argName: string): number | undefined {
  return v === undefined || v === null ? undefined : intArg(v, argName);
}

export function numberArg(v: unknown, argName: string): number {
  if (typeof v === 'number') return v;
  throw new TypeError(`${argName} must be a number (got ${describe(v)})`);
}

export function boolArg(v: unknown, argName: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  throw new TypeError(`${argName} must be a boolean (got ${describe(v)})`);
}

/**
 * An options object with known keys only: like Python's "unexpected keyword argument", a misspelt option
 * (or PyTorch's snake_case name for one) is an error rather than silently left out.
 */
export function optionsArg<T extends object>(opts: unknown, who: string, known: readonly string[], example = ''): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${who}: options must be an object${example ? ` like ${example}` : ''} (got ${describe(opts)})`);
  }
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const named = unknown.map((k) => `'${k}'${optionHint(k, known)}`);
    throw new TypeError(`${who}: unknown option${unknown.length > 1 ? 's' : ''} ${named.join(', ')} (the options are ${known.join(', ')})`);
  }
  return opts as T;
}

/**
 * What an unknown option was probably meant to be, as a hint for its error: PyTorch's snake_case name of
 * a known option, or a known option one or two typing slips away ('dtpye', 'keepDim'); '' when none is.
 */
export function optionHint(key: string, known: Iterable<string>): string {
  const names = [...known];
  const camel = camelCase(key);
  if (camel !== key && names.includes(camel)) return ` (torchnode's name is '${camel}')`;
  const lower = camel.toLowerCase();
  const near =
    names.find((k) => k.toLowerCase() === lower) ??
    names.find((k) => Math.min(k.length, lower.length) > 3 && editDistance(k.toLowerCase(), lower) <= 2);
  return near ? ` (did you mean '${near}'?)` : '';
}

/** Levenshtein distance with transpositions (Damerau's optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

export function intList(v: unknown, argName: string): number[] {
  if (typeof v === 'number') return [intArg(v, argName)];
  if (Array.isArray(v)) {
    const bad = v.findIndex((x) => !(typeof x === 'number' && Number.isSafeInteger(x)));
    if (bad < 0) return v as number[];
    throw new TypeError(`${argName}[${bad}] must be an integer (got ${describe(v[bad])})`);
  }
  throw new TypeError(`${argName} must be an integer or an array of integers (got ${describe(v)})`);
}

/** Sizes given PyTorch's ways: f(2, 3) or f([2, 3]). */
export function sizesArg(args: readonly unknown[], argName: string): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return intList(list as unknown[], argName);
}
