/**
 * torch.save / torch.load in PyTorch's own file format, so checkpoints move both ways: Python's plain
 * `torch.load(path)` (weights_only=True, its default) reads what Node saves, and Node reads what
 * Python's `torch.save(model.state_dict())` or `torch.save({'model': …, 'optimizer': …, 'epoch': 3})`
 * wrote.
 *
 * The file is a zip archive (LibTorch's PyTorchStreamWriter/Reader, native/serialize.cc) holding
 * `archive/data.pkl`, a protocol-2 pickle of the object (lib/pickle.ts), and one record
 * `archive/data/<key>` per tensor storage, plus the `.format_version`, `.storage_alignment`,
 * `byteorder`, `version` and `.data/serialization_id` records Python 2.x writes. The archive folder is
 * named `archive` (what Python writes when it saves to a file object).
 *
 * What is saved, JS → Python:
 * - Tensor → torch.Tensor, through `torch._utils._rebuild_tensor_v2` with its storage, storage
 *   offset, size, stride and requires_grad, as Python does: views keep their strides, and tensors
 *   sharing a storage (a state dict's tensors and the parameters they detach from, views of one
 *   tensor) share one storage record, saved once and shared again after loading. The whole storage
 *   is saved, as in PyTorch (save a `.clone()` of a small view of a big tensor to save less).
 * - nn.Parameter → torch.nn.Parameter (`torch._utils._rebuild_parameter`).
 * - number → int if it is a safe integer (and not -0), else float; bigint → int; boolean → bool;
 *   string → str; null and undefined → None; Buffer/Uint8Array → bytes.
 * - Array → list; Set → set; Map and plain objects → dict, with this rule for the dict type:
 *   a non-empty object (or Map) whose values are all Tensors is a state dict and is saved as a
 *   `collections.OrderedDict` (what `state_dict()` returns), with its keys as strings; any other
 *   object is a plain `dict`, and its keys that are canonical non-negative integers ('0', '17') are
 *   saved as Python ints — JS object keys are always strings, and an optimizer state dict's `state`
 *   is keyed by parameter index (`{0: {...}}` in Python). Map keys keep their JS types. A dict that
 *   came from `torch.load` is saved back as what it was (dict or OrderedDict, int or str keys), and a
 *   state dict's `_metadata` (kept as a non-enumerable property on load) is written back.
 * - Anything else (functions, class instances, typed arrays other than Uint8Array, Modules) is a
 *   TypeError naming where it is in the object, before any file is touched.
 *
 * What is loaded, Python → JS: tensors (torch.Tensor → Tensor, nn.Parameter → nn.Parameter), dict /
 * OrderedDict / Counter → plain object (int keys become strings; a dict whose keys are not all str
 * or int becomes a Map), list and tuple (and torch.Size) → Array, set → Set, int → number (bigint
 * beyond 2**53), float → number, bytes → Buffer, torch.device → 'cuda:0', dtypes → 'float32'.
 * Loading is weights-only like Python's default: the pickle may name only PyTorch's allow-listed
 * globals (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage, …); any
 * other global is a TorchError naming it, and nothing from the file is ever executed.
 *
 * Writes are atomic: the file is written to `<path>.tmp-<pid>-<n>`, fsynced and renamed over
 * `<path>`, so a failure never leaves a half-written file where the previous one was. saveAsync and
 * loadAsync do the file and zip work on a worker thread (the pickle is made / read on the JS thread);
 * do not modify the saved tensors in place until saveAsync's promise settles.
 */
import { fileURLToPath } from 'node:url';
import { native, type ArchiveHandle, type Handle, type SerReadResult } from '../core/native';
import { freshTmpFor, saveTarget } from './atomic';
import { TorchError, withCallerStack } from '../core/errors';
import { Tensor, wrap } from '../core/tensor';
import { Parameter } from '../nn/parameter';
import { DTYPE_CODES, ITEMSIZE, checkDevice, describe, isDeviceString, type Dtype } from '../core/dtype';
import { PickleError, PickleWriter, PyDict, PySet, PyTuple, Unpickler, type UnpickleHooks } from './pickle';

// ---- public API ----

/** Where loaded tensors go: a device for all, {savedLocation: device}, or a function of the saved location. */
export type MapLocation = string | Record<string, string> | ((location: string) => string | null | undefined);
export interface LoadOptions {
  /** As Python's map_location: 'cpu', 'cuda:0', {'cuda:1': 'cuda:0'} or (location) => device. Default: where it was saved. */
  mapLocation?: MapLocation;
}
export type PathLike = string | URL;

/**
 * What torch.load reads, unless a type argument says more (`torch.load<nn.StateDict>('weights.pt')`):
 * Python's values as JavaScript ones, as the module comment lists — tensors (and Parameters), numbers
 * (bigint beyond 2**53), strings (devices and dtypes too), booleans, null, bytes as a Buffer, lists and
 * tuples as arrays, sets, dicts as objects (or a Map when a dict's keys are not all str or int).
 */
export type Loaded =
  Tensor | number | bigint | string | boolean | null | Buffer | Loaded[] | Set<Loaded> | Map<Loaded, Loaded> | { [key: string]: Loaded };

/** torch.save(obj, path): writes obj (tensors, state dicts, checkpoints) in PyTorch's file format. */
/** Python's torch.save options (pickle_module, pickle_protocol, …) have no counterpart here: refused by name. */
function noSaveOptions(extra: unknown, fn: string): void {
  if (extra === undefined) return;
  const keys = extra !== null && typeof extra === 'object' ? Object.keys(extra) : [];
  if (keys.length === 0 && extra !== null && typeof extra === 'object') return;
  throw new TypeError(
    `${fn}: takes no options (got ${keys.length ? keys.map((k) => `'${k}'`).join(', ') : describe(extra)}): ` +
      "it always writes PyTorch's zip format with pickle protocol 2, as Python's defaults do",
  );
}

export function save(obj: unknown, path: PathLike, options?: Record<string, never>): void {
  noSaveOptions(options, 'torch.save');
  const file = pathArg(path, 'torch.save');
  const { pkl, storages } = pickleForSave(obj);
  const target = saveTarget(file);
  try {
    native.serSave(freshTmpFor(target), target, pkl, storages);
  } catch (e) {
    throw fileError('torch.save', file, e);
  }
}

/** save() with the file work on a worker thread. The tensors must not change in place until it settles. */
export async function saveAsync(obj: unknown, path: PathLike, options?: Record<string, never>): Promise<void> {
  noSaveOptions(options, 'torch.saveAsync');
  const callerStack = new Error().stack;
  const file = pathArg(path, 'torch.save');
  const { pkl, storages } = pickleForSave(obj);
  const target = saveTarget(file);
  try {
    await native.serSaveAsync(freshTmpFor(target), target, pkl, storages);
  } catch (e) {
    throw withCallerStack(fileError('torch.save', file, e), callerStack);
  }
}

/**
 * torch.load(path, {mapLocation}): reads a file written by Python's torch.save or by save(). Weights-only:
 * tensors, state dicts and plain containers (see the module comment); anything else is a TorchError.
 */
export function load<T = Loaded>(path: PathLike, opts: LoadOptions = {}): T {
  const file = pathArg(path, 'torch.load');
  checkLoadOptions(opts);
  let read: SerReadResult;
  try {
    read = native.serRead(file);
  } catch (e) {
    throw fileError('torch.load', file, e);
  }
  return unpickleArchive(read, file, opts) as T;
}

/** load() with the file and zip work on a worker thread; the unpickling runs on the JS thread. */
export async function loadAsync<T = Loaded>(path: PathLike, opts: LoadOptions = {}): Promise<T> {
  const callerStack = new Error().stack;
  const file = pathArg(path, 'torch.load');
  checkLoadOptions(opts);
  let read: SerReadResult;
  try {
    read = await native.serReadAsync(file);
  } catch (e) {
    throw withCallerStack(fileError('torch.load', file, e), callerStack);
  }
  try {
    return unpickleArchive(read, file, opts) as T;
  } catch (e) {
    throw withCallerStack(e, callerStack);
  }
}

// ---- helpers shared by save and load ----

export function pathArg(p: unknown, fn: string): string {
  const s = p instanceof URL ? fileURLToPath(p) : p;
  if (typeof s !== 'string' || s.length === 0 || s.includes('\0')) {
    throw new TypeError(`${fn}: path must be a non-empty string or a file URL (got ${describe(p)})`);
  }
  return s;
}

function fileError(fn: string, file: string, e: unknown): TorchError {
  // LibTorch's messages carry '[enforce fail at inline_container.cc:180] . ', miniz's a plea to report
  // it, TORCH_CHECK's another: not for users.
  const why = (e instanceof Error ? e.message : String(e))
    .replace(/\[enforce fail at [^\]]*\]\s*\.?\s*/g, '')
    .replace(/\.?\s*This is an internal miniz error[\s\S]*$/, '')
    .replace(/\s*\(Could this error message be improved\?[\s\S]*$/, '');
  return new TorchError(`${fn}('${file}'): ${why}`);
}

/** The typed storage class Python's _rebuild_tensor_v2 names; the newer dtypes are saved with v3 instead. */
const STORAGE_CLASS: Partial<Record<Dtype, string>> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
  complex64: 'ComplexFloatStorage',
  complex128: 'ComplexDoubleStorage',
};

/** How a dict that came from torch.load is saved back: its type and which keys were ints. */
const pyDictInfo = new WeakMap<object, { ordered: boolean; intKeys: ReadonlySet<string>; order: readonly string[] }>();
const CANONICAL_INT = /^(0|[1-9][0-9]*)$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function child(where: string, key: unknown): string {
  return typeof key === 'string' && IDENTIFIER.test(key)
    ? `${where}.${key}`
    : `${where}[${JSON.stringify(typeof key === 'bigint' ? String(key) : key)}]`;
}

// ---- saving: JS values → pickle ----

class SavePickler {
  readonly w = new PickleWriter();
  private readonly memo = new Map<object, number>();
  /** Storage key i is the storage of storages[i]. */
  readonly storages: Handle[] = [];
  private readonly storageKeys = new Map<string, { key: number; dtype: string; first: string }>();

  dump(obj: unknown): Buffer {
    this.w.proto();
    this.save(obj, 'obj');
    this.w.stop();
    return this.w.bytes();
  }

  private unsupported(v: unknown, where: string, hint = ''): never {
    throw new TypeError(
      `torch.save: cannot save ${describe(v)} at ${where}${hint}: only Tensors, numbers, bigints, booleans, strings, ` +
        'null/undefined, arrays, plain objects, Maps, Sets and Buffers can be saved',
    );
  }

  private save(v: unknown, where: string): void {
    const w = this.w;
    switch (typeof v) {
      case 'undefined':
        w.none();
        return;
      case 'boolean':
        w.bool(v);
        return;
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) w.int(v);
        else w.float(v);
        return;
      case 'bigint':
        // Beyond 255 bytes an int takes pickle's LONG4, which Python's torch.load (weights_only) refuses.
        if (v >= 2n ** 2039n || v < -(2n ** 2039n)) {
          throw new RangeError(`torch.save: the int at ${where} needs more than 255 bytes, which Python's torch.load cannot read`);
        }
        w.int(v);
        return;
      case 'string':
        w.str(v);
        return;
      case 'object':
        break;
      default:
        // A Module is callable (a function) as well as an object.
        if (typeof (v as { stateDict?: unknown } | undefined)?.stateDict === 'function')
          this.unsupported(v, where, ' (save its stateDict() instead)');
        this.unsupported(v, where);
    }
    if (v === null) {
      w.none();
      return;
    }
    const seen = this.memo.get(v);
    if (seen !== undefined) {
      w.get(seen);
      return;
    }
    if (v instanceof Tensor) this.saveTensor(v, where);
    else if (Array.isArray(v)) this.saveList(v, where);
    else if (v instanceof Map) this.saveMap(v, where);
    else if (v instanceof Set) this.saveSet(v, where);
    else if (v instanceof Uint8Array) this.saveBytes(v);
    else if (ArrayBuffer.isView(v)) this.unsupported(v, where, ' (make it a Tensor with torch.tensor, or an array)');
    else if (isPlainObject(v)) this.saveObject(v as Record<string, unknown>, where);
    else if (typeof (v as { stateDict?: unknown }).stateDict === 'function') this.unsupported(v, where, ' (save its stateDict() instead)');
    else this.unsupported(v, where);
  }

  private saveTensor(t: Tensor, where: string): void {
    if (t.isDisposed) throw new TorchError(`torch.save: the Tensor at ${where} was disposed`);
    const w = this.w;
    if (t instanceof Parameter) {
      // Parameter.__reduce_ex__: _rebuild_parameter(self.data, self.requires_grad, OrderedDict())
      w.global('torch._utils', '_rebuild_parameter');
      this.saveTensorData(t, false, where);
      w.put(); // pickle memoizes self.data, as every object it reduces
      w.bool(t.requiresGrad);
      this.emptyOrderedDict();
      w.tuple(3);
      w.put();
      w.reduce();
    } else {
      this.saveTensorData(t, t.requiresGrad, where);
    }
    this.memo.set(t, w.put());
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, OrderedDict()) — without the final memo put. */
  private saveTensorData(t: Tensor, requiresGrad: boolean, where: string): void {
    const w = this.w;
    const [storageId, nbytes, offset, size, stride, dtype, device] = native.serTensorMeta(t.handle);
    if (!(dtype in DTYPE_CODES)) throw new TorchError(`torch.save: the Tensor at ${where} has dtype ${dtype}, which torchnode cannot save`);
    // Python's Tensor.__reduce_ex__: a typed storage and _rebuild_tensor_v2 for the dtypes that have a
    // storage class, else (uint16/32/64, float8) the untyped storage, its size in bytes, and
    // _rebuild_tensor_v3 with the dtype. An untyped storage counts as uint8 in Python's check that the
    // tensors viewing one storage agree on its type.
    const storageClass = STORAGE_CLASS[dtype as Dtype];
    const storageDtype = storageClass ? dtype : 'uint8';
    let entry = this.storageKeys.get(storageId);
    if (!entry) {
      entry = { key: this.storages.length, dtype: storageDtype, first: dtype };
      this.storageKeys.set(storageId, entry);
      this.storages.push(t.handle);
    } else if (entry.dtype !== storageDtype) {
      throw new TorchError(
        `torch.save: cannot save multiple tensors or storages that view the same data as different types (${entry.first} and ${dtype} at ${where})`,
      );
    }
    w.global('torch._utils', storageClass ? '_rebuild_tensor_v2' : '_rebuild_tensor_v3');
    w.mark();
    // persistent id ('storage', torch.<T>Storage or torch.storage.UntypedStorage, key, location, numel)
    w.mark();
    w.str('storage');
    if (storageClass) w.global('torch', storageClass);
    else w.global('torch.storage', 'UntypedStorage');
    w.str(String(entry.key));
    w.str(device);
    w.int(storageClass ? nbytes / ITEMSIZE[dtype as Dtype] : nbytes);
    w.tuple(5);
    w.put();
    w.binpersid();
    w.int(offset);
    this.intTuple(size);
    this.intTuple(stride);
    w.bool(requiresGrad);
    this.emptyOrderedDict();
    if (!storageClass) w.global('torch', dtype);
    w.tuple(storageClass ? 6 : 7);
    w.put();
    w.reduce();
  }

  private intTuple(v: number[]): void {
    if (v.length === 0) {
      this.w.emptyTuple();
      return;
    }
    if (v.length > 3) this.w.mark();
    for (const x of v) this.w.int(x);
    this.w.tuple(v.length);
    this.w.put();
  }

  private emptyOrderedDict(): void {
    this.w.global('collections', 'OrderedDict');
    this.w.emptyTuple();
    this.w.reduce();
    this.w.put();
  }

  private saveList(arr: unknown[], where: string): void {
    this.w.emptyList();
    this.memo.set(arr, this.w.put());
    const idx = Array.from({ length: arr.length }, (_, i) => i);
    this.w.batchAppends(idx, (i) => this.save(arr[i], `${where}[${i}]`));
  }

  private saveSet(set: Set<unknown>, where: string): void {
    // protocol 2: set → __builtin__.set([items]) (as CPython's save_set below protocol 4)
    const w = this.w;
    w.global('__builtin__', 'set');
    w.emptyList();
    w.put();
    const items = [...set];
    // Python hashes set items: arrays go as tuples (what a tuple in a set loads as), as Map keys do.
    w.batchAppends(items, (x) => this.saveKey(x, `${where}(set item)`, 'a set item'));
    w.tuple(1);
    w.put();
    w.reduce();
    this.memo.set(set, w.put());
  }

  private saveBytes(b: Uint8Array): void {
    // protocol 2: bytes → _codecs.encode(latin-1 text, 'latin1') (as CPython's save_bytes below protocol 3)
    const w = this.w;
    w.global('_codecs', 'encode');
    w.str(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'));
    w.str('latin1');
    w.tuple(2);
    w.put();
    w.reduce();
    this.memo.set(b, w.put());
  }

  private saveObject(obj: Record<string, unknown>, where: string): void {
    const info = pyDictInfo.get(obj);
    // A loaded dict keeps Python's key order (JS puts integer-like keys first), then any keys added since.
    const own = Object.keys(obj);
    const keys = info
      ? [...info.order.filter((k) => Object.prototype.hasOwnProperty.call(obj, k) && own.includes(k)), ...own.filter((k) => !info.order.includes(k))]
      : own;
    const ordered = info ? info.ordered : keys.length > 0 && keys.every((k) => obj[k] instanceof Tensor);
    const intKey = (k: string): boolean => (info ? info.intKeys.has(k) : !ordered && CANONICAL_INT.test(k) && Number.isSafeInteger(Number(k)));
    this.openDict(obj, ordered);
    this.w.batchSetItems(keys, (k) => {
      // An int key beyond 2**53 came from Python as its decimal string: write it back exactly.
      if (intKey(k)) this.w.int(Number.isSafeInteger(Number(k)) ? Number(k) : BigInt(k));
      else this.w.str(k);
      this.save(obj[k], child(where, k));
    });
    if (ordered) this.saveMetadata(obj, where);
  }

  private saveMap(map: Map<unknown, unknown>, where: string): void {
    const info = pyDictInfo.get(map);
    const entries = [...map];
    const ordered = info ? info.ordered : entries.length > 0 && entries.every(([, v]) => v instanceof Tensor);
    this.openDict(map, ordered);
    this.w.batchSetItems(entries, ([k, v]) => {
      this.saveKey(k, where);
      this.save(v, child(where, k));
    });
  }

  /**
   * A Map key or set item, which Python hashes: a primitive, a Tensor, bytes, or an array of these
   * saved as a tuple (what a Python tuple key loads as). Anything else is refused here, not by Python's load.
   */
  private saveKey(k: unknown, where: string, what = 'a Map key', inTuple: unknown[] = []): void {
    if (
      typeof k === 'string' ||
      typeof k === 'number' ||
      typeof k === 'bigint' ||
      typeof k === 'boolean' ||
      k === null ||
      k === undefined ||
      k instanceof Tensor ||
      k instanceof Uint8Array
    ) {
      this.save(k, where);
      return;
    }
    if (Array.isArray(k) && !inTuple.includes(k)) {
      if (k.length > 3) this.w.mark();
      for (const x of k) this.saveKey(x, where, what, [...inTuple, k]);
      this.w.tuple(k.length);
      if (k.length) this.w.put();
      return;
    }
    const is = Array.isArray(k) ? 'an array containing itself' : typeof k === 'object' && isPlainObject(k) ? 'a plain object' : describe(k);
    throw new TypeError(
      `torch.save: cannot save ${what} that is ${is} at ${where}: ` +
        'Python hashes it, so it must be a string, number, bigint, boolean, null, Tensor, Buffer or an array of these (a tuple)',
    );
  }

  private openDict(obj: object, ordered: boolean): void {
    if (ordered) {
      this.w.global('collections', 'OrderedDict');
      this.w.emptyTuple();
      this.w.reduce();
    } else {
      this.w.emptyDict();
    }
    this.memo.set(obj, this.w.put());
  }

  /** A state dict's _metadata goes back as OrderedDict state: {'_metadata': …} then BUILD. */
  private saveMetadata(obj: object, where: string): void {
    const d = Object.getOwnPropertyDescriptor(obj, '_metadata');
    if (!d || d.enumerable || d.value === undefined || d.value === null) return;
    this.w.emptyDict();
    this.w.put();
    this.w.str('_metadata');
    this.save(d.value, `${where}._metadata`);
    this.w.setitem();
    this.w.build();
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function pickleForSave(obj: unknown): { pkl: Buffer; storages: Handle[] } {
  const p = new SavePickler();
  const pkl = p.dump(obj);
  return { pkl, storages: p.storages };
}

// ---- loading: pickle → JS values ----

type GlobalKind =
  | 'OrderedDict'
  | 'Counter'
  | 'rebuild_v1'
  | 'rebuild_v2'
  | 'rebuild_v3'
  | 'rebuild_parameter'
  | 'rebuild_parameter_with_state'
  | 'rebuild_from_type_v2'
  | 'storage'
  | 'Tensor'
  | 'Parameter'
  | 'Size'
  | 'device'
  | 'dtype'
  | 'set'
  | 'frozenset'
  | 'bytearray'
  | 'codecs_encode'
  | 'get_layout'
  | 'complex';

/** An allow-listed Python global, as the unpickler's stack holds it. */
class PyGlobal {
  constructor(
    readonly full: string,
    readonly kind: GlobalKind,
    readonly dtype?: string,
  ) {}
}

/** A storage named by a persistent id: record data/<key>, its bytes, the dtype of a typed storage. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: string | null,
    readonly nbytes: number,
    readonly location: string,
  ) {}
}

const PY_STORAGE_DTYPE: Record<string, string | null> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: null,
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  QInt8Storage: 'qint8',
  QUInt8Storage: 'quint8',
  QInt32Storage: 'qint32',
  QUInt4x2Storage: 'quint4x2',
  QUInt2x4Storage: 'quint2x4',
};
const PY_DTYPE_NAME = /^(float(16|32|64)|bfloat16|u?int\d{1,2}|complex(32|64|128)|float8_\w+|float4_\w+|q?u?int\d+(x\d+)?|bits\d+(x\d+)?|bool)$/;

const ALLOWED = new Map<string, PyGlobal>();
for (const [full, kind] of [
  ['collections.OrderedDict', 'OrderedDict'],
  ['collections.Counter', 'Counter'],
  ['torch._utils._rebuild_tensor', 'rebuild_v1'],
  ['torch._utils._rebuild_tensor_v2', 'rebuild_v2'],
  ['torch._utils._rebuild_tensor_v3', 'rebuild_v3'],
  ['torch._utils._rebuild_parameter', 'rebuild_parameter'],
  ['torch._utils._rebuild_parameter_with_state', 'rebuild_parameter_with_state'],
  ['torch._tensor._rebuild_from_type_v2', 'rebuild_from_type_v2'],
  ['torch.Tensor', 'Tensor'],
  ['torch.nn.parameter.Parameter', 'Parameter'],
  ['torch.Size', 'Size'],
  ['torch.device', 'device'],
  ['builtins.set', 'set'],
  ['builtins.frozenset', 'frozenset'],
  ['builtins.bytearray', 'bytearray'],
  ['_codecs.encode', 'codecs_encode'],
  ['torch.serialization._get_layout', 'get_layout'],
  ['builtins.complex', 'complex'],
] as [string, GlobalKind][]) {
  ALLOWED.set(full, new PyGlobal(full, kind));
}
for (const [name, dtype] of Object.entries(PY_STORAGE_DTYPE))
  ALLOWED.set(`torch.${name}`, new PyGlobal(`torch.${name}`, 'storage', dtype ?? undefined));
// What Python writes in _rebuild_tensor_v3 files (uint16, float8, …), and what its weights-only load allows.
ALLOWED.set('torch.storage.UntypedStorage', new PyGlobal('torch.storage.UntypedStorage', 'storage'));

/** Globals Python's weights-only load accepts but torchnode cannot build. */
const UNSUPPORTED_TENSORS: Record<string, string> = {
  'torch._utils._rebuild_sparse_tensor': 'sparse tensor',
  'torch._utils._rebuild_nested_tensor': 'nested tensor',
  'torch._utils._rebuild_qtensor': 'quantized tensor',
  'torch._utils._rebuild_meta_tensor_no_storage': 'meta tensor',
  'torch._utils._rebuild_wrapper_subclass': 'tensor subclass',
  'torch._utils._rebuild_device_tensor_from_numpy': 'tensor stored as a numpy array',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor': 'tensor of another device type',
  'torch._utils._rebuild_xla_tensor': 'XLA tensor',
  'torch._utils._rebuild_mtia_tensor': 'MTIA tensor',
};

function isSafeNat(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function corrupt(message: string): PickleError {
  return new PickleError(message);
}

function checkLoadOptions(opts: unknown): void {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`torch.load: options must be an object (got ${describe(opts)})`);
  const ml = (opts as LoadOptions).mapLocation;
  if (ml === undefined || ml === null || typeof ml === 'string' || typeof ml === 'function') return;
  if (typeof ml === 'object' && isPlainObject(ml) && Object.values(ml).every((d) => typeof d === 'string')) return;
  throw new TypeError(
    `torch.load: mapLocation must be a device string, an object mapping saved locations to devices, or a function (got ${describe(ml)})`,
  );
}

class LoadContext implements UnpickleHooks {
  private readonly created: Tensor[] = [];
  private readonly reachable = new Set<Tensor>();
  private readonly converted = new Map<object, unknown>();
  private readonly devices = new Map<string, string>();

  constructor(
    private readonly archive: ArchiveHandle,
    private readonly opts: LoadOptions,
  ) {}

  // -- hooks --

  findGlobal(module: string, name: string): unknown {
    const mod = module === '__builtin__' ? 'builtins' : module === 'copy_reg' ? 'copyreg' : module;
    const full = `${mod}.${name}`;
    const g = ALLOWED.get(full);
    if (g) return g;
    if (mod === 'torch' && PY_DTYPE_NAME.test(name)) {
      const dt = new PyGlobal(full, 'dtype', name);
      ALLOWED.set(full, dt);
      return dt;
    }
    const kind = UNSUPPORTED_TENSORS[full];
    if (kind) throw new TorchError(`the file holds a ${kind} (${full}), which torchnode cannot load`);
    throw new TorchError(
      `unsupported global '${full}' in the pickle: torch.load is weights-only (as Python's torch.load with its default ` +
        'weights_only=True) and loads only tensors, state dicts and plain containers of numbers, strings and tensors',
    );
  }

  persistentLoad(pid: unknown): unknown {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      throw corrupt('unsupported persistent id (only storages are allowed)');
    }
    const [, cls, key, location, numel] = pid.items;
    if (!(cls instanceof PyGlobal) || cls.kind !== 'storage') throw corrupt('persistent id without a storage class');
    if (typeof key !== 'string' || typeof location !== 'string' || !isSafeNat(numel)) throw corrupt('malformed storage persistent id');
    const dtype = cls.dtype ?? null;
    if (dtype !== null && !(dtype in ITEMSIZE)) throw new TorchError(`the file holds a tensor of dtype ${dtype}, which torchnode does not support`);
    const nbytes = numel * (dtype === null ? 1 : ITEMSIZE[dtype as Dtype]);
    if (!Number.isSafeInteger(nbytes)) throw corrupt('storage size out of range');
    return new StorageRef(key, dtype, nbytes, location);
  }

  reduce(func: unknown, args: unknown[]): unknown {
    if (!(func instanceof PyGlobal)) throw corrupt('REDUCE of something that is not a function');
    const n = args.length;
    const arity = (lo: number, hi = lo) => {
      if (n < lo || n > hi) throw corrupt(`${func.full} called with ${n} arguments`);
    };
    switch (func.kind) {
      case 'OrderedDict':
      case 'Counter': {
        arity(0, 1);
        const d = new PyDict(func.kind);
        if (n === 1) fillDict(d, args[0]);
        return d;
      }
      case 'rebuild_v1':
        arity(4);
        return this.tensor(args[0], null, args[1], args[2], args[3], false);
      case 'rebuild_v2':
        arity(6, 7);
        return this.tensor(args[0], null, args[1], args[2], args[3], args[4]);
      case 'rebuild_v3': {
        arity(7, 8);
        const dt = args[6];
        if (!(dt instanceof PyGlobal) || dt.kind !== 'dtype') throw corrupt('_rebuild_tensor_v3 without a dtype');
        return this.tensor(args[0], dt.dtype!, args[1], args[2], args[3], args[4]);
      }
      case 'rebuild_parameter':
      case 'rebuild_parameter_with_state': {
        arity(func.kind === 'rebuild_parameter' ? 3 : 4);
        return this.parameter(args[0], args[1]);
      }
      case 'rebuild_from_type_v2': {
        arity(4);
        const [fn, type, inner] = args;
        if (!(type instanceof PyGlobal) || (type.kind !== 'Tensor' && type.kind !== 'Parameter')) {
          throw new TorchError(`the file holds a tensor subclass (${type instanceof PyGlobal ? type.full : 'unknown'}), which torchnode cannot load`);
        }
        if (!(inner instanceof PyTuple)) throw corrupt('_rebuild_from_type_v2 arguments are not a tuple');
        const t = this.reduce(fn, inner.items);
        if (!(t instanceof Tensor)) throw corrupt('_rebuild_from_type_v2 did not rebuild a tensor');
        return type.kind === 'Parameter' && !(t instanceof Parameter) ? this.parameter(t, t.requiresGrad) : t;
      }
      case 'Size': {
        arity(0, 1);
        const items = n === 0 ? [] : sequence(args[0]);
        if (!items.every(isSafeNat)) throw corrupt('torch.Size of non-integers');
        return new PyTuple(items);
      }
      case 'device': {
        arity(1, 2);
        const [type, index] = args;
        if (typeof type !== 'string' || (n === 2 && index !== null && !isSafeNat(index))) throw corrupt('malformed torch.device');
        return n === 2 && index !== null ? `${type}:${index}` : type;
      }
      case 'set':
      case 'frozenset': {
        arity(0, 1);
        const s = new PySet(func.kind === 'frozenset');
        if (n === 1) s.items.push(...sequence(args[0]));
        return s;
      }
      case 'bytearray': {
        arity(0, 1);
        if (n === 0) return Buffer.alloc(0);
        if (Buffer.isBuffer(args[0])) return Buffer.from(args[0]);
        const items = sequence(args[0]);
        if (!items.every((x) => isSafeNat(x) && x < 256)) throw corrupt('bytearray of non-bytes');
        return Buffer.from(items as number[]);
      }
      case 'codecs_encode': {
        arity(1, 2);
        const [text, enc = 'utf-8'] = args;
        if (typeof text !== 'string' || typeof enc !== 'string') throw corrupt('malformed _codecs.encode');
        const e = enc.toLowerCase().replace(/[-_]/g, '');
        if (e === 'latin1' || e === 'iso88591') return Buffer.from(text, 'latin1');
        if (e === 'utf8') return Buffer.from(text, 'utf8');
        throw corrupt(`_codecs.encode with encoding '${enc}'`);
      }
      case 'get_layout': {
        arity(1);
        if (typeof args[0] !== 'string') throw corrupt('malformed layout');
        return args[0];
      }
      case 'complex':
        throw new TorchError('the file holds a Python complex number, which torchnode cannot represent');
      default:
        throw corrupt(`${func.full} cannot be called`);
    }
  }

  newObj(cls: unknown, args: unknown[]): unknown {
    if (cls instanceof PyGlobal && cls.kind === 'Parameter' && args.length >= 1 && args.length <= 2) {
      return this.parameter(args[0], args.length === 2 ? args[1] : true);
    }
    throw corrupt(`cannot create an object of ${cls instanceof PyGlobal ? cls.full : 'this class'}`);
  }

  build(inst: unknown, state: unknown): void {
    if (state === null) return;
    let s: unknown = state;
    if (s instanceof PyTuple && s.items.length === 2) s = s.items[0] ?? s.items[1];
    if (inst instanceof PyDict && inst.kind !== 'dict' && (s instanceof PyDict || s === null)) {
      if (s instanceof PyDict) {
        inst.attrs ??= new Map();
        for (const [k, v] of s.map) if (typeof k === 'string') inst.attrs.set(k, v);
      }
      return;
    }
    // Python attributes on a tensor or parameter: nothing in torchnode holds them.
    if (inst instanceof Tensor && (s instanceof PyDict || s === null)) return;
    throw corrupt('BUILD of an object that cannot take state');
  }

  // -- tensors --

  private tensor(storage: unknown, dtype: string | null, offset: unknown, size: unknown, stride: unknown, requiresGrad: unknown): Tensor {
    if (!(storage instanceof StorageRef)) throw corrupt('a tensor without a storage');
    const dt = (dtype ?? storage.dtype) as Dtype | null;
    if (dt === null) throw corrupt('an untyped storage rebuilt without a dtype');
    if (!(dt in ITEMSIZE)) throw new TorchError(`the file holds a tensor of dtype ${dt}, which torchnode does not support`);
    const sz = sequence(size);
    const st = sequence(stride);
    if (!isSafeNat(offset) || !sz.every(isSafeNat) || !st.every(isSafeNat) || sz.length !== st.length || typeof requiresGrad !== 'boolean') {
      throw corrupt('malformed tensor (offset, size, stride or requires_grad)');
    }
    const device = this.device(storage.location);
    const h = native.serRebuild(
      this.archive,
      storage.key,
      DTYPE_CODES[dt],
      storage.nbytes,
      device === 'cpu' ? undefined : device,
      offset,
      sz as number[],
      st as number[],
      requiresGrad,
    );
    const t = wrap(h);
    this.created.push(t);
    return t;
  }

  private parameter(data: unknown, requiresGrad: unknown): Parameter {
    if (!(data instanceof Tensor) || typeof requiresGrad !== 'boolean') throw corrupt('malformed Parameter');
    const p = new Parameter(data, requiresGrad);
    this.created.push(p);
    return p;
  }

  /** The device a storage saved at `location` goes to (mapLocation, as Python's map_location). */
  private device(location: string): string {
    const known = this.devices.get(location);
    if (known !== undefined) return known;
    const ml = this.opts.mapLocation;
    let target: string | null | undefined;
    if (ml === undefined || ml === null) target = location;
    else if (typeof ml === 'string') target = ml;
    else if (typeof ml === 'function') target = ml(location) ?? location;
    else target = ml[location] ?? location;
    if (!isDeviceString(target)) {
      throw new TorchError(
        `a tensor was saved on '${location}', which torchnode cannot map to a device (got ${describe(target)}); ` +
          "pass mapLocation, e.g. { mapLocation: 'cpu' }",
      );
    }
    try {
      checkDevice(target, 'device');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new TorchError(`a tensor was saved on '${location}'; ${why}. Pass { mapLocation: 'cpu' } to load it on the CPU`);
    }
    this.devices.set(location, target);
    return target;
  }

  // -- the Python object model → JS values --

  convert(v: unknown): unknown {
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Tensor) {
      this.reachable.add(v);
      return v;
    }
    if (Buffer.isBuffer(v)) return v;
    if (this.converted.has(v)) return this.converted.get(v);
    if (Array.isArray(v) || v instanceof PyTuple) {
      const out: unknown[] = [];
      this.converted.set(v, out);
      for (const x of Array.isArray(v) ? v : v.items) out.push(this.convert(x));
      return out;
    }
    if (v instanceof PySet) {
      const out = new Set<unknown>();
      this.converted.set(v, out);
      for (const x of v.items) out.add(this.convert(x));
      return out;
    }
    if (v instanceof PyDict) return this.convertDict(v);
    if (v instanceof PyGlobal) {
      if (v.kind === 'dtype') return v.dtype;
      throw new TorchError(`the pickle holds ${v.full} itself as a value, which torchnode cannot represent`);
    }
    if (v instanceof StorageRef) throw new TorchError('the file holds a bare storage (not a tensor); torchnode loads tensors only');
    throw corrupt('unexpected value in the pickle');
  }

  private convertDict(d: PyDict): unknown {
    const keys = [...d.map.keys()];
    const names = keys.map((k) =>
      typeof k === 'string' ? k : (typeof k === 'number' && Number.isInteger(k)) || typeof k === 'bigint' ? String(k) : null,
    );
    if (names.every((k) => k !== null) && new Set(names).size === names.length) {
      const obj: Record<string, unknown> = {};
      this.converted.set(d, obj);
      const intKeys = new Set<string>();
      keys.forEach((k, i) => {
        const name = names[i]!;
        if (typeof k !== 'string') intKeys.add(name);
        defineValue(obj, name, this.convert(d.map.get(k)), true);
      });
      pyDictInfo.set(obj, { ordered: d.kind === 'OrderedDict', intKeys, order: names as string[] });
      if (d.attrs) for (const [k, v] of d.attrs) if (!(k in obj)) defineValue(obj, k, this.convert(v), false);
      return obj;
    }
    const map = new Map<unknown, unknown>();
    this.converted.set(d, map);
    for (const [k, v] of d.map) map.set(this.convert(k), this.convert(v));
    pyDictInfo.set(map, { ordered: d.kind === 'OrderedDict', intKeys: new Set(), order: [] });
    return map;
  }

  /** After a successful load: tensors made but not in the result (a Parameter's data) are freed now. */
  disposeUnreachable(): void {
    for (const t of this.created) if (!this.reachable.has(t)) t.dispose();
  }
  disposeAll(): void {
    for (const t of this.created) t.dispose();
  }
}

function defineValue(obj: Record<string, unknown>, key: string, value: unknown, enumerable: boolean): void {
  if (enumerable && key !== '__proto__') obj[key] = value;
  else Object.defineProperty(obj, key, { value, enumerable, writable: true, configurable: true });
}

function sequence(v: unknown): unknown[] {
  if (v instanceof PyTuple) return v.items;
  if (Array.isArray(v)) return v;
  throw corrupt('expected a tuple or list');
}

function fillDict(d: PyDict, src: unknown): void {
  if (src instanceof PyDict) {
    for (const [k, v] of src.map) d.set(k, v);
    return;
  }
  for (const pair of sequence(src)) {
    const kv = sequence(pair);
    if (kv.length !== 2) throw corrupt('dict items are not pairs');
    d.set(kv[0], kv[1]);
  }
}

function unpickleArchive(read: SerReadResult, file: string, opts: LoadOptions): unknown {
  const ctx = new LoadContext(read.archive, opts);
  try {
    const value = new Unpickler(read.pkl, ctx).load();
    const out = ctx.convert(value);
    ctx.disposeUnreachable();
    return out;
  } catch (e) {
    ctx.disposeAll();
    const why = e instanceof Error ? e.message : String(e);
    if (e instanceof PickleError || e instanceof RangeError) throw new TorchError(`torch.load('${file}'): corrupt or unsupported data.pkl: ${why}`);
    throw new TorchError(`torch.load('${file}'): ${why}`);
  } finally {
    native.serRelease(read.archive);
  }
}
