/**
 * Python's argument parser for the generated surface: given one Python name's overloads (schema strings
 * from lib/generated/schema.ts) and a call's JS arguments — positional ones in the schema's order, then
 * one options object for keywords — it picks the overload Python would, checks every value against its
 * type, and calls the operator through LibTorch's dispatcher (native/dispatch.cc).
 *
 * Overloads are tried in the schema's order: a number goes only where the schema takes a number (Scalar,
 * int, float), or, for the few operators where Python takes a number as a tensor too (x.mul(2)), where
 * it takes a Tensor.
 * An option no overload knows is a TypeError naming it; a call no overload takes lists them, as Python does.
 */
import { native, type Handle } from './native';
import { DTYPE_CODES, checkDevice, describe, dtypeCode, type Dtype } from './dtype';
import { Tensor, wrap } from './tensor-class';
import { fitsInt64, optionHint } from './args';
import { TorchNotImplementedError } from './errors';
import { NUMBERS_AS_TENSORS, TENSOR_VARARGS, camelCase, parseSchema, type Schema, type SchemaParam } from './schema';

export type { Scalar } from './tensor-class';
/** torchnode's tensors are dense: the one layout. */
export type Layout = 'strided';
export type MemoryFormat = 'contiguous_format' | 'preserve_format' | 'channels_last' | 'channels_last_3d';
/** A CUDA stream, as torch.cuda.Stream holds one (x.recordStream(torch.cuda.currentStream())). */
export interface StreamLike {
  readonly id: number;
  readonly deviceIndex: number;
}
/** c10::MemoryFormat's codes, in order. */
const MEMORY_FORMATS: readonly MemoryFormat[] = ['contiguous_format', 'preserve_format', 'channels_last', 'channels_last_3d'];

const DTYPE_NAMES: Record<number, Dtype> = Object.fromEntries(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as Dtype]));

interface Signature {
  schema: Schema;
  params: SchemaParam[];
  /** Parameter indices taken by position (self excluded for a method). */
  positional: number[];
  /** camelCase keyword → parameter index ('input' for a function's self). */
  keywords: Map<string, number>;
  /** The parameter a method's `this` is (self), or -1. */
  self: number;
  /** Keyword-only parameters written in place (out=). */
  outs: number[];
  /** For each result: the index of the argument it is (an in-place result), or -1. */
  resultArg: number[];
  /** Python's varargs: the one positional parameter is a list of ints (x.view(2, 3)) or of Tensors
   * (torch.broadcastTensors(a, b)), which its items may be passed as. */
  varargs: 'int' | 'Tensor' | undefined;
  /** Defaults Python's parser gives where LibTorch's differ (undefined: LibTorch's). */
  defaults: unknown[];
  /** Python takes a number for its Tensor arguments too (x.mul(2)). */
  numbersAsTensors: boolean;
  /** Its one result is a new Tensor (the common case, wrapped without further checks). */
  oneTensor: boolean;
  /** The operator's id in the running LibTorch (null: it has none); undefined until first used. */
  id: number | null | undefined;
}

/** One Python name's overloads, parsed on first use. */
export class Overloads {
  private sigs: Signature[] | undefined;
  private known: Set<string> | undefined;
  constructor(
    readonly who: string,
    private readonly schemas: readonly string[],
    private readonly method: boolean,
  ) {}

  private get signatures(): Signature[] {
    return (this.sigs ??= this.schemas.map((s) => this.compile(parseSchema(s))));
  }

  private compile(schema: Schema): Signature {
    const params = schema.params;
    const self = this.method ? params.findIndex((p) => p.name === 'self') : -1;
    const positional: number[] = [];
    const keywords = new Map<string, number>();
    params.forEach((p, i) => {
      if (!p.kwOnly && i !== self) positional.push(i);
      // (written keyword-only parameters are out=, by that name only: torch.max(x, 0, {out: [v, i]}))
      if (i !== self && !(p.kwOnly && p.write)) keywords.set(camelCase(p.name === 'self' ? 'input' : p.name), i);
    });
    const outs = params.flatMap((p, i) => (p.kwOnly && p.write ? [i] : []));
    const resultArg = schema.returns.map((r) => (r.write ? params.findIndex((p) => p.write && p.alias === r.alias) : -1));
    const only = positional.length === 1 ? params[positional[0]].kind : '';
    const varargs = only === 'int[]' ? 'int' : only === 'Tensor[]' && TENSOR_VARARGS.has(schema.name) ? 'Tensor' : undefined;
    // Python's parser reads an int default with atol(): 'Mean' (losses' reduction) becomes 0, so Python's
    // torch.kl_div(x, y) does not reduce. The same here, rather than LibTorch's default.
    const defaults = params.map((p) => (p.kind === 'int' && p.default !== undefined && !/^-?\d+$|^None$/.test(p.default) ? 0 : undefined));
    const numbersAsTensors = NUMBERS_AS_TENSORS.has(schema.name);
    const oneTensor = schema.returns.length === 1 && schema.returns[0].kind === 'Tensor' && !schema.returns[0].write;
    return { schema, params, positional, keywords, self, outs, resultArg, varargs, defaults, numbersAsTensors, oneTensor, id: undefined };
  }

  /** Every keyword some overload takes (for naming a misspelt one). */
  private get keywords(): Set<string> {
    if (!this.known) {
      this.known = new Set(this.signatures.flatMap((s) => [...s.keywords.keys()]));
      if (this.signatures.some((s) => s.outs.length > 0)) this.known.add('out');
      if (this.signatures.some((s) => s.schema.factory)) this.known.add('requiresGrad');
    }
    return this.known;
  }

  /** Calls the overload Python would pick for (self?, ...args). */
  call(self: Tensor | undefined, args: readonly unknown[]): unknown {
    let n = args.length;
    let opts: Record<string, unknown> | undefined;
    if (n > 0 && isOptions(args[n - 1])) {
      opts = args[n - 1] as Record<string, unknown>;
      n--;
      this.checkOptions(opts);
    }
    const sigs = this.signatures;
    for (let k = 0; k < sigs.length; k++) {
      const values = bind(sigs[k], self, args, n, opts, sigs[k].numbersAsTensors);
      if (values) return this.invoke(sigs[k], values, opts);
    }
    throw new TypeError(this.mismatch(self, args, n, opts));
  }

  private invoke(sig: Signature, values: unknown[], opts: Record<string, unknown> | undefined): unknown {
    // by name: the LibTorch in use may order, add or lack arguments against the schema this was generated from
    if (sig.id === undefined)
      sig.id = native.opFind(
        `aten::${sig.schema.name}`,
        sig.schema.overload,
        sig.params.map((p) => p.name),
      );
    if (sig.id === null) {
      throw new TorchNotImplementedError(
        `${this.who}(): the LibTorch in use (${native.buildInfo.torchVersion}) has no operator aten::${sig.schema.name}.${sig.schema.overload}`,
      );
    }
    // trailing defaults are left off (fewer values to convert; the operator's own defaults apply)
    let n = values.length;
    while (n > 0 && values[n - 1] === undefined) n--;
    const nativeArgs = new Array<unknown>(n);
    for (let i = 0; i < n; i++) nativeArgs[i] = toNative(sig.params[i], values[i]);
    const r = native.opCall(sig.id, ...nativeArgs);
    const out = sig.oneTensor && r !== null ? wrap(r as Handle) : this.results(sig, values, r);
    if (opts?.requiresGrad === true && out instanceof Tensor) out.requiresGrad_(true);
    return out;
  }

  private results(sig: Signature, values: unknown[], r: unknown): unknown {
    const returns = sig.schema.returns;
    if (returns.length === 0) return undefined;
    const one = (v: unknown, i: number): unknown => {
      if (sig.resultArg[i] >= 0) return values[sig.resultArg[i]];
      switch (returns[i].kind) {
        case 'Tensor':
          return v === null ? null : wrap(v as Handle);
        case 'Tensor[]':
          return (v as Handle[]).map(wrap);
        case 'ScalarType':
          return DTYPE_NAMES[v as number] ?? v;
        default:
          return v;
      }
    };
    if (returns.length === 1) return one(r, 0);
    const list = (r as unknown[]).map(one);
    for (let i = 0; i < returns.length; i++) {
      const name = returns[i].name;
      if (name) Object.defineProperty(list, camelCase(name), { value: list[i], enumerable: false });
    }
    return list;
  }

  private checkOptions(opts: Record<string, unknown>): void {
    const known = this.keywords;
    for (const key of Object.keys(opts)) {
      if (known.has(key)) continue;
      throw new TypeError(`${this.who}(): unknown option '${key}'${optionHint(key, known)} (the options are ${[...known].join(', ')})`);
    }
  }

  private mismatch(self: Tensor | undefined, args: readonly unknown[], n: number, opts: Record<string, unknown> | undefined): string {
    // One overload that could take the call (out= or not): say what is wrong with it, as Python does.
    const wantsOut = opts !== undefined && opts.out !== undefined && opts.out !== null;
    const candidates = this.signatures.filter((s) => wantsOut === s.outs.length > 0);
    if (candidates.length === 1) {
      const why: string[] = [];
      bind(candidates[0], self, args, n, opts, candidates[0].numbersAsTensors, why);
      if (why.length > 0) return `${this.who}(): ${why[0]}`;
    }
    const got = args.slice(0, n).map(kindOf);
    if (opts)
      got.push(
        ...Object.entries(opts)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${kindOf(v)}`),
      );
    const list = this.signatures.map((s) => `  ${this.who}(${pythonSignature(s)})`);
    return `${this.who}() received an invalid combination of arguments - got (${got.join(', ')}), but expected one of:\n${list.join('\n')}`;
  }
}

function isOptions(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Tensor) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The values of sig's parameters for this call, or undefined if sig does not take it; `why` (given only
 * when building an error) gets the reason, in Python's words.
 */
function bind(
  sig: Signature,
  self: Tensor | undefined,
  args: readonly unknown[],
  n: number,
  opts: Record<string, unknown> | undefined,
  numbersAsTensors: boolean,
  why?: string[],
): unknown[] | undefined {
  const params = sig.params;
  const values = new Array<unknown>(params.length);
  if (sig.self >= 0) values[sig.self] = self;
  const wantsOut = opts !== undefined && opts.out !== undefined && opts.out !== null;
  if (wantsOut !== sig.outs.length > 0) return undefined;
  const positional = sig.positional;
  if (sig.varargs === 'int' && n >= 1 && typeof args[0] === 'number') {
    const list = args.slice(0, n);
    const bad = list.findIndex((v) => !isInt(v));
    if (bad >= 0) {
      why?.push(`argument '${nameOf(sig, positional[0])}' must be a list of ints, but element ${bad} is ${kindOf(list[bad])}`);
      return undefined;
    }
    values[positional[0]] = list;
  } else if (sig.varargs === 'Tensor' && n >= 1 && args[0] instanceof Tensor) {
    const list = args.slice(0, n);
    const bad = list.findIndex((v) => !(v instanceof Tensor));
    if (bad >= 0) {
      why?.push(`argument '${nameOf(sig, positional[0])}' must be Tensors, but element ${bad} is ${kindOf(list[bad])}`);
      return undefined;
    }
    values[positional[0]] = list;
  } else {
    if (n > positional.length) {
      why?.push(`takes ${positional.length} positional argument${positional.length === 1 ? '' : 's'} but ${n} were given`);
      return undefined;
    }
    for (let i = 0; i < n; i++) {
      const p = params[positional[i]];
      if (!accepts(p, args[i], numbersAsTensors)) {
        why?.push(`argument '${nameOf(sig, positional[i])}' (position ${i + 1}) must be ${expected(p)}, not ${kindOf(args[i])}`);
        return undefined;
      }
      values[positional[i]] = args[i];
    }
  }
  if (opts) {
    for (const key in opts) {
      const v = opts[key];
      if (v === undefined || (key === 'out' && v === null)) continue;
      if (key === 'requiresGrad') {
        // Python adds requires_grad to the factories (TensorOptions) only
        if (!sig.schema.factory || typeof v !== 'boolean') {
          why?.push(
            sig.schema.factory ? `argument 'requiresGrad' must be boolean, not ${kindOf(v)}` : "got an unexpected keyword argument 'requiresGrad'",
          );
          return undefined;
        }
        continue;
      }
      if (key === 'out') {
        const list = sig.outs.length === 1 ? [v] : v;
        if (!Array.isArray(list) || list.length !== sig.outs.length || !list.every((t) => t instanceof Tensor)) {
          why?.push(`argument 'out' must be ${sig.outs.length === 1 ? 'a Tensor' : `an array of ${sig.outs.length} Tensors`}, not ${kindOf(v)}`);
          return undefined;
        }
        sig.outs.forEach((idx, j) => (values[idx] = list[j]));
        continue;
      }
      const idx = sig.keywords.get(key);
      if (idx === undefined) {
        why?.push(`got an unexpected keyword argument '${key}'`);
        return undefined;
      }
      if (values[idx] !== undefined) {
        why?.push(`got multiple values for argument '${key}'`);
        return undefined;
      }
      if (!accepts(params[idx], v, numbersAsTensors)) {
        why?.push(`argument '${key}' must be ${expected(params[idx])}, not ${kindOf(v)}`);
        return undefined;
      }
      values[idx] = v;
    }
  }
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (values[i] === undefined && sig.defaults[i] !== undefined) values[i] = sig.defaults[i];
    if (values[i] === undefined && p.default === undefined) {
      why?.push(`missing required argument '${nameOf(sig, i)}'`);
      return undefined;
    }
  }
  return values;
}

function nameOf(sig: Signature, i: number): string {
  const name = sig.params[i].name;
  return camelCase(name === 'self' ? 'input' : name);
}

/** What a parameter takes, for messages. */
function expected(p: SchemaParam): string {
  const kinds: Record<string, string> = {
    Tensor: 'Tensor',
    int: 'int',
    float: 'float',
    bool: 'boolean',
    Scalar: 'Number',
    str: 'string',
    ScalarType: 'a dtype name',
    Device: 'a device string',
    Layout: 'a layout name',
    MemoryFormat: 'a memory format name',
    Generator: 'null',
    Stream: 'a torch.cuda.Stream',
    'int[]': 'an array of ints',
    'float[]': 'an array of floats',
    'bool[]': 'an array of booleans',
    'Tensor[]': 'an array of Tensors',
    'Tensor?[]': 'an array of Tensors or nulls',
  };
  return `${kinds[p.kind] ?? p.kind}${p.optional ? ' or null' : ''}`;
}

/** An int: a JS number that is an exact integer (past 2^53 a number is no longer exact: pass a bigint). */
function isInt(v: unknown): boolean {
  return (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';
}

function isNumber(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

/** Whether v can be passed for p (Python's argument parser's rules, for JS values). */
function accepts(p: SchemaParam, v: unknown, numbersAsTensors: boolean): boolean {
  if (v === null) return p.optional || p.kind === 'Generator';
  switch (p.kind) {
    case 'Tensor':
      return v instanceof Tensor || (numbersAsTensors && isNumber(v));
    case 'int':
      return isInt(v);
    case 'float':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'Scalar':
      return isNumber(v);
    case 'str':
      return typeof v === 'string';
    case 'ScalarType':
      return typeof v === 'string';
    case 'Device':
    case 'Layout':
    case 'MemoryFormat':
      return typeof v === 'string';
    case 'Stream':
      return typeof v === 'object' && v !== null && Number.isSafeInteger((v as StreamLike).id) && Number.isSafeInteger((v as StreamLike).deviceIndex);
    case 'int[]':
      return (p.size !== undefined && isInt(v)) || (Array.isArray(v) && v.every(isInt));
    case 'float[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'bool[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'boolean');
    case 'Tensor[]':
      return Array.isArray(v) && v.every((x) => x instanceof Tensor);
    case 'Tensor?[]':
      return Array.isArray(v) && v.every((x) => x === null || x instanceof Tensor);
    default:
      return false;
  }
}

/** What crosses to native/dispatch.cc for a value that accepts() took. */
function toNative(p: SchemaParam, v: unknown): unknown {
  if (v === undefined || v === null) return v;
  switch (p.kind) {
    case 'Tensor':
      if (v instanceof Tensor) return v.handle;
      // a number for a tensor; a bigint must be an int64 (past it, native code would read a handle)
      if (typeof v === 'bigint' && !fitsInt64(v)) throw new RangeError(`${camelCase(p.name)} does not fit in int64 (got ${v}n)`);
      return v;
    case 'int[]':
      // Python's int[N] takes one int for all N (a 3 kernel is 3×3)
      return typeof v === 'number' || typeof v === 'bigint' ? new Array(p.size ?? 1).fill(v) : v;
    case 'ScalarType':
      return dtypeCode(v, p.name);
    case 'Layout':
      // torchnode's tensors are dense (strided) only: at::kStrided
      if (v !== 'strided')
        throw new TypeError(`${camelCase(p.name)} must be one of 'strided' (torchnode has dense tensors only; got ${describe(v)})`);
      return 0;
    case 'MemoryFormat': {
      const code = MEMORY_FORMATS.indexOf(v as MemoryFormat);
      if (code < 0) throw new TypeError(`${camelCase(p.name)} must be one of ${MEMORY_FORMATS.map((f) => `'${f}'`).join(', ')} (got ${describe(v)})`);
      return code;
    }
    case 'Device':
      return checkDevice(v, p.name);
    case 'Stream':
      return [(v as StreamLike).id, (v as StreamLike).deviceIndex];
    case 'Tensor[]':
      return (v as Tensor[]).map((t) => t.handle);
    case 'Tensor?[]':
      return (v as (Tensor | null)[]).map((t) => (t === null ? null : t.handle));
    default:
      return v;
  }
}

function kindOf(v: unknown): string {
  if (v instanceof Tensor) return 'Tensor';
  if (Array.isArray(v)) return v.length > 0 && v.every((x) => x instanceof Tensor) ? 'Tensor[]' : `[${v.map(kindOf).join(', ')}]`;
  if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'int' : Number.isInteger(v) ? 'an int past 2^53 (pass a bigint)' : 'float';
  return v === null ? 'null' : typeof v === 'object' ? describe(v) : typeof v;
}

/** A signature as Python's error messages print it: (input, dim, keepdim=False, *, dtype=None). */
function pythonSignature(sig: Signature): string {
  const parts: string[] = [];
  let star = false;
  sig.params.forEach((p, i) => {
    if (i === sig.self) return;
    if (p.kwOnly && !star) {
      parts.push('*');
      star = true;
    }
    const name = camelCase(p.name === 'self' ? 'input' : p.name);
    parts.push(`${p.type.replace(/\(\w+!?\)/, '')} ${name}${p.default !== undefined ? `=${p.default}` : ''}`);
  });
  return parts.join(', ');
}

/** A function over these schemas, called as Python calls its binding: `who` names it in messages. */
export function bindFunction(who: string, schemas: readonly string[]): (...args: unknown[]) => unknown {
  const overloads = new Overloads(who, schemas, false);
  return (...args: unknown[]) => overloads.call(undefined, args);
}
