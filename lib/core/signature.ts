/**
 * Python's argument binding for nn modules and functions, declared once per signature: the optional
 * arguments in Python's positional order, their defaults, and the keyword-only ones. `bind` takes what a
 * caller passed after the required arguments — any prefix of the positional ones, then maybe one options
 * object — and returns every argument with its default filled in. An unknown or snake_case option is a
 * TypeError naming it (optionsArg's rule); a value given both ways is Python's "multiple values".
 */
import { pyOptions, type PyRest } from './tensor';
import { optionsArg } from './args';

export type Values<T, N extends readonly (keyof T)[]> = { -readonly [I in keyof N]: T[N[I]] };

export class Signature<T extends object, N extends readonly (keyof T & string)[]> {
  private readonly known: string[];
  constructor(
    readonly who: string,
    readonly positional: N,
    readonly defaults: T,
  ) {
    this.known = Object.keys(defaults);
  }
  bind(rest: readonly unknown[]): T {
    const given = optionsArg<Record<string, unknown>>(pyOptions(this.who, rest, this.positional), this.who, this.known);
    const out = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
    return out as T;
  }
}

/** The arguments a Signature binds, typed: any prefix of the positional ones, then an options object. */
export type ArgsOf<S> = S extends Signature<infer T, infer N> ? PyRest<Values<T, N> & unknown[], Partial<T>> : never;

/**
 * `signature<Fields>()(who, positionalNames, defaults)`: Fields types every argument; names not in
 * positionalNames are keyword-only.
 */
export function signature<T extends object>() {
  return <const N extends readonly (keyof T & string)[]>(who: string, positional: N, defaults: T): Signature<T, N> =>
    new Signature<T, N>(who, positional, defaults);
}
