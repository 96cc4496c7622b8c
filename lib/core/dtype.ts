/** dtypes and devices: PyTorch's names as strings, validated before they cross into native code. */
import { TorchError } from './errors';

/** A dtype, by PyTorch's name (`torch.float32` is `'float32'`). */
export type Dtype =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'bfloat16'
  | 'complex64'
  | 'complex128'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float8_e5m2'
  | 'float8_e4m3fn'
  | 'float8_e5m2fnuz'
  | 'float8_e4m3fnuz'
  | 'float8_e8m0fnu';

/** The dtypes torchnode supports, by at::ScalarType code (what crosses into native/args.cc). */
export const DTYPE_CODES = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
  complex64: 9,
  complex128: 10,
  // few LibTorch kernels take these, as in Python: creation, conversion, copies, views, indexing, comparison
  float8_e5m2: 23,
  float8_e4m3fn: 24,
  float8_e5m2fnuz: 25,
  float8_e4m3fnuz: 26,
  uint16: 27,
  uint32: 28,
  uint64: 29,
  float8_e8m0fnu: 44,
} as const satisfies Record<Dtype, number>;

export const DTYPES = Object.keys(DTYPE_CODES) as Dtype[];
/** PyTorch's aliases (torch.float is float32, torch.long is int64, ...). */
const ALIASES: Record<string, Dtype> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  long: 'int64',
  int: 'int32',
  short: 'int16',
  cfloat: 'complex64',
  cdouble: 'complex128',
};

/** The dtypes whose `torch.<dtype>.is_floating_point` is true in Python (the float8 kinds too). */
export const FLOATING_DTYPES: ReadonlySet<Dtype> = new Set([
  'float16',
  'bfloat16',
  'float32',
  'float64',
  'float8_e5m2',
  'float8_e4m3fn',
  'float8_e5m2fnuz',
  'float8_e4m3fnuz',
  'float8_e8m0fnu',
]);
/** Bytes per element (torch.<dtype>.itemsize). */
export const ITEMSIZE: Readonly<Record<Dtype, number>> = {
  bool: 1,
  uint8: 1,
  int8: 1,
  float8_e5m2: 1,
  float8_e4m3fn: 1,
  float8_e5m2fnuz: 1,
  float8_e4m3fnuz: 1,
  float8_e8m0fnu: 1,
  int16: 2,
  uint16: 2,
  float16: 2,
  bfloat16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
  uint64: 8,
  float64: 8,
  complex64: 8,
  complex128: 16,
};

/** A device string: 'cpu', 'cuda', 'cuda:N' or 'meta' (shapes and dtypes only, no data: Python's meta device). */
export type Device = string;

/** A dtype name or alias ('float', 'long'…) as its canonical name, or a TypeError naming the argument. */
export function canonicalDtype(dtype: unknown, argName = 'dtype'): Dtype {
  if (typeof dtype === 'string') {
    const name = (ALIASES[dtype] ?? dtype) as Dtype;
    if (DTYPE_CODES[name] !== undefined) return name;
  }
  throw new TypeError(`${argName} must be one of ${DTYPES.map((d) => `'${d}'`).join(', ')} (got ${describe(dtype)})`);
}

/** The at::ScalarType code of a dtype name, or a TypeError naming the argument. */
export function dtypeCode(dtype: unknown, argName = 'dtype'): number {
  return DTYPE_CODES[canonicalDtype(dtype, argName)];
}

export function optDtypeCode(dtype: unknown, argName = 'dtype'): number | undefined {
  return dtype === undefined || dtype === null ? undefined : dtypeCode(dtype, argName);
}

const DEVICE_RE = /^(cpu|cuda|meta)(:(\d+))?$/;
/** Whether `s` is spelt as a device ('cpu', 'cuda', 'cuda:N', 'meta'); checkDevice also checks that it is there. */
export const isDeviceString = (s: unknown): s is string => typeof s === 'string' && DEVICE_RE.test(s);
let cudaQuery: (() => { available: boolean; count: number; torchVersion: string }) | null = null;

/** Set by lib/native.ts once the addon is loaded, so device checks can ask whether CUDA is there. */
export function setCudaQuery(q: () => { available: boolean; count: number; torchVersion: string }): void {
  cudaQuery = q;
}

/** Validates a device string; a CUDA device without CUDA is a TorchError saying so. */
export function checkDevice(device: unknown, argName = 'device'): string {
  const m = typeof device === 'string' ? DEVICE_RE.exec(device) : null;
  if (!m) throw new TypeError(`${argName} must be 'cpu', 'cuda', 'cuda:N' or 'meta' (got ${describe(device)})`);
  if (m[1] === 'cuda' && cudaQuery) {
    const { available, count, torchVersion } = cudaQuery();
    if (!available) {
      throw new TorchError(`${argName} '${device}': CUDA is not available (LibTorch ${torchVersion} found no CUDA device or was built without CUDA)`);
    }
    if (m[3] !== undefined && Number(m[3]) >= count) {
      throw new TorchError(`${argName} '${device}': there ${count === 1 ? 'is 1 CUDA device' : `are ${count} CUDA devices`}`);
    }
  }
  return device as string;
}

/** A device that holds data, for what computes (a Trainer, the CLI): checkDevice's rule without 'meta'. */
export function checkComputeDevice(device: unknown, argName = 'device'): string {
  if (device === 'meta' || !isDeviceString(device)) throw new TypeError(`${argName} must be 'cpu', 'cuda' or 'cuda:N' (got ${describe(device)})`);
  return checkDevice(device, argName);
}

export function optDevice(device: unknown, argName = 'device'): string | undefined {
  return device === undefined || device === null ? undefined : checkDevice(device, argName);
}

/** Short description of a bad value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return v.constructor?.name ? `a ${v.constructor.name}` : 'an object';
  return typeof v;
}
