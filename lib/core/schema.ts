/**
 * Reading ATen operator schemas ('sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *,
 * ScalarType? dtype=None) -> Tensor') into what Python's argument parser needs: each parameter's kind,
 * whether it may be omitted, whether it is keyword-only, and which argument an in-place result is.
 * Shared by the generator (scripts/gen/surface.js) and the dispatcher (lib/dispatch.ts). No imports.
 */

/** The argument kinds torchnode passes; an overload with any other (Dimname, Storage…) is not bound. */
export const SUPPORTED_KINDS: ReadonlySet<string> = new Set([
  'Tensor',
  'int',
  'float',
  'bool',
  'Scalar',
  'str',
  'ScalarType',
  'Device',
  'Layout',
  'MemoryFormat',
  'Generator',
  'Stream',
  'Tensor[]',
  'Tensor?[]',
  'int[]',
  'float[]',
  'bool[]',
]);

/**
 * Operators whose Tensor arguments also take a number, as Python's argument parser allows for these
 * only (python_arg_parser.cpp, should_allow_numbers_as_tensors): x.mul(2), torch.sub(1, x).
 */
export const NUMBERS_AS_TENSORS: ReadonlySet<string> = new Set([
  'add',
  'add_',
  'div',
  'div_',
  'divide',
  'divide_',
  'mul',
  'mul_',
  'multiply',
  'multiply_',
  'sub',
  'sub_',
  'subtract',
  'subtract_',
  'true_divide',
  'true_divide_',
  'floor_divide',
  'floor_divide_',
  'copy_',
]);

/**
 * Functions Python wraps in torch/functional.py to take their tensors as arguments (*tensors), where the
 * binding takes a list: torch.broadcastTensors(a, b) as well as torch.broadcastTensors([a, b]).
 */
export const TENSOR_VARARGS: ReadonlySet<string> = new Set([
  'block_diag',
  'broadcast_tensors',
  'cartesian_prod',
  'chain_matmul',
  'meshgrid',
  'atleast_1d',
  'atleast_2d',
  'atleast_3d',
]);

export interface SchemaParam {
  /** The schema's name (Python's keyword, snake_case). */
  name: string;
  /** The schema's type as written ('int[1]?', 'Tensor(a!)'). */
  type: string;
  /** One of SUPPORTED_KINDS, or the unsupported type's name. */
  kind: string;
  /** `T?`: None (null) is accepted. */
  optional: boolean;
  /** The schema's default as written ('False', '[]', 'None', '1'), if any. */
  default?: string;
  /** After `*`: only by keyword. */
  kwOnly: boolean;
  /** Written in place (an alias annotation with `!`): `self` of an in-place op, or `out`. */
  write: boolean;
  /** A fixed list size (int[2]), which lets one number stand for the whole list, as in Python. */
  size?: number;
  /** Its alias set ('a' in Tensor(a!)), which an in-place result names. */
  alias?: string;
}

export interface SchemaReturn {
  name?: string;
  kind: string;
  /** An alias of a written argument: the result is that argument's own object. */
  write: boolean;
  /** Its alias set ('a'), to find the argument it is. */
  alias?: string;
}

export interface Schema {
  name: string;
  overload: string;
  params: SchemaParam[];
  returns: SchemaReturn[];
  /** Takes TensorOptions (dtype, layout, device, pin_memory): Python adds requires_grad. */
  factory: boolean;
}

const KIND_ALIASES: Record<string, string> = { SymInt: 'int', SymFloat: 'float', SymBool: 'bool', 'SymInt[]': 'int[]' };

/** Python's snake_case name in torchnode's camelCase (index_select → indexSelect, bessel_j0 → besselJ0). */
export function camelCase(name: string): string {
  return name.replace(/(?<=[a-zA-Z0-9])_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Splits at commas outside brackets and quotes. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") quote = !quote;
    else if (!quote && (c === '[' || c === '(')) depth++;
    else if (!quote && (c === ']' || c === ')')) depth--;
    else if (!quote && depth === 0 && c === ',') {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** A type as written → { kind, optional, write, size, alias }. */
export function typeOf(written: string): { kind: string; optional: boolean; write: boolean; size?: number; alias?: string } {
  let t = written;
  let write = false;
  let alias: string | undefined;
  const annotated = /^(\w+)\((\w+)(!?)(?: -> \S+)?\)(.*)$/.exec(t);
  if (annotated) {
    alias = annotated[2];
    write = annotated[3] === '!';
    t = annotated[1] + annotated[4];
  }
  let optional = false;
  if (t.endsWith('?')) {
    optional = true;
    t = t.slice(0, -1);
  }
  let size: number | undefined;
  const list = /^(.+?)\[(\d*)\]$/.exec(t);
  if (list) {
    if (list[2]) size = Number(list[2]);
    t = `${list[1]}[]`;
  }
  return { kind: KIND_ALIASES[t] ?? t, optional, write, size, alias };
}

/** Parses one schema string (without the aten:: namespace). */
export function parseSchema(func: string): Schema {
  const m = /^([\w]+)(?:\.(\w+))?\((.*)\) -> (.*)$/.exec(func.trim());
  if (!m) throw new Error(`cannot read schema ${func}`);
  const [, name, overload = '', argText, retText] = m;
  const params: SchemaParam[] = [];
  let kwOnly = false;
  for (const arg of splitTop(argText)) {
    if (arg === '*') {
      kwOnly = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const decl = eq < 0 ? arg : arg.slice(0, eq);
    const sp = decl.trim().lastIndexOf(' ');
    const type = decl.trim().slice(0, sp);
    const t = typeOf(type);
    params.push({ name: decl.trim().slice(sp + 1), type, ...t, kwOnly, default: eq < 0 ? undefined : arg.slice(eq + 1).trim() });
  }
  const retInner = retText.startsWith('(') ? retText.slice(1, -1) : retText;
  const returns: SchemaReturn[] =
    retInner.trim() === ''
      ? []
      : splitTop(retInner).map((r) => {
          const sp = r.lastIndexOf(' ');
          const hasName = sp > 0 && !r.endsWith(')') && !r.endsWith(']');
          const t = typeOf(hasName ? r.slice(0, sp) : r);
          return { name: hasName ? r.slice(sp + 1) : undefined, kind: t.kind, write: t.write, alias: t.alias };
        });
  const names = new Set(params.map((p) => p.name));
  const factory = ['dtype', 'layout', 'device', 'pin_memory'].every((n) => names.has(n));
  return { name, overload, params, returns, factory };
}
