/**
 * Python's pickle format, as much of it as torch.save files use, with no code execution.
 *
 * PickleWriter emits protocol 2 the way CPython's pickler does for the values a checkpoint holds
 * (dicts, lists, tuples, ints, floats, strings, booleans, None, globals, REDUCE/BUILD and persistent
 * ids), memo (BINPUT/BINGET) included, so Python's weights-only unpickler reads it.
 *
 * Unpickler reads the binary opcodes of protocols 2-5 into a small Python object model (PyTuple,
 * PyDict, PySet, Buffer for bytes, JS arrays for lists, numbers/bigints/strings/booleans/null). It
 * calls nothing: GLOBAL, REDUCE, NEWOBJ, BUILD and persistent ids go to hooks the caller supplies,
 * which decide what is allowed (lib/serialize.ts keeps PyTorch's weights-only allow-list). Every read
 * is bounds-checked and every malformed stream is a PickleError, never a crash or a hang.
 */

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python dict (kind 'dict'), collections.OrderedDict or collections.Counter; attrs from BUILD. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  attrs: Map<string, unknown> | null = null;
  constructor(readonly kind: 'dict' | 'OrderedDict' | 'Counter' = 'dict') {}
  set(k: unknown, v: unknown): void {
    if (Array.isArray(k) || k instanceof PyDict || k instanceof PySet) throw new PickleError('unhashable dict key (a list, dict or set)');
    this.map.set(k, v);
  }
}

/** A Python set or frozenset. */
export class PySet {
  readonly items: unknown[] = [];
  constructor(readonly frozen = false) {}
}

/** What the caller decides about the risky opcodes. Each may throw to refuse. */
export interface UnpickleHooks {
  findGlobal(module: string, name: string): unknown;
  persistentLoad(pid: unknown): unknown;
  reduce(func: unknown, args: unknown[]): unknown;
  newObj(cls: unknown, args: unknown[]): unknown;
  build(inst: unknown, state: unknown): void;
}

const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  BINFLOAT: 0x47,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  NONE: 0x4e,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  APPENDS: 0x65,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  EMPTY_DICT: 0x7d,
  EMPTY_TUPLE: 0x29,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
} as const;

/** CPython's pickler writes SETITEMS/APPENDS in batches of this many items. */
const BATCH = 1000;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Low-level protocol-2 writer: one method per opcode family, plus the memo. */
export class PickleWriter {
  private buf = Buffer.allocUnsafe(1 << 12);
  private n = 0;
  private memoSize = 0;
  private readonly strMemo = new Map<string, number>();
  private readonly globalMemo = new Map<string, number>();

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.n++] = b;
  }
  private u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.n);
    this.n += 4;
  }
  private raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.n);
    this.n += b.length;
  }

  /** The pickle so far (a copy). */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.n));
  }

  proto(): void {
    this.byte(OP.PROTO);
    this.byte(2);
  }
  stop(): void {
    this.byte(OP.STOP);
  }
  mark(): void {
    this.byte(OP.MARK);
  }
  /** Stores the top of the stack in the memo (BINPUT / LONG_BINPUT); returns its index. */
  put(): number {
    const i = this.memoSize++;
    if (i < 256) {
      this.byte(OP.BINPUT);
      this.byte(i);
    } else {
      this.byte(OP.LONG_BINPUT);
      this.u32(i);
    }
    return i;
  }
  get(i: number): void {
    if (i < 256) {
      this.byte(OP.BINGET);
      this.byte(i);
    } else {
      this.byte(OP.LONG_BINGET);
      this.u32(i);
    }
  }
  none(): void {
    this.byte(OP.NONE);
  }
  bool(b: boolean): void {
    this.byte(b ? OP.NEWTRUE : OP.NEWFALSE);
  }
  /** An int: BININT1/BININT2/BININT where they fit, else LONG1 (two's complement), LONG4 beyond 255 bytes (as CPython). */
  int(v: number | bigint): void {
    if (typeof v === 'bigint' && v >= -0x80000000n && v <= 0x7fffffffn) v = Number(v); // CPython's opcodes for small ints
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      if (v >= 0 && v <= 0xff) {
        this.byte(OP.BININT1);
        this.byte(v);
        return;
      }
      if (v >= 0 && v <= 0xffff) {
        this.byte(OP.BININT2);
        this.ensure(2);
        this.buf.writeUInt16LE(v, this.n);
        this.n += 2;
        return;
      }
      if (v >= -0x80000000 && v <= 0x7fffffff) {
        this.byte(OP.BININT);
        this.ensure(4);
        this.buf.writeInt32LE(v, this.n);
        this.n += 4;
        return;
      }
    }
    const big = BigInt(v);
    const bytes = encodeLong(big);
    if (bytes.length > 255) {
      this.byte(OP.LONG4);
      this.u32(bytes.length);
    } else {
      this.byte(OP.LONG1);
      this.byte(bytes.length);
    }
    this.raw(bytes);
  }
  float(v: number): void {
    this.byte(OP.BINFLOAT);
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.n);
    this.n += 8;
  }
  /** A str (BINUNICODE, UTF-8), memoized by value: a repeated string is a BINGET. */
  str(s: string): void {
    const m = this.strMemo.get(s);
    if (m !== undefined) {
      this.get(m);
      return;
    }
    const b = Buffer.from(s, 'utf8');
    this.byte(OP.BINUNICODE);
    this.u32(b.length);
    this.raw(b);
    this.strMemo.set(s, this.put());
  }
  /** GLOBAL 'module\nname\n', memoized (CPython memoizes the class/function object). */
  global(module: string, name: string): void {
    const key = `${module}\n${name}`;
    const m = this.globalMemo.get(key);
    if (m !== undefined) {
      this.get(m);
      return;
    }
    this.byte(OP.GLOBAL);
    this.raw(Buffer.from(`${key}\n`, 'utf8'));
    this.globalMemo.set(key, this.put());
  }
  emptyTuple(): void {
    this.byte(OP.EMPTY_TUPLE);
  }
  /** Closes a tuple of n items already on the stack (TUPLE1-3, or TUPLE after a mark for n > 3). */
  tuple(n: number): void {
    if (n === 0) this.byte(OP.EMPTY_TUPLE);
    else if (n <= 3) this.byte([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][n - 1]);
    else this.byte(OP.TUPLE);
  }
  emptyDict(): void {
    this.byte(OP.EMPTY_DICT);
  }
  emptyList(): void {
    this.byte(OP.EMPTY_LIST);
  }
  setitem(): void {
    this.byte(OP.SETITEM);
  }
  setitems(): void {
    this.byte(OP.SETITEMS);
  }
  append(): void {
    this.byte(OP.APPEND);
  }
  appends(): void {
    this.byte(OP.APPENDS);
  }
  reduce(): void {
    this.byte(OP.REDUCE);
  }
  build(): void {
    this.byte(OP.BUILD);
  }
  binpersid(): void {
    this.byte(OP.BINPERSID);
  }

  /** Dict items as CPython's _batch_setitems: SETITEM for a batch of one, MARK … SETITEMS otherwise. */
  batchSetItems<T>(items: T[], saveItem: (item: T) => void): void {
    for (let i = 0; i < items.length; i += BATCH) {
      const chunk = items.slice(i, i + BATCH);
      if (chunk.length === 1) {
        saveItem(chunk[0]);
        this.setitem();
      } else {
        this.mark();
        for (const it of chunk) saveItem(it);
        this.setitems();
      }
    }
  }
  /** List items as CPython's _batch_appends. */
  batchAppends<T>(items: T[], saveItem: (item: T) => void): void {
    for (let i = 0; i < items.length; i += BATCH) {
      const chunk = items.slice(i, i + BATCH);
      if (chunk.length === 1) {
        saveItem(chunk[0]);
        this.append();
      } else {
        this.mark();
        for (const it of chunk) saveItem(it);
        this.appends();
      }
    }
  }
}

/** pickle.encode_long: little-endian two's complement, as few bytes as hold the sign (through hex: linear in size). */
function encodeLong(x: bigint): Buffer {
  if (x === 0n) return Buffer.alloc(0);
  const mag = (x < 0n ? -x - 1n : x).toString(16); // the bits beside the sign bit
  const bits = mag === '0' ? 0 : (mag.length - 1) * 4 + parseInt(mag[0], 16).toString(2).length;
  const n = Math.floor(bits / 8) + 1;
  const u = x < 0n ? x + (1n << BigInt(8 * n)) : x;
  return Buffer.from(u.toString(16).padStart(2 * n, '0'), 'hex').reverse();
}

function decodeLong(b: Buffer): number | bigint {
  if (b.length === 0) return 0;
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Reads one pickle from `data` with `hooks` deciding globals, REDUCE, NEWOBJ, BUILD and persistent ids. */
export class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly metastack: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(
    private readonly data: Buffer,
    private readonly hooks: UnpickleHooks,
  ) {}

  /** The byte offset being read (for error messages). */
  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.data.length)
      throw new PickleError(`truncated pickle (needs ${n} more bytes at offset ${this.pos} of ${this.data.length})`);
  }
  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }
  private u16(): number {
    this.need(2);
    const v = this.data.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.data.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.data.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.data.readBigUInt64LE(this.pos);
    this.pos += 8;
    if (v > BigInt(this.data.length)) throw new PickleError(`length ${v} exceeds the pickle's size`);
    return Number(v);
  }
  private take(n: number): Buffer {
    this.need(n);
    const b = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** One line of a GLOBAL: a module or a name, printable and at most 256 bytes. */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 256) throw new PickleError('truncated or overlong GLOBAL name');
    const s = this.data.toString('utf8', this.pos, end);
    // eslint-disable-next-line no-control-regex
    if (!/^[^\x00-\x1f\x7f\ufffd]+$/.test(s)) throw new PickleError('malformed GLOBAL name');
    this.pos = end + 1;
    return s;
  }

  private push(v: unknown): void {
    this.stack.push(v);
  }
  private pop(): unknown {
    if (this.stack.length === 0) throw new PickleError('stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0) throw new PickleError('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (prev === undefined) throw new PickleError('MARK expected but missing');
    this.stack = prev;
    return items;
  }
  private memoGet(i: number): unknown {
    if (!this.memo.has(i)) throw new PickleError(`memo entry ${i} is missing`);
    return this.memo.get(i);
  }
  private dictTarget(op: string): PyDict {
    const d = this.top();
    if (!(d instanceof PyDict)) throw new PickleError(`${op} on something that is not a dict`);
    return d;
  }
  private listTarget(op: string): unknown[] {
    const l = this.top();
    if (!Array.isArray(l)) throw new PickleError(`${op} on something that is not a list`);
    return l;
  }
  private str(b: Buffer): string {
    return b.toString('utf8');
  }

  load(): unknown {
    const d = this.data;
    for (;;) {
      if (this.pos >= d.length) throw new PickleError('truncated pickle (no STOP)');
      const at = this.pos;
      const op = d[this.pos++];
      switch (op) {
        case OP.PROTO: {
          const v = this.u8();
          if (v > 5) throw new PickleError(`unsupported pickle protocol ${v}`);
          break;
        }
        case OP.FRAME:
          this.u64();
          break;
        case OP.STOP: {
          const v = this.pop();
          return v;
        }
        case OP.MARK:
          this.metastack.push(this.stack);
          this.stack = [];
          break;
        case OP.POP:
          if (this.stack.length) this.stack.pop();
          else this.popMark();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;
        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.BININT:
          this.push(this.i32());
          break;
        case OP.BININT1:
          this.push(this.u8());
          break;
        case OP.BININT2:
          this.push(this.u16());
          break;
        case OP.LONG1:
          this.push(decodeLong(this.take(this.u8())));
          break;
        case OP.LONG4: {
          const n = this.i32();
          // Python writes ints past 255 bytes so; a JS BigInt holds at most 2^30 bits, so cap well below.
          if (n < 0 || n > 1 << 20) throw new PickleError(`LONG4 of ${n} bytes is not supported`);
          this.push(decodeLong(this.take(n)));
          break;
        }
        case OP.BINFLOAT: {
          this.need(8);
          this.push(d.readDoubleBE(this.pos));
          this.pos += 8;
          break;
        }
        case OP.BINUNICODE:
          this.push(this.str(this.take(this.u32())));
          break;
        case OP.SHORT_BINUNICODE:
          this.push(this.str(this.take(this.u8())));
          break;
        case OP.BINUNICODE8:
          this.push(this.str(this.take(this.u64())));
          break;
        case OP.BINSTRING: {
          const n = this.i32();
          if (n < 0) throw new PickleError('negative BINSTRING length');
          this.push(this.str(this.take(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
          this.push(this.str(this.take(this.u8())));
          break;
        case OP.BINBYTES:
          this.push(Buffer.from(this.take(this.u32())));
          break;
        case OP.SHORT_BINBYTES:
          this.push(Buffer.from(this.take(this.u8())));
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          this.push(Buffer.from(this.take(this.u64())));
          break;
        case OP.EMPTY_TUPLE:
          this.push(new PyTuple([]));
          break;
        case OP.TUPLE:
          this.push(new PyTuple(this.popMark()));
          break;
        case OP.TUPLE1: {
          const a = this.pop();
          this.push(new PyTuple([a]));
          break;
        }
        case OP.TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b]));
          break;
        }
        case OP.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b, c]));
          break;
        }
        case OP.EMPTY_LIST:
          this.push([]);
          break;
        case OP.LIST:
          this.push(this.popMark());
          break;
        case OP.APPEND: {
          const v = this.pop();
          this.listTarget('APPEND').push(v);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          const l = this.listTarget('APPENDS');
          for (const v of items) l.push(v);
          break;
        }
        case OP.EMPTY_DICT:
          this.push(new PyDict());
          break;
        case OP.DICT: {
          const items = this.popMark();
          if (items.length % 2) throw new PickleError('DICT with an odd number of items');
          const dict = new PyDict();
          for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
          this.push(dict);
          break;
        }
        case OP.SETITEM: {
          const v = this.pop();
          const k = this.pop();
          this.dictTarget('SETITEM').set(k, v);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          if (items.length % 2) throw new PickleError('SETITEMS with an odd number of items');
          const dict = this.dictTarget('SETITEMS');
          for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
          break;
        }
        case OP.EMPTY_SET:
          this.push(new PySet());
          break;
        case OP.ADDITEMS: {
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof PySet) || s.frozen) throw new PickleError('ADDITEMS on something that is not a set');
          s.items.push(...items);
          break;
        }
        case OP.FROZENSET: {
          const s = new PySet(true);
          s.items.push(...this.popMark());
          this.push(s);
          break;
        }
        case OP.GLOBAL: {
          const module = this.line();
          const name = this.line();
          this.push(this.hooks.findGlobal(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
          this.push(this.hooks.findGlobal(module, name));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const func = this.pop();
          if (!(args instanceof PyTuple)) throw new PickleError('REDUCE arguments are not a tuple');
          this.push(this.hooks.reduce(func, args.items));
          break;
        }
        case OP.NEWOBJ: {
          const args = this.pop();
          const cls = this.pop();
          if (!(args instanceof PyTuple)) throw new PickleError('NEWOBJ arguments are not a tuple');
          this.push(this.hooks.newObj(cls, args.items));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(args instanceof PyTuple) || !(kwargs instanceof PyDict)) throw new PickleError('NEWOBJ_EX arguments are malformed');
          if (kwargs.map.size) throw new PickleError('NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.hooks.newObj(cls, args.items));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          this.hooks.build(this.top(), state);
          break;
        }
        case OP.BINPERSID: {
          const pid = this.pop();
          this.push(this.hooks.persistentLoad(pid));
          break;
        }
        case OP.BINPUT:
          this.memo.set(this.u8(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memo.set(this.u32(), this.top());
          break;
        case OP.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case OP.BINGET:
          this.push(this.memoGet(this.u8()));
          break;
        case OP.LONG_BINGET:
          this.push(this.memoGet(this.u32()));
          break;
        default:
          throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
      }
    }
  }
}
