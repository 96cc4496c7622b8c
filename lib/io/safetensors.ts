/**
 * safetensors, as Python's `safetensors.torch`: the format most model hubs ship weights in.
 *
 *     const sd = torch.safetensors.loadFile('model.safetensors');            // { name: Tensor }
 *     model.loadStateDict(sd);
 *     torch.safetensors.saveFile(model.stateDict(), 'out.safetensors', { metadata: { format: 'pt' } });
 *
 * The file: 8 bytes (little-endian u64 N), N bytes of JSON header ({name: {dtype, shape, data_offsets}},
 * and "__metadata__": {string: string}), then the tensors' bytes, back to back. Files written here are
 * byte-identical to Python's for the same tensors and metadata: tensors ordered by dtype (widest first)
 * then name, the header padded with spaces to a multiple of 8. Reading takes the header, then only the
 * byte ranges of the tensors asked for (positioned reads; safeOpen reads one tensor at a time). Every
 * offset is checked against the header and the file before anything is read: a damaged or lying file is
 * a SafetensorError naming it, never a read past its end.
 */
import * as fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { TorchError } from '../core/errors';
import { Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { tensor } from '../core/creation';
import { scope } from '../core/scope';
import { ITEMSIZE, checkDevice, describe, type Dtype } from '../core/dtype';
import { pathArg, type PathLike } from './serialize';
import { writeAtomic } from './atomic';
import { native } from '../core/native';
import type { StateDict } from '../nn/parameter';

/** What saveModel and loadModel need of a module (an nn.Module has both). */
export interface HasStateDict {
  stateDict(): StateDict;
  loadStateDict(stateDict: StateDict, options?: { strict?: boolean }): unknown;
}

/** A damaged, inconsistent or unsupported safetensors file or buffer (Python's SafetensorError). */
export class SafetensorError extends TorchError {}

/**
 * safetensors' dtype names, those LibTorch and torchnode share, in the order of the format's own Dtype enum
 * (what Python's save sorts by, widest first: its safetensors 0.8.0 checked).
 */
const FORMAT_DTYPES: readonly [string, Dtype][] = [
  ['BOOL', 'bool'],
  ['U8', 'uint8'],
  ['I8', 'int8'],
  ['F8_E5M2', 'float8_e5m2'],
  ['F8_E4M3', 'float8_e4m3fn'],
  ['F8_E8M0', 'float8_e8m0fnu'],
  ['F8_E4M3FNUZ', 'float8_e4m3fnuz'],
  ['F8_E5M2FNUZ', 'float8_e5m2fnuz'],
  ['I16', 'int16'],
  ['U16', 'uint16'],
  ['F16', 'float16'],
  ['BF16', 'bfloat16'],
  ['I32', 'int32'],
  ['U32', 'uint32'],
  ['F32', 'float32'],
  ['C64', 'complex64'],
  ['F64', 'float64'],
  ['I64', 'int64'],
  ['U64', 'uint64'],
];
const DTYPE_OF = new Map(FORMAT_DTYPES);
const CODE_OF = new Map(FORMAT_DTYPES.map(([code, dtype]) => [dtype, code]));
const RANK = new Map(FORMAT_DTYPES.map(([code], i) => [code, i]));
// Defined by the format, without a LibTorch dtype (4- and 6-bit floats): named in the error rather than called unknown.
const ELSEWHERE = new Set(['F4', 'F6_E2M3', 'F6_E3M2']);
// Python's limit: a larger header is refused before it is read.
const MAX_HEADER = 100_000_000;
const MAX_BUFFER = bufferConstants.MAX_LENGTH;

export type Metadata = Record<string, string>;

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: Map<string, Entry>;
  metadata: Metadata | null;
  /** Where the tensors' bytes start in the file or buffer. */
  dataStart: number;
}

/** Byte order, as Rust compares the names. */
function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The names in the order of their bytes in the file, as Python's load_file and keys() give them. */
function inFileOrder(header: Header): string[] {
  return [...header.entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end || byName(a.name, b.name)).map((e) => e.name);
}

// ---- reading ----

/** Reads `length` bytes at `position` of a file or buffer; the header has been checked against its size. */
type ReadAt = (position: number, length: number) => Buffer;

function parseHeader(size: number, readAt: ReadAt, where: string): Header {
  const fail = (why: string): never => {
    throw new SafetensorError(`safetensors: ${where}: ${why}`);
  };
  if (size < 8) fail(`${size} bytes is too short for a header`);
  const n = readAt(0, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER)) fail(`the header claims ${n} bytes, more than the ${MAX_HEADER} allowed`);
  if (Number(n) > size - 8) fail(`the header claims ${n} bytes, but only ${size - 8} follow`);
  const dataStart = 8 + Number(n);
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(readAt(8, Number(n)));
    if (!text.startsWith('{')) fail('the header is not a JSON object');
    json = JSON.parse(text);
  } catch (e) {
    if (e instanceof SafetensorError) throw e;
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('the header is not a JSON object');
  const dataLength = size - dataStart;
  const entries = new Map<string, Entry>();
  let metadata: Metadata | null = null;
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings');
      }
      metadata = { ...(info as Metadata) };
      continue;
    }
    entries.set(name, checkEntry(name, info, dataLength, fail));
  }
  // The tensors tile the data exactly, in offset order: no gap, no overlap, nothing after the last.
  let at = 0;
  for (const e of [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== at)
      fail(`tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${at} (ranges must follow each other without gap or overlap)`);
    at = e.end;
  }
  if (at !== dataLength) fail(`the tensors cover ${at} bytes of data, but ${dataLength} follow the header`);
  return { entries, metadata, dataStart };
}

function checkEntry(name: string, info: unknown, dataLength: number, fail: (why: string) => never): Entry {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(`tensor '${name}' is not described by an object`);
  const { dtype: code, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof code !== 'string') fail(`tensor '${name}' has no dtype`);
  const dtype = DTYPE_OF.get(code as string);
  if (!dtype) {
    fail(
      ELSEWHERE.has(code as string)
        ? `tensor '${name}' has dtype ${code}, which torchnode does not support (LibTorch has no such dtype)`
        : `tensor '${name}' has an unknown dtype ${JSON.stringify(code)}`,
    );
  }
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLength) fail(`tensor '${name}' claims bytes ${begin}..${end} of ${dataLength} bytes of data`);
  let bytes = ITEMSIZE[dtype!];
  for (const s of shape as number[]) {
    bytes *= s;
    if (!Number.isSafeInteger(bytes)) fail(`tensor '${name}' has a shape too large to address`);
  }
  if (bytes !== end - begin)
    fail(`tensor '${name}' (${code} ${JSON.stringify(shape)}) needs ${bytes} bytes but its data_offsets span ${end - begin}`);
  return { name, dtype: dtype!, shape: shape as number[], begin, end };
}

/** out[name] = t, also for a name like '__proto__' (which plain assignment would take as the prototype). */
function put<T>(out: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
}

/** A tensor of `dtype` and `shape` holding a copy of `bytes` (little-endian, as the format stores them). */
function fromBytes(bytes: Uint8Array, e: Entry, device: string | undefined): Tensor {
  return scope(() => {
    const t = tensor(bytes, { dtype: 'uint8' }).view(e.dtype).reshape(e.shape);
    return device && device !== 'cpu' ? t.to(device) : t;
  });
}

export interface LoadOptions {
  /** Where the tensors go (default 'cpu'), as Python's `device=`. */
  device?: string;
}
const LOAD_OPTIONS = ['device'] as const;

function deviceOption(opts: unknown, who: string): string | undefined {
  const o = optionsArg<LoadOptions>(opts, who, LOAD_OPTIONS);
  return o.device === undefined ? undefined : checkDevice(o.device, 'device');
}

function readTensors(header: Header, readAt: ReadAt, names: string[], device: string | undefined): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  try {
    for (const name of names) {
      const e = header.entries.get(name)!;
      if (e.end - e.begin > MAX_BUFFER) {
        throw new SafetensorError(`safetensors: tensor '${name}' has ${e.end - e.begin} bytes, more than one read can hold (${MAX_BUFFER})`);
      }
      put(out, name, fromBytes(readAt(header.dataStart + e.begin, e.end - e.begin), e, device));
    }
  } catch (err) {
    for (const t of Object.values(out)) t.dispose();
    throw err;
  }
  return out;
}

/** safetensors.torch.load(data): the tensors of a safetensors file held in a Buffer, in file order (as Python). */
export function load(data: Uint8Array, opts?: LoadOptions): Record<string, Tensor> {
  if (!(data instanceof Uint8Array)) throw new TypeError(`safetensors.load: data must be a Buffer or Uint8Array (got ${describe(data)})`);
  const device = deviceOption(opts, 'safetensors.load');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const readAt: ReadAt = (position, length) => buf.subarray(position, position + length);
  const header = parseHeader(buf.length, readAt, 'buffer');
  return readTensors(header, readAt, inFileOrder(header), device);
}

/**
 * A safetensors file opened for reading parts of it, as Python's `safe_open(path, framework='pt')`:
 * keys(), metadata(), getTensor(name). Each getTensor reads that tensor's bytes only. close() (or
 * `using`) closes the file.
 */
export class SafeOpen {
  private fd: number | null;
  private readonly header: Header;
  private readonly device: string | undefined;

  constructor(file: PathLike, opts?: LoadOptions) {
    const where = pathArg(file, 'safetensors.safeOpen');
    this.device = deviceOption(opts, 'safetensors.safeOpen');
    const fd = openRegular(where);
    try {
      const size = fs.fstatSync(fd).size;
      this.header = parseHeader(size, (position, length) => readExactly(fd, position, length, where), where);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    this.fd = fd;
    this.where = where;
  }

  private readonly where: string;

  /** The tensors' names, sorted (as Python's keys()). */
  keys(): string[] {
    return [...this.header.entries.keys()].sort(byName);
  }

  /** The tensors' names in the order of their data in the file (Python's offset_keys(); load_file's order). */
  offsetKeys(): string[] {
    return inFileOrder(this.header);
  }

  /** The file's `__metadata__`, or null. */
  metadata(): Metadata | null {
    return this.header.metadata === null ? null : { ...this.header.metadata };
  }

  getTensor(name: string): Tensor {
    if (this.fd === null) throw new SafetensorError(`safetensors: ${this.where} was closed`);
    if (!this.header.entries.has(name)) throw new SafetensorError(`safetensors: ${this.where} has no tensor '${name}'`);
    const fd = this.fd;
    return readTensors(this.header, (position, length) => readExactly(fd, position, length, this.where), [name], this.device)[name];
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** safetensors.torch.safe_open(path): see SafeOpen. */
export function safeOpen(file: PathLike, opts?: LoadOptions): SafeOpen {
  return new SafeOpen(file, opts);
}

function openRegular(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new SafetensorError(`safetensors: cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw new SafetensorError(`safetensors: ${file} is not a regular file`);
  }
  return fd;
}

function readExactly(fd: number, position: number, length: number, file: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new SafetensorError(`safetensors: ${file} ended early (it changed while being read?)`);
    done += n;
  }
  return buf;
}

/** safetensors.torch.load_file(path, device): every tensor of the file, in file order (as Python). */
export function loadFile(file: PathLike, opts?: LoadOptions): Record<string, Tensor> {
  const f = new SafeOpen(file, opts);
  try {
    const out: Record<string, Tensor> = {};
    try {
      for (const name of f.offsetKeys()) put(out, name, f.getTensor(name));
    } catch (e) {
      for (const t of Object.values(out)) t.dispose();
      throw e;
    }
    return out;
  } finally {
    f.close();
  }
}

/**
 * A sharded checkpoint: `model.safetensors.index.json` ({weight_map: {name: shard file}}) or the folder
 * holding it (or a single model.safetensors). Each shard is read once; every name the index lists must
 * be in its shard. The result is in the index's order.
 */
export function loadSharded(indexOrDir: PathLike, opts?: LoadOptions): Record<string, Tensor> {
  const where = pathArg(indexOrDir, 'safetensors.loadSharded');
  let index = where;
  if (fs.existsSync(where) && fs.statSync(where).isDirectory()) {
    index = path.join(where, 'model.safetensors.index.json');
    if (!fs.existsSync(index) && fs.existsSync(path.join(where, 'model.safetensors'))) return loadFile(path.join(where, 'model.safetensors'), opts);
  }
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new SafetensorError(`safetensors: cannot read the index ${index} (${(e as Error).message})`);
  }
  if (
    weightMap === null ||
    typeof weightMap !== 'object' ||
    Object.values(weightMap).some((v) => typeof v !== 'string' || v.includes('/') || v.includes('\\'))
  ) {
    throw new SafetensorError(`safetensors: ${index} has no weight_map of names to shard files in its folder`);
  }
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, string>)) {
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  const loaded: Record<string, Tensor> = {};
  try {
    for (const [shard, names] of byShard) {
      const file = path.join(path.dirname(index), shard);
      const f = new SafeOpen(file, opts);
      try {
        const held = new Set(f.keys());
        for (const name of names) {
          if (!held.has(name)) throw new SafetensorError(`safetensors: ${index} puts '${name}' in ${shard}, which does not hold it`);
          put(loaded, name, f.getTensor(name));
        }
      } finally {
        f.close();
      }
    }
  } catch (e) {
    for (const t of Object.values(loaded)) t.dispose();
    throw e;
  }
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(weightMap as object)) put(out, name, loaded[name]);
  return out;
}

// ---- writing ----

export interface SaveOptions {
  /** `__metadata__`: strings only, as the format allows. */
  metadata?: Metadata | null;
}
const SAVE_OPTIONS = ['metadata'] as const;

/** safetensors.torch.save(tensors, metadata): the file's bytes, as Python writes them. */
export function save(tensors: Record<string, Tensor>, opts?: SaveOptions): Buffer {
  const o = optionsArg<SaveOptions>(opts, 'safetensors.save', SAVE_OPTIONS);
  return serialize(tensors, o.metadata ?? null, 'safetensors.save');
}

/** safetensors.torch.save_file(tensors, path, metadata): atomic (a temporary file, then a rename). */
export function saveFile(tensors: Record<string, Tensor>, file: PathLike, opts?: SaveOptions): void {
  const where = pathArg(file, 'safetensors.saveFile');
  const o = optionsArg<SaveOptions>(opts, 'safetensors.saveFile', SAVE_OPTIONS);
  writeAtomic(where, serialize(tensors, o.metadata ?? null, 'safetensors.saveFile'));
}

/** safetensors.torch.save_model(model, path, metadata): its state dict. */
export function saveModel(model: HasStateDict, file: PathLike, opts?: SaveOptions): void {
  saveFile(model.stateDict() as Record<string, Tensor>, file, opts);
}

/** safetensors.torch.load_model(model, path, strict, device): loads the file into the model. */
export function loadModel(model: HasStateDict, file: PathLike, opts: LoadOptions & { strict?: boolean } = {}): void {
  const { strict, ...rest } = optionsArg<LoadOptions & { strict?: boolean }>(opts, 'safetensors.loadModel', [...LOAD_OPTIONS, 'strict']);
  const sd = loadFile(file, rest);
  try {
    model.loadStateDict(sd as StateDict, { strict: strict ?? true });
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}

/**
 * Python refuses tensors whose memory overlaps (loading them back would give separate tensors); views of
 * one storage that do not overlap, such as the parts of qkv.chunk(3), are fine, as there.
 */
function refuseOverlaps(items: { name: string; t: Tensor }[], who: string): void {
  const byStorage = new Map<string, { name: string; start: bigint; stop: bigint }[]>();
  for (const { name, t } of items) {
    if (t.numel() === 0) continue;
    const [storage, data] = native.memoryOf(t.handle);
    const key = `${t.device} ${storage}`;
    const range = { name, start: data, stop: data + BigInt(t.numel() * ITEMSIZE[t.dtype]) };
    byStorage.set(key, [...(byStorage.get(key) ?? []), range]);
  }
  for (const ranges of byStorage.values()) {
    ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (let i = 1; i < ranges.length; i++) {
      const before = ranges.slice(0, i).find((r) => r.stop > ranges[i].start);
      if (before) {
        throw new SafetensorError(
          `${who}: '${before.name}' and '${ranges[i].name}' share memory; save one of them (or a .clone()), as Python's safetensors asks`,
        );
      }
    }
  }
}

function serialize(tensors: unknown, metadata: unknown, who: string): Buffer {
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors) || tensors instanceof Tensor) {
    throw new TypeError(`${who}: tensors must be an object of name → Tensor (got ${describe(tensors)})`);
  }
  if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))) {
    throw new TypeError(`${who}: metadata must map strings to strings (got ${describe(metadata)})`);
  }
  const items: { name: string; code: string; t: Tensor }[] = [];
  for (const [name, t] of Object.entries(tensors as Record<string, unknown>)) {
    if (!(t instanceof Tensor)) throw new TypeError(`${who}: '${name}' must be a Tensor (got ${describe(t)})`);
    const code = CODE_OF.get(t.dtype);
    if (!code) throw new TypeError(`${who}: '${name}' has dtype ${t.dtype}, which safetensors cannot store`);
    if (!t.isContiguous()) {
      throw new SafetensorError(
        `${who}: '${name}' is not contiguous: save .contiguous() of it (as Python's safetensors asks), or the tensor it is a view of`,
      );
    }
    items.push({ name, code, t });
  }
  refuseOverlaps(items, who);
  items.sort((a, b) => RANK.get(b.code)! - RANK.get(a.code)! || byName(a.name, b.name));
  // The JSON text is built entry by entry: a JS object would put integer-like names ('0', '12') first.
  const entries: string[] = [];
  if (metadata !== null) {
    const meta = Object.entries(metadata as Metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    entries.push(`"__metadata__":{${meta.join(',')}}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  scope(() => {
    for (const { name, code, t } of items) {
      const bytes = t.detach().cpu().reshape(-1).view('uint8').data() as Uint8Array;
      entries.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes.length] })}`);
      chunks.push(bytes);
      offset += bytes.length;
    }
  });
  let json = Buffer.from(`{${entries.join(',')}}`, 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, ...chunks]);
}
