// Renders a tensor exactly like PyTorch's repr(tensor) / str(tensor).
// Mirrors the rules of torch/_tensor_str.py (_Formatter, _vector_str,
// _tensor_str_with_formatter, _add_suffixes, _str_intern) for dense tensors.

export interface FormatInput {
  shape: number[];
  dtype: string;
  device: string;
  /** Flat row-major values; when `summarized`, the values of the summarised tensor
   *  (every dim of size > 2*edgeitems reduced to its first and last edgeitems entries). */
  values: ArrayLike<number | bigint | boolean>;
  summarized: boolean;
  requiresGrad?: boolean;
  gradFn?: string | null;
}

type Scalar = number | bigint | boolean;

/** Same defaults as torch.set_printoptions(profile='default'); mutable like PRINT_OPTS. */
export const printOptions: {
  precision: number;
  threshold: number;
  edgeitems: number;
  linewidth: number;
  sciMode: boolean | null;
} = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80, sciMode: null };

const FLOAT_DTYPES = new Set([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'float8_e5m2',
  'float8_e4m3fn',
  'float8_e5m2fnuz',
  'float8_e4m3fnuz',
  'float8_e8m0fnu',
]);
// PyTorch's has_default_dtype: default float dtype, int64 and bool print no dtype suffix.
const DEFAULT_DTYPES = new Set(['float32', 'int64', 'bool', 'complex64']);
const PREFIX = 'tensor(';

export function summaryNeeded(numel: number): boolean {
  return numel > printOptions.threshold;
}

/** Indices kept along a dim of this size when summarising, or null if the dim is kept whole. */
export function summaryIndices(size: number): number[] | null {
  const e = printOptions.edgeitems;
  if (size <= 2 * e) return null;
  const out: number[] = [];
  for (let i = 0; i < e; i++) out.push(i);
  for (let i = size - e; i < size; i++) out.push(i);
  return out;
}

// ---------------------------------------------------------------------------
// Exact Python-style float formatting. JS toFixed/toExponential round exact
// ties away from zero (0.03125 -> "0.0313") and drop the sign of -0, while
// Python rounds half-to-even on the exact binary value ("0.0312", "-0.0000").
// So we round the exact dyadic rational with BigInt instead.

const bits = new DataView(new ArrayBuffer(8));
const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** |x| as the exact fraction num/den (den a power of two); x must be finite. */
function toFraction(x: number): [bigint, bigint] {
  bits.setFloat64(0, Math.abs(x));
  const hi = bits.getUint32(0);
  const biased = hi >>> 20; // sign bit is clear after abs
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(bits.getUint32(4));
  let exp = -1074; // subnormal
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return exp >= 0 ? [mant << BigInt(exp), 1n] : [mant, 1n << BigInt(-exp)];
}

function divHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num % den) * 2n;
  return r2 > den || (r2 === den && (q & 1n) === 1n) ? q + 1n : q;
}

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

const signOf = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '');

/** Python's '{:.{p}f}'.format(x). */
function formatFixed(x: number, p: number): string {
  const nf = nonFinite(x);
  if (nf !== null) return nf;
  const [num, den] = toFraction(x);
  const digits = divHalfEven(num * pow10(p), den)
    .toString()
    .padStart(p + 1, '0');
  const cut = digits.length - p;
  return signOf(x) + digits.slice(0, cut) + (p > 0 ? '.' + digits.slice(cut) : '');
}

/** Python's '{:.{p}e}'.format(x): mantissa with p decimals, exponent at least 2 digits. */
function formatExp(x: number, p: number): string {
  const nf = nonFinite(x);
  if (nf !== null) return nf;
  let e = 0;
  let m = 0n;
  if (x !== 0) {
    const [num, den] = toFraction(x);
    const atLeast = (k: number): boolean =>
      // |x| >= 10^k, exactly
      k >= 0 ? num >= den * pow10(k) : num * pow10(-k) >= den;
    e = Math.floor(Math.log10(Math.abs(x)));
    while (!atLeast(e)) e--; // log10 may be off by one near powers of ten
    while (atLeast(e + 1)) e++;
    const s = p - e;
    m = s >= 0 ? divHalfEven(num * pow10(s), den) : divHalfEven(num, den * pow10(-s));
    if (m === pow10(p + 1)) {
      // rounding carried into a new digit: 9.99995 -> 1.0000e+01
      m = pow10(p);
      e++;
    }
  }
  const d = m.toString().padStart(p + 1, '0');
  const mant = p > 0 ? d[0] + '.' + d.slice(1) : d;
  return signOf(x) + mant + 'e' + (e < 0 ? '-' : '+') + String(Math.abs(e)).padStart(2, '0');
}

// ---------------------------------------------------------------------------
// _Formatter: chooses int_mode / sci_mode and the common column width.

interface Formatter {
  dtype: string;
  floating: boolean;
  intMode: boolean;
  sciMode: boolean;
  width: number;
}

function intString(v: Scalar, dtype: string): string {
  if (dtype === 'bool') return (typeof v === 'boolean' ? v : Number(v) !== 0) ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  const n = Number(v);
  return Number.isInteger(n) ? BigInt(n).toString() : String(n); // avoid "1e+21" for big ints
}

function makeFormatter(values: ArrayLike<Scalar>, dtype: string): Formatter {
  const f: Formatter = { dtype, floating: FLOAT_DTYPES.has(dtype), intMode: true, sciMode: false, width: 1 };
  if (!f.floating) {
    for (let i = 0; i < values.length; i++) f.width = Math.max(f.width, intString(values[i], dtype).length);
    return f;
  }
  // Only nonzero finite values decide the mode and width (nan/inf/0 never widen it). float8_e8m0fnu, which
  // Python's _Formatter reads unconverted, differs: its isfinite is true everywhere (nan too, which then
  // turns int mode and sci mode off), and ne(0) is false only for 2^-127, the value 0 converts to.
  const keep = dtype === 'float8_e8m0fnu' ? (x: number) => x !== 2 ** -127 : (x: number) => Number.isFinite(x) && x !== 0;
  const vals: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = Number(values[i]);
    if (keep(x)) vals.push(x);
  }
  if (vals.length === 0) return f;
  let min = Infinity;
  let max = 0;
  for (const x of vals) {
    const a = Math.abs(x);
    min = Math.min(min, a);
    max = Math.max(max, a);
    if (x !== Math.ceil(x)) f.intMode = false;
  }
  // Every float dtype converts exactly to double, and PyTorch compares in double.
  f.sciMode = printOptions.sciMode ?? (max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4);
  const p = printOptions.precision;
  for (const x of vals) {
    let len: number;
    if (f.sciMode) len = formatExp(x, p).length;
    else if (f.intMode)
      len = formatFixed(x, 0).length + 1; // room for the trailing "."
    else len = formatFixed(x, p).length;
    f.width = Math.max(f.width, len);
  }
  return f;
}

function formatValue(f: Formatter, v: Scalar): string {
  let s: string;
  if (!f.floating) {
    s = intString(v, f.dtype);
  } else {
    const x = Number(v);
    const p = printOptions.precision;
    if (f.sciMode) s = formatExp(x, p);
    else if (f.intMode) s = formatFixed(x, 0) + (Number.isFinite(x) ? '.' : '');
    else s = formatFixed(x, p);
  }
  return s.padStart(f.width); // right-align; never truncates (e.g. "-0." wider than width)
}

// ---------------------------------------------------------------------------
// Layout: nested brackets, 1-D line wrapping, '...' for summarised dims.

interface Layout {
  shape: number[]; // real shape
  strides: number[]; // strides of the stored (possibly summarised) values
  values: ArrayLike<Scalar>; // the real parts, for a complex tensor
  summarize: boolean;
  fmt: Formatter;
  // A complex tensor's imaginary parts and their formatter (PyTorch formats the two parts apart).
  imag?: ArrayLike<Scalar>;
  fmtImag?: Formatter;
}

/** One element as PyTorch prints it; a complex one as real+imagj. */
function element(L: Layout, i: number): string {
  const real = formatValue(L.fmt, L.values[i]);
  if (!L.fmtImag || !L.imag) return real;
  const imag = (formatValue(L.fmtImag, L.imag[i]) + 'j').trimStart();
  return imag[0] === '+' || imag[0] === '-' ? real + imag : `${real}+${imag}`;
}

function vectorStr(L: Layout, offset: number, indent: number): string {
  const e = printOptions.edgeitems;
  const size = L.shape[L.shape.length - 1];
  const cut = L.summarize && size > 2 * e;
  const stored = cut ? 2 * e : size;
  const data: string[] = [];
  for (let i = 0; i < stored; i++) {
    if (cut && i === e) data.push(' ...');
    data.push(element(L, offset + i));
  }
  // ", " between elements; a complex one adds the imaginary part and its "j"
  const elementLength = L.fmt.width + 2 + (L.fmtImag ? L.fmtImag.width + 1 : 0);
  const perLine = Math.max(1, Math.floor((printOptions.linewidth - indent) / elementLength));
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(', '));
  return '[' + lines.join(',\n' + ' '.repeat(indent + 1)) + ']';
}

function tensorStr(L: Layout, dim: number, offset: number, indent: number): string {
  const ndim = L.shape.length;
  if (ndim === 0) return element(L, 0);
  if (dim === ndim - 1) return vectorStr(L, offset, indent);
  const e = printOptions.edgeitems;
  const size = L.shape[dim];
  const cut = L.summarize && size > 2 * e;
  const stored = cut ? 2 * e : size;
  const slices: string[] = [];
  for (let i = 0; i < stored; i++) {
    if (cut && i === e) slices.push('...');
    slices.push(tensorStr(L, dim + 1, offset + i * L.strides[dim], indent + 1));
  }
  // One blank line per remaining inner dim between slices, as in PyTorch.
  return '[' + slices.join(',' + '\n'.repeat(ndim - dim - 1) + ' '.repeat(indent + 1)) + ']';
}

/** Gathers the summarised values from full row-major values (caller did not summarise). */
function gatherSummary(values: ArrayLike<Scalar>, shape: number[]): Scalar[] {
  const out: Scalar[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      out.push(values[offset]);
      return;
    }
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = summaryIndices(shape[dim]) ?? [...Array(shape[dim]).keys()];
    for (const i of idx) walk(dim + 1, offset + i * stride);
  };
  walk(0, 0);
  return out;
}

const pyTuple = (shape: number[]): string => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

/** _add_suffixes: append ", suffix", moving to a new indented line past linewidth. */
function addSuffixes(text: string, suffixes: string[], indent: number): string {
  const parts = [text];
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1; // PyTorch's exact (over-)count
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > printOptions.linewidth) {
      parts.push(',\n' + ' '.repeat(indent) + suffix);
      lastLineLen = indent + suffix.length;
    } else {
      parts.push(', ' + suffix);
      lastLineLen += suffix.length + 2;
    }
  }
  return parts.join('') + ')';
}

export function formatTensor(t: FormatInput): string {
  const { shape, dtype } = t;
  const numel = shape.reduce((a, b) => a * b, 1);
  const e = printOptions.edgeitems;
  const indent = PREFIX.length;
  const suffixes: string[] = [];
  // Any non-CPU device is printed (assumes a CUDA tensor is on the current device or
  // carries its index, which str(device) shows anyway).
  if (t.device.split(':')[0] !== 'cpu') suffixes.push(`device='${t.device}'`);

  let body: string;
  if (t.device === 'meta') {
    // no data to show: the size, and a dtype other than the default (Python's rule for meta tensors)
    suffixes.push('size=' + (shape.length === 0 ? '()' : pyTuple(shape)));
    if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
    body = '...';
  } else if (numel === 0) {
    if (shape.length !== 1) suffixes.push('size=' + pyTuple(shape));
    // No element can hint the dtype, so only float32 goes unmarked (even int64/bool get one).
    if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
    body = '[]';
  } else {
    if (e === 0) suffixes.push('size=' + pyTuple(shape));
    if (!DEFAULT_DTYPES.has(dtype)) suffixes.push(`dtype=torch.${dtype}`);
    const summarize = summaryNeeded(numel);
    if (!summarize && t.summarized && t.values.length !== numel) {
      throw new Error(`formatTensor: values are summarised but numel ${numel} <= threshold`);
    }
    // a complex tensor's values come as (real, imaginary) pairs
    const complex = dtype.startsWith('complex');
    const part = (k: number): ArrayLike<Scalar> => (complex ? Array.from({ length: t.values.length / 2 }, (_, i) => t.values[2 * i + k]) : t.values);
    const gather = (v: ArrayLike<Scalar>): ArrayLike<Scalar> => (summarize && !t.summarized ? gatherSummary(v, shape) : v);
    const values = gather(part(0));
    const imag = complex ? gather(part(1)) : undefined;
    const stored = shape.map((s) => (summarize && s > 2 * e ? 2 * e : s));
    const expected = stored.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new Error(`formatTensor: expected ${expected} values for shape [${shape}], got ${values.length}`);
    }
    if (summarize && e === 0) {
      body = '[...]'; // edgeitems=0: nothing but the ellipsis is shown
    } else {
      const strides = stored.map((_, i) => stored.slice(i + 1).reduce((a, b) => a * b, 1));
      const partDtype = dtype === 'complex128' ? 'float64' : complex ? 'float32' : dtype;
      const layout: Layout = { shape, strides, values, summarize, fmt: makeFormatter(values, partDtype) };
      if (imag) {
        layout.imag = imag;
        layout.fmtImag = makeFormatter(imag, partDtype);
      }
      body = tensorStr(layout, 0, 0, indent);
    }
  }
  if (t.gradFn) suffixes.push(`grad_fn=<${t.gradFn}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(PREFIX + body, suffixes, indent);
}
