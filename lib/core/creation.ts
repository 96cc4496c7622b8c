/**
 * Creating tensors from JS data (torch.tensor), and the generators' seed and state. The factories (zeros,
 * arange, full, randint, normal…) are generated from the schema (lib/generated/torch.ts), as Python's are.
 */
import { native, type Handle } from './native';
import { FLOATING_DTYPES, ITEMSIZE, canonicalDtype, describe, dtypeCode, optDevice, optDtypeCode, type Dtype } from './dtype';
import { Tensor, pyOptions, wrap, type PyRest, type TypedArray } from './tensor';
import { fitsInt64, intArg, optionsArg } from './args';
import { TorchError, TorchTypeError, TorchValueError } from './errors';

/** Where and how a new tensor is made (PyTorch's dtype=, device=, requires_grad= keywords). */
export interface TensorOptions {
  /** Default: float32 for floating-point values, int64 for integers, bool for booleans (as PyTorch infers), or the TypedArray's type. */
  dtype?: Dtype;
  /** 'cpu' (default), 'cuda', 'cuda:N'. */
  device?: string;
  /** Record operations on it for autograd (default false). */
  requiresGrad?: boolean;
}

/** What torch.tensor() takes: numbers, bigints (exact int64), booleans, nested arrays of them, TypedArrays, tensors. */
export type TensorData = number | bigint | boolean | TypedArray | readonly TensorData[] | Tensor;

const TENSOR_OPTIONS = ['dtype', 'device', 'requiresGrad'] as const;

/** The options of a factory: only dtype, device and requiresGrad; a misspelt one is a TypeError naming it. */
function opts(o: unknown, who: string): TensorOptions {
  if (o === undefined) return {};
  if (o !== null && typeof o === 'object' && !Array.isArray(o) && !ArrayBuffer.isView(o)) {
    return optionsArg<TensorOptions>(o, who, TENSOR_OPTIONS, '{dtype, device, requiresGrad}');
  }
  throw new TypeError(`options must be an object like {dtype, device, requiresGrad} (got ${describe(o)})`);
}

function requiresGrad(o: TensorOptions): boolean {
  if (o.requiresGrad === undefined) return false;
  if (typeof o.requiresGrad !== 'boolean') throw new TypeError(`requiresGrad must be a boolean (got ${describe(o.requiresGrad)})`);
  return o.requiresGrad;
}

/** The trailing (dtype, device, requiresGrad) arguments every native factory takes. */
function tail(o: TensorOptions): [number | undefined, string | undefined, boolean] {
  return [optDtypeCode(o.dtype), optDevice(o.device), requiresGrad(o)];
}

const TYPED_DTYPE = new Map<unknown, Dtype>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [BigInt64Array, 'int64'],
  [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'],
  [BigUint64Array, 'uint64'],
]);

// Shape and flat values of nested arrays, checked for raggedness the way PyTorch reports it. `kinds`
// collects what each value says of the dtype: a TypedArray its own type, a boolean bool, an integer int64,
// another number float32 (Python's default dtype).
// A Node Buffer (a Uint8Array subclass) holds bytes as its parent does.
function typedDtype(data: ArrayBufferView): Dtype | undefined {
  return TYPED_DTYPE.get(data.constructor) ?? (Buffer.isBuffer(data) ? 'uint8' : undefined);
}

function flatten(data: TensorData, shape: number[], out: (number | boolean | bigint)[], depth: number, kinds: Set<Dtype>): void {
  if (Array.isArray(data) || ArrayBuffer.isView(data)) {
    const arr = data as ArrayLike<TensorData>;
    // Numbers were already found at this depth: the shape is settled and this sequence is ragged.
    if (depth === shape.length && out.length > 0) throw new TypeError(`expected a number at dim ${depth} (got a sequence)`);
    if (depth === shape.length) shape.push(arr.length);
    else if (shape[depth] !== arr.length) {
      throw new TypeError(`expected sequence of length ${shape[depth]} at dim ${depth} (got ${arr.length})`);
    }
    if (ArrayBuffer.isView(data)) {
      const dtype = typedDtype(data);
      if (!dtype) throw new TypeError(`unsupported TypedArray ${data.constructor.name}`);
      kinds.add(dtype);
      if (depth + 1 !== shape.length && arr.length > 0) throw new TypeError(`expected a sequence at dim ${depth + 1} (got a number)`);
      for (let i = 0; i < arr.length; i++) out.push(arr[i] as number | bigint);
      return;
    }
    for (let i = 0; i < arr.length; i++) flatten(arr[i] as TensorData, shape, out, depth + 1, kinds);
    return;
  }
  if (depth !== shape.length) throw new TypeError(`expected a sequence at dim ${depth} (got ${describe(data)})`);
  if (typeof data !== 'number' && typeof data !== 'boolean' && typeof data !== 'bigint') {
    throw new TypeError(`tensor data must be numbers, booleans or nested arrays of them (got ${describe(data)})`);
  }
  kinds.add(typeof data === 'boolean' ? 'bool' : typeof data === 'bigint' || Number.isInteger(data) ? 'int64' : 'float32');
  out.push(data);
}

// torch.promote_types over the dtypes torch.tensor() infers from JS data.
const PROMOTION_ORDER: Dtype[] = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64'];
const UNSIGNED: ReadonlySet<Dtype> = new Set(['uint16', 'uint32', 'uint64']);
// c10's names in promoteTypes' message
const C10_NAME: Partial<Record<Dtype, string>> = {
  bool: 'Bool',
  uint8: 'Byte',
  int8: 'Char',
  int16: 'Short',
  int32: 'Int',
  int64: 'Long',
  uint16: 'UInt16',
  uint32: 'UInt32',
  uint64: 'UInt64',
};
function promoteTypes(a: Dtype, b: Dtype): Dtype {
  if (a === b) return a;
  const pair = [a, b];
  // c10::promoteTypes: uint16/32/64 promote only with a floating-point type
  if (UNSIGNED.has(a) || UNSIGNED.has(b)) {
    const float = pair.find((d) => FLOATING_DTYPES.has(d));
    if (float) return float;
    throw new TorchError(`Promotion for uint16, uint32, uint64 types is not supported, attempted to promote ${C10_NAME[a]} and ${C10_NAME[b]}`);
  }
  if (pair.includes('uint8') && pair.includes('int8')) return 'int16';
  if (pair.includes('float16') && pair.includes('bfloat16')) return 'float32';
  return PROMOTION_ORDER.indexOf(a) > PROMOTION_ORDER.indexOf(b) ? a : b;
}

/**
 * torch.tensor(data, {dtype, device, requiresGrad}): a new tensor copied from a number, boolean, nested
 * arrays or a TypedArray. Without a dtype: booleans → bool, integers → int64, other numbers → float32
 * (PyTorch's rules; note that JS cannot tell 1.0 from 1, so [1.0, 2.0] is int64: pass a dtype), and a
 * TypedArray keeps its own type (Float64Array → float64, as from NumPy).
 */
export function tensor(data: TensorData, options?: TensorOptions): Tensor {
  const o = opts(options, 'torch.tensor');
  if (data instanceof Tensor) {
    // Options first: nothing is made when they are bad.
    const [dtype, device, rg] = [o.dtype ?? data.dtype, o.device === undefined ? data.device : optDevice(o.device), requiresGrad(o)];
    const detached = native.detach(data.handle);
    let copy: Handle | null = null;
    try {
      copy = native.to(detached, dtypeCode(dtype), device, false, true);
      if (rg) native.requiresGrad_(copy, true);
      const out = wrap(copy);
      copy = null;
      return out;
    } finally {
      native.dispose(detached);
      if (copy) native.dispose(copy);
    }
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const src = typedDtype(data);
    if (!src) throw new TypeError(`unsupported TypedArray ${data.constructor.name}`);
    return fromTyped(data as TypedArray, [(data as TypedArray).length], o.dtype ?? src, o);
  }
  const shape: number[] = [];
  const flat: (number | boolean | bigint)[] = [];
  const kinds = new Set<Dtype>();
  flatten(data, shape, flat, 0, kinds);
  // Each value's kind (a TypedArray row its own type, as a NumPy array in a list), promoted together as
  // Python's torch.tensor infers the dtype of nested sequences.
  const inferred = kinds.size === 0 ? 'float32' : [...kinds].reduce(promoteTypes);
  const dtype = o.dtype ?? inferred;
  if (inferred === 'bool') return fromTyped(Uint8Array.from(flat, Number), shape, dtype, o);
  if (dtype === 'uint64') return fromTyped(uint64Values(flat), shape, dtype, o);
  if (dtype === 'int64' && flat.some((v) => typeof v === 'bigint')) {
    // exact, where a number would round; BigInt64Array.from would wrap what int64 cannot hold
    const big = flat.map((v) => {
      if (typeof v === 'bigint') return v;
      if (!Number.isFinite(v)) throw new TorchValueError(`value cannot be converted to type int64 without overflow (got ${v})`);
      return BigInt(Math.trunc(Number(v))); // a float is truncated, as Python's into an int64 tensor
    });
    const bad = big.find((v) => !fitsInt64(v));
    if (bad !== undefined) throw new TorchValueError(`Overflow when unpacking long long (got ${bad})`);
    return fromTyped(BigInt64Array.from(big), shape, dtype, o);
  }
  // Range-checked natively for an integer dtype, by LibTorch's rule, as torch.tensor checks Python values.
  const [, device, rg] = tail(o);
  return wrap(native.fromData(Float64Array.from(flat, Number), shape, dtypeCode(dtype), device, rg, true));
}

/**
 * JS values into uint64 as Python's torch.tensor stores Python values there (PyLong_AsUnsignedLongLong):
 * exact integers (a bigint, or an integral number, whose value a bigint keeps past 2^53) in [0, 2^64);
 * a float is refused, not truncated.
 */
function uint64Values(flat: (number | boolean | bigint)[]): BigUint64Array {
  return BigUint64Array.from(flat, (v) => {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new TorchTypeError(`an integer is required (got ${v})`);
    const big = BigInt(v);
    if (big < 0n) throw new TorchValueError(`can't convert negative int to unsigned (got ${big})`);
    if (big >= 1n << 64n) throw new TorchValueError(`int too big to convert (got ${big})`);
    return big;
  });
}

function fromTyped(values: TypedArray, shape: number[], dtype: Dtype, o: TensorOptions): Tensor {
  const [, device, rg] = tail(o);
  return wrap(native.fromData(values, shape, dtypeCode(dtype), device, rg));
}

/** Seeds every generator (CPU and CUDA), as torch.manual_seed: the same seed gives PyTorch's numbers. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer (got ${describe(seed)})`);
  native.manualSeed(seed);
}

/** The CPU generator's state (torch.get_rng_state()): a uint8 tensor to save with a checkpoint. */
export function getRngState(): Tensor {
  return wrap(native.getRngState());
}

/** Restores a state from getRngState(): the same random numbers follow, as in PyTorch. */
export function setRngState(state: Tensor): void {
  if (!(state instanceof Tensor) || state.dtype !== 'uint8')
    throw new TypeError('setRngState(state): state must be the uint8 Tensor getRngState() returned');
  native.setRngState(state.handle);
}

/** Threads LibTorch uses inside one CPU op (torch.get_num_threads()). */
export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Sets the CPU intra-op thread count (torch.set_num_threads()). */
export function setNumThreads(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`setNumThreads: n must be a positive integer (got ${describe(n)})`);
  native.setNumThreads(n);
}

/**
 * torch.as_tensor(data, dtype, device): `data` itself when it is a Tensor of that dtype and device (else
 * converted, keeping its graph), a new tensor from JS data otherwise. (Python shares a NumPy array's
 * memory; a JS array or TypedArray is copied, as torch.tensor copies it.)
 */
export function asTensor(
  data: TensorData,
  ...rest: PyRest<[dtype: Dtype | null, device: string | null], { dtype?: Dtype | null; device?: string | null }>
): Tensor {
  const o = optionsArg<{ dtype?: Dtype | null; device?: string | null }>(pyOptions('torch.asTensor', rest, ['dtype', 'device']), 'torch.asTensor', [
    'dtype',
    'device',
  ]);
  if (!(data instanceof Tensor)) return tensor(data, { ...(o.dtype != null && { dtype: o.dtype }), ...(o.device != null && { device: o.device }) });
  return sameOrConverted(data, o.dtype == null ? undefined : canonicalDtype(o.dtype), o.device ?? undefined);
}

/** data converted to dtype/device if either differs, autograd recording the conversion; else data itself. */
function sameOrConverted(data: Tensor, dtype: Dtype | undefined, device: string | undefined): Tensor {
  const dev = device === undefined ? undefined : optDevice(device);
  if (
    (dtype === undefined || dtype === data.dtype) &&
    (dev === undefined || dev === data.device || (dev === 'cuda' && data.device.startsWith('cuda')))
  )
    return data;
  return data.to({ ...(dtype !== undefined && { dtype }), ...(dev !== undefined && { device: dev }) });
}

export interface AsarrayOptions {
  dtype?: Dtype | null;
  device?: string | null;
  /** true: always a copy; false: never (an error when a conversion is needed); default: only when needed. */
  copy?: boolean | null;
  requiresGrad?: boolean;
}

/**
 * torch.asarray(obj, {dtype, device, copy, requiresGrad}): a Tensor is shared when it already has the dtype
 * and device (copy: true copies it; copy: false refuses a conversion); JS data becomes a new tensor.
 */
export function asarray(obj: TensorData, options?: AsarrayOptions): Tensor {
  const o = optionsArg<AsarrayOptions>(options, 'torch.asarray', ['dtype', 'device', 'copy', 'requiresGrad']);
  if (o.copy != null && typeof o.copy !== 'boolean') throw new TypeError(`torch.asarray: copy must be a boolean or null (got ${describe(o.copy)})`);
  const rg = o.requiresGrad ?? false;
  if (typeof rg !== 'boolean') throw new TypeError(`torch.asarray: requiresGrad must be a boolean (got ${describe(rg)})`);
  const dtype = o.dtype == null ? undefined : canonicalDtype(o.dtype);
  const device = o.device ?? undefined;
  if (!(obj instanceof Tensor)) {
    if (o.copy === false)
      throw new TorchValueError("torch.asarray: can't alias JS data (an array or TypedArray) with a tensor: copy=false is only for tensors");
    return tensor(obj, { ...(dtype && { dtype }), ...(device && { device }), requiresGrad: rg });
  }
  let out = sameOrConverted(obj, dtype, device);
  if (out !== obj && o.copy === false) {
    throw new TorchValueError(
      `torch.asarray: can't alias tensor of dtype ${obj.dtype} on ${obj.device} as ${dtype ?? obj.dtype} on ${device ?? obj.device}: copy=false forbids the conversion`,
    );
  }
  if (out === obj && o.copy === true) out = obj.clone();
  // Python's rule (tensor_new.cpp, asarray): requiresGrad sets the flag on a leaf result and is ignored
  // on a non-leaf (its graph is kept either way)
  if (rg && out.isLeaf) out.requiresGrad_(true);
  return out;
}

export interface FrombufferOptions {
  /** Required, as in Python: how the bytes are read. */
  dtype: Dtype;
  /** How many elements (default -1: all from offset to the end). */
  count?: number;
  /** Bytes to skip first (default 0). */
  offset?: number;
  requiresGrad?: boolean;
}

/**
 * torch.frombuffer(buffer, {dtype, count, offset, requiresGrad}): the bytes of an ArrayBuffer, a Buffer
 * or any TypedArray/DataView read as `dtype`, in this machine's byte order. Python's shares the buffer's
 * memory; here the bytes are copied once (a JS buffer can be detached or moved while a tensor lives).
 */
export function frombuffer(buffer: ArrayBufferLike | ArrayBufferView, options: FrombufferOptions): Tensor {
  const o = optionsArg<FrombufferOptions>(options, 'torch.frombuffer', ['dtype', 'count', 'offset', 'requiresGrad']);
  if (o.dtype === undefined) throw new TypeError("torch.frombuffer() missing required keyword argument 'dtype'");
  const dtype = canonicalDtype(o.dtype);
  const bytes = ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)
      ? new Uint8Array(buffer)
      : null;
  if (bytes === null) throw new TypeError(`torch.frombuffer: buffer must be an ArrayBuffer, a Buffer or a TypedArray (got ${describe(buffer)})`);
  const offset = intArg(o.offset ?? 0, 'offset');
  const count = intArg(o.count ?? -1, 'count');
  const size = ITEMSIZE[dtype];
  const length = bytes.length;
  // LibTorch's own checks (torch/csrc/utils/tensor_new.cpp), with its messages
  if (length === 0 || count === 0) throw new TorchValueError(`both buffer length (${length}) and count (${count}) must not be 0`);
  if (offset < 0 || offset >= length)
    throw new TorchValueError(`offset (${offset} bytes) must be non-negative and no greater than buffer length (${length} bytes) minus 1`);
  if (count <= 0 && (length - offset) % size !== 0) {
    throw new TorchValueError(`buffer length (${length - offset} bytes) after offset (${offset} bytes) must be a multiple of element size (${size})`);
  }
  const n = count < 0 ? (length - offset) / size : count;
  if (offset + n * size > length) {
    throw new TorchValueError(
      `requested buffer length (${n} * ${size} bytes) after offset (${offset} bytes) must not be greater than actual buffer length (${length} bytes)`,
    );
  }
  const copy = Uint8Array.prototype.slice.call(bytes, offset, offset + n * size);
  const out = wrap(native.fromData(copy, [n * size], dtypeCode('uint8'), undefined, false)).view(dtype);
  return o.requiresGrad === true ? out.requiresGrad_(true) : out;
}
