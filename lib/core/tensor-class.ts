/**
 * Tensor: one JS object holding one reference to an at::Tensor. Methods validate their arguments, make
 * one native call and wrap the handle that comes back. The rest of PyTorch's methods are generated from
 * its operator schema (core/surface.ts installs them when core/tensor.ts, the module every file imports,
 * is loaded); those written here keep a faster or special path.
 */
import { inspect } from 'node:util';
import { native, type Handle, type NodeHandle } from './native';
import { TorchError, warnOnce } from './errors';
import { intArg, boolArg, optionsArg, fitsInt64 } from './args';
import { DTYPES, FLOATING_DTYPES, checkDevice, describe, dtypeCode, isDeviceString, optDtypeCode, type Dtype } from './dtype';
import { onEscape, track } from './scope';
import { formatTensor, summaryIndices, summaryNeeded } from './format';
import { toIndexItems, type Index } from './indexing';

/** Where PyTorch takes `Tensor | Number`: a tensor, or a number (an int when integral), a boolean, or a bigint (an exact int64). */
export type Operand = Tensor | number | boolean | bigint;
export type TypedArray =
  Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array | Uint16Array | Uint32Array | BigUint64Array;
/** Nested arrays of numbers or booleans, as toArray() returns them. */
export type NestedArray = number | boolean | NestedArray[];

/** (values, indices) of max/min/sort/topk, like PyTorch's named tuple: an array with named fields. */
export type ValuesIndices = [Tensor, Tensor] & { readonly values: Tensor; readonly indices: Tensor };

/** The autograd node that produced a tensor (PyTorch's grad_fn). */
/**
 * The autograd node that made a tensor, as Python's `grad_fn`: its name (Python's class name, such as
 * 'AddmmBackward0'), the next functions gradients flow to, an AccumulateGrad's leaf tensor, and what the
 * node saved for backward. One object per node while it is reachable (`y.gradFn === y.gradFn`, as
 * Python's `is`); holding it keeps the graph behind it alive, as there.
 */
export class GradFn {
  readonly name: string;
  /** @internal */
  readonly id: bigint;
  private readonly node: NodeHandle;

  private constructor(node: NodeHandle, info: { id: bigint; name: string }) {
    this.node = node;
    this.name = info.name;
    this.id = info.id;
  }

  /** @internal The GradFn of a node: the same object as long as one is reachable. */
  static of(node: NodeHandle): GradFn {
    const info = native.nodeInfo(node);
    const id = info.id;
    const known = gradFns.get(id)?.deref();
    if (known) return known;
    const fn = new GradFn(node, info);
    gradFns.set(id, new WeakRef(fn));
    forgetGradFn.register(fn, id, fn);
    return fn;
  }

  /** Python's next_functions: [next node or null (an input that needs no gradient), input number]. */
  get nextFunctions(): [GradFn | null, number][] {
    return native.nodeInfo(this.node).next.map(([n, nr]) => [n === null ? null : GradFn.of(n), nr]);
  }

  /** AccumulateGrad's `variable`: the leaf its gradient accumulates into (undefined on other nodes). */
  get variable(): Tensor | undefined {
    const h = native.nodeVariable(this.node);
    return h === null ? undefined : wrap(h);
  }

  /**
   * What the node saved for backward, as Python's `_saved_<name>` attributes: tensors, arrays of them,
   * null for None, and other values as Python prints them ('(1, 1)', 'True', '1e-05'). Reading them after
   * backward freed them is Python's error.
   */
  get saved(): Record<string, Tensor | null | (Tensor | null)[] | string> {
    const fields = native.nodeSaved(this.node) ?? [];
    const tensor = (t: { handle: Handle } | null) => (t === null ? null : wrap(t.handle));
    return Object.fromEntries(
      fields.map((f) => [
        f.name,
        f.tensor !== undefined ? tensor(f.tensor) : f.tensors !== undefined ? f.tensors.map(tensor) : f.text === 'None' ? null : f.text!,
      ]),
    );
  }

  toString(): string {
    return `<${this.name}>`;
  }
}
const gradFns = new Map<bigint, WeakRef<GradFn>>();
const forgetGradFn = new FinalizationRegistry<bigint>((id) => {
  if (!gradFns.get(id)?.deref()) gradFns.delete(id);
});

export interface ReduceOptions {
  dim?: number | number[];
  keepdim?: boolean;
  dtype?: Dtype;
}
export interface VarOptions {
  dim?: number | number[];
  /** Degrees of freedom subtracted from N (PyTorch's default 1). */
  correction?: number;
  /** Legacy form: unbiased=false is correction 0. */
  unbiased?: boolean;
  keepdim?: boolean;
}
export interface ToOptions {
  dtype?: Dtype;
  device?: string;
  nonBlocking?: boolean;
  copy?: boolean;
}
export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

/** Where PyTorch takes a Scalar: a number (an int when integral), a boolean, or a bigint (an exact int64). */
export type Scalar = number | boolean | bigint;

/**
 * @internal The generated bindings of the hand-written add/sub/div (lib/surface.ts fills this in): their
 * keyword forms go there.
 */
export const keywordForms: Record<string, (self: Tensor, args: unknown[]) => unknown> = {};

/** Python's keyword form of an argument: a plain options object (not a Tensor posted to a worker, which
 * arrives as one with _h: the typed path names that mistake). */
function isKeywords(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !(v instanceof Tensor) && !Array.isArray(v) && !('_h' in v);
}

export function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

/** The handle of a Tensor argument, or a TypeError naming the argument. */
export function handleOf(v: unknown, argName: string): Handle {
  if (v instanceof Tensor) return v.handle;
  throw new TypeError(`${argName} must be a Tensor (got ${describe(v)})`);
}

/** A Tensor's handle, or a number/boolean/bigint passed through (LibTorch wraps it as PyTorch does). */
export function operandOf(v: unknown, argName: string): Handle | number | boolean | bigint {
  if (v instanceof Tensor) return v.handle;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') {
    // an int64 scalar; the native side tells tensor handles from these by range (handles are >= 2^63)
    if (!fitsInt64(v)) throw new RangeError(`${argName} does not fit in int64 (got ${v}n)`);
    return v;
  }
  throw new TypeError(`${argName} must be a Tensor, number, boolean or bigint (got ${describe(v)})`);
}

/** Every prefix of a tuple type ([], [A], [A, B], …), for Python's optional positional arguments. */
export type Prefixes<T extends unknown[]> = T extends [...infer Head, unknown] ? Prefixes<Head> | T : T;
/** Each tuple of P followed by an optional options object O. */
export type WithOptions<P, O> = P extends unknown[] ? [...P, O?] : never;
/**
 * The arguments after a constructor's required ones, as Python takes them: any prefix of the optional
 * positional ones (`P`, in Python's order), then optionally the options object `O`.
 */
export type PyRest<P extends unknown[], O> = WithOptions<Prefixes<P>, O>;

/**
 * Python's binding of optional positional arguments: `rest` holds them in `names`' order, then maybe one
 * options object; the result is that object with the positional ones added under their names (a name given
 * both ways is a TypeError, as Python's "multiple values for argument"). The caller checks the names.
 */
export function pyOptions(who: string, rest: readonly unknown[], names: readonly string[]): Record<string, unknown> {
  let n = rest.length;
  const last = rest[n - 1];
  let out: Record<string, unknown> = {};
  if (n > 0 && last !== null && typeof last === 'object' && !Array.isArray(last) && !(last instanceof Tensor)) {
    out = { ...(last as Record<string, unknown>) };
    n--;
  }
  if (n > names.length) throw new TypeError(`${who}: takes at most ${names.length} optional positional arguments (${names.join(', ')}), got ${n}`);
  for (let i = 0; i < n; i++) {
    if (rest[i] === undefined) continue;
    if (out[names[i]] !== undefined) throw new TypeError(`${who}: got multiple values for argument '${names[i]}'`);
    out[names[i]] = rest[i];
  }
  return out;
}

/** An options object of the hand-written methods: known keys only (optionsArg's rule), never a Tensor. */
function options<T extends object>(v: unknown, who: string, known: readonly string[]): T {
  if (v instanceof Tensor) throw new TypeError(`${who}: options must be an object (got a Tensor)`);
  return optionsArg<T>(v, who, known);
}

/** A LibTorch tensor, as torch.Tensor: made by torch.tensor(), torch.zeros(), … and by ops; PyTorch's methods in camelCase. Holds one reference to its data until dispose() (or the end of a torch.scope). */
export class Tensor {
  /** @internal The native handle; null once disposed. */
  _h: Handle | null;
  // The shape, read once: no op torchnode exposes changes a tensor's shape in place (module.to()'s
  // setData keeps it). An in-place resize, if ever added, must clear this.
  private _shape: number[] | undefined;
  /** @internal The collector's release: 0 none (a scope holds it), 1 queued, 2 attached. */
  _gc: number;

  /** @internal Tensors are made by torch.* functions and ops, not with `new`. */
  constructor(handle: Handle) {
    this._h = handle;
    this._shape = undefined;
    this._gc = 0;
    if (!track(this)) backstop(this);
  }

  /** @internal The live native handle, or a TorchError if this tensor was disposed. */
  get handle(): Handle {
    const h = this._h;
    if (h === null) throw new TorchError('this Tensor was disposed (dispose() or a torch.scope that ended); it can no longer be used');
    return h;
  }

  // ---- memory ----

  /** Drops this tensor's reference to its data now. Safe to call twice. */
  dispose(): void {
    const h = this._h;
    if (h !== null) {
      this._h = null;
      native.dispose(h);
    }
  }
  /** dispose(), for `using t = …`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** True after dispose(). */
  get isDisposed(): boolean {
    return this._h === null;
  }
  // ---- reading ----

  /** The sizes of the dimensions (a copy). */
  get shape(): number[] {
    return this.sizes().slice();
  }
  // The cached shape itself (read-only by convention: `shape` hands out copies).
  private sizes(): number[] {
    const h = this.handle;
    return (this._shape ??= native.shape(h));
  }
  /** size() is the shape; size(dim) one entry of it (negative dims count from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    const s = this.shape;
    if (dim === undefined) return s;
    const d = intArg(dim, 'dim');
    if (d < -s.length || d >= s.length) throw new RangeError(`dim ${d} is out of range for a tensor of ${s.length} dimensions`);
    return s[d < 0 ? d + s.length : d];
  }
  /** Elements to skip in storage per step along each dimension. */
  stride(): number[] {
    return native.stride(this.handle);
  }
  /** The element type: 'float32', 'int64', 'bool', … */
  get dtype(): Dtype {
    return native.dtype(this.handle) as Dtype;
  }
  /** Where the data lives: 'cpu' or 'cuda:N'. */
  get device(): string {
    return native.device(this.handle);
  }
  /** The number of dimensions. */
  get ndim(): number {
    return this.sizes().length;
  }
  /** The number of dimensions (ndim). */
  dim(): number {
    return this.sizes().length;
  }
  /** The number of elements. */
  numel(): number {
    return native.numel(this.handle);
  }
  /** True if the data is on a CUDA device. */
  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }
  /** True if the elements are laid out densely in row-major order. */
  isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  /** The address of the first element, as Python's `data_ptr()` (0 for a tensor with no storage). */
  dataPtr(): number {
    return Number(native.memoryOf(this.handle)[1]);
  }
  /** True if the data is in page-locked host memory. */
  isPinned(): boolean {
    return native.isPinned(this.handle);
  }
  /** True for float16, bfloat16, float32, float64 and the float8 kinds (as Python's `is_floating_point()`). */
  isFloatingPoint(): boolean {
    return FLOATING_DTYPES.has(this.dtype);
  }

  /** The value of a one-element tensor as a JS number (or boolean). */
  item(): number | boolean {
    return native.item(this.handle);
  }
  /**
   * A copy of the elements as a TypedArray: float16, bfloat16 and the float8 kinds widened to Float32Array
   * (exactly), bool as Uint8Array, int64 as BigInt64Array, uint16/uint32/uint64 as Uint16Array/Uint32Array/BigUint64Array.
   */
  data(): TypedArray {
    return native.data(this.handle);
  }
  /** The elements as nested JS arrays (int64 as numbers, bool as booleans), like PyTorch's tolist(). */
  toArray(): NestedArray {
    const data = this.data();
    const isBool = this.dtype === 'bool';
    const flat: (number | boolean)[] = Array.from(data as ArrayLike<number | bigint>, (v) =>
      isBool ? v !== 0 : typeof v === 'bigint' ? Number(v) : v,
    );
    const shape = this.shape;
    let i = 0;
    const build = (d: number): NestedArray => {
      if (d === shape.length) return flat[i++];
      const out: NestedArray[] = new Array(shape[d]);
      for (let k = 0; k < shape[d]; k++) out[k] = build(d + 1);
      return out;
    };
    return build(0);
  }
  tolist(): NestedArray {
    return this.toArray();
  }

  /** PyTorch's repr: `tensor([[1., 2.], ...], requires_grad=True)`, summarised when large. */
  toString(): string {
    const shape = this.shape;
    const numel = this.numel();
    const summarized = summaryNeeded(numel);
    let values: ArrayLike<number | bigint | boolean>;
    if (this.device === 'meta') values = [];
    else if (summarized) {
      // Gather only the edge items of each long dim, as PyTorch's summary does.
      let t = this.detach();
      for (let d = 0; d < shape.length; d++) {
        const keep = summaryIndices(shape[d]);
        if (!keep) continue;
        const idx = fromIndexList(keep);
        const items: Index[] = [...Array(d).fill(':'), new Tensor(idx)];
        const next = t.index(...items);
        t.dispose();
        (items[d] as Tensor).dispose();
        t = next;
      }
      values = t.data();
      t.dispose();
    } else {
      values = this.data();
    }
    const gradFn = native.gradFn(this.handle);
    return formatTensor({
      shape,
      dtype: this.dtype,
      device: this.device,
      values,
      summarized,
      requiresGrad: this.requiresGrad,
      gradFn,
    });
  }
  [inspect.custom](): string {
    return this._h === null ? 'Tensor(disposed)' : this.toString();
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(flag: boolean) {
    native.requiresGrad_(this.handle, boolArg(flag, 'requiresGrad', true));
  }
  /** Sets requiresGrad in place (default true) and returns this tensor. */
  requiresGrad_(flag = true): this {
    native.requiresGrad_(this.handle, boolArg(flag, 'requiresGrad', true));
    return this;
  }
  /** The accumulated gradient, or null. Each read is a new handle to the same gradient. */
  get grad(): Tensor | null {
    return wrapOrNull(native.grad(this.handle));
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : handleOf(g, 'grad'));
  }
  get gradFn(): GradFn | null {
    const node = native.gradFnNode(this.handle);
    return node === null ? null : GradFn.of(node);
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  /** Python's x.retains_grad: whether retainGrad() was called on this non-leaf tensor. */
  get retainsGrad(): boolean {
    return native.retainsGrad(this.handle);
  }
  /** Python's x.output_nr: which output of its gradFn this tensor is (0 for a leaf). */
  get outputNr(): number {
    return native.outputNr(this.handle);
  }
  backward(gradient?: Tensor | null, opts?: BackwardOptions): void {
    const o = options<BackwardOptions>(opts, 'backward', ['retainGraph', 'createGraph']);
    const g = gradient === undefined || gradient === null ? undefined : handleOf(gradient, 'gradient');
    native.backward(
      this.handle,
      g,
      o.retainGraph === undefined ? undefined : boolArg(o.retainGraph, 'retainGraph', false),
      boolArg(o.createGraph, 'createGraph', false),
    );
  }
  detach(): Tensor {
    return wrap(native.detach(this.handle));
  }

  // ---- arithmetic with options ----

  // add/sub/div with a tensor or number take the shortest path (a typed native call); with keywords —
  // alpha, roundingMode, or Python's other= — they go through the generated binding, which checks them.
  add(other: Operand, opts?: { alpha?: Scalar }): Tensor {
    if (opts !== undefined || isKeywords(other)) return keywordForms.add(this, opts === undefined ? [other] : [other, opts]) as Tensor;
    return wrap(native.add(this.handle, operandOf(other, 'other'), undefined));
  }
  sub(other: Operand, opts?: { alpha?: Scalar }): Tensor {
    if (opts !== undefined || isKeywords(other)) return keywordForms.sub(this, opts === undefined ? [other] : [other, opts]) as Tensor;
    return wrap(native.sub(this.handle, operandOf(other, 'other'), undefined));
  }
  add_(other: Operand, opts?: { alpha?: Scalar }): this {
    if (opts !== undefined || isKeywords(other)) return keywordForms.add_(this, opts === undefined ? [other] : [other, opts]) as this;
    native.add_(this.handle, operandOf(other, 'other'), undefined);
    return this;
  }
  sub_(other: Operand, opts?: { alpha?: Scalar }): this {
    if (opts !== undefined || isKeywords(other)) return keywordForms.sub_(this, opts === undefined ? [other] : [other, opts]) as this;
    native.sub_(this.handle, operandOf(other, 'other'), undefined);
    return this;
  }
  /** Division; roundingMode 'trunc' or 'floor' as in PyTorch. */
  div(other: Operand, opts?: { roundingMode?: 'trunc' | 'floor' | null }): Tensor {
    if (opts !== undefined || isKeywords(other)) return keywordForms.div(this, opts === undefined ? [other] : [other, opts]) as Tensor;
    return wrap(native.div(this.handle, operandOf(other, 'other'), undefined));
  }
  div_(other: Operand, opts?: { roundingMode?: 'trunc' | 'floor' | null }): this {
    if (opts !== undefined || isKeywords(other)) return keywordForms.div_(this, opts === undefined ? [other] : [other, opts]) as this;
    native.div_(this.handle, operandOf(other, 'other'), undefined);
    return this;
  }
  /** Copies src's elements into this tensor (broadcast, cast, across devices), in place. */
  copy_(src: Operand, opts?: { nonBlocking?: boolean }): this {
    const o = optionsArg<{ nonBlocking?: boolean }>(opts, 'copy_', ['nonBlocking']);
    native.copy_(this.handle, operandOf(src, 'src'), boolArg(o.nonBlocking, 'nonBlocking', false));
    return this;
  }

  // Reductions (sum, mean, max, std, softmax, sort, topk…) are generated: Python's positional arguments
  // and keywords exactly (x.sum(1, true), x.max(1) → [values, indices]).

  // ---- shape ----

  /** Python's x.T: t() up to 2 dims; beyond, the dims reversed (deprecated there too: use permute or mT). */
  get T(): Tensor {
    const n = this.ndim;
    if (n <= 2) return this.t();
    warnOnce(
      'Tensor.T',
      'The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated; ' +
        'use x.mT to transpose batches of matrices or x.permute(...) to reverse the dimensions.',
    );
    return this.permute(Array.from({ length: n }, (_, i) => n - 1 - i));
  }
  /** Python's x.mT: the last two dims swapped (a batch of matrices transposed). */
  get mT(): Tensor {
    if (this.ndim < 2) throw new RangeError(`tensor.mT is only supported on matrices or batches of matrices. Got ${this.ndim}-D tensor.`);
    return this.transpose(-2, -1);
  }
  /** Python's x.mH: the last two dims swapped and conjugated (the adjoint of a batch of matrices). */
  get mH(): Tensor {
    if (this.ndim < 2) throw new RangeError(`tensor.mH is only supported on matrices or batches of matrices. Got ${this.ndim}-D tensor.`);
    return this.transpose(-2, -1).conj();
  }
  /** Python's x.H: a matrix transposed and conjugated (2-D only). */
  get H(): Tensor {
    if (this.ndim !== 2) throw new RangeError(`tensor.H is only supported on matrices (2-D tensors). Got ${this.ndim}-D tensor.`);
    return this.transpose(0, 1).conj();
  }
  /** A contiguous tensor; {memoryFormat: 'channels_last'} gives NHWC strides for 4-D tensors, as in PyTorch. */
  contiguous(opts?: { memoryFormat?: 'channels_last' | 'channels_last_3d' | 'contiguous_format' }): Tensor {
    const format = opts?.memoryFormat;
    if (format !== undefined && format !== 'contiguous_format') {
      if (format !== 'channels_last' && format !== 'channels_last_3d') {
        throw new TypeError(`contiguous: memoryFormat must be 'channels_last', 'channels_last_3d' or 'contiguous_format' (got ${describe(format)})`);
      }
      return wrap(native.toMemoryFormat(this.handle, format));
    }
    return wrap(native.contiguous(this.handle));
  }

  // ---- indexing ----

  /**
   * PyTorch's t[...]: integers, slices ('1:3', '::2', ':' or torch.slice(1, 3)), null (a new axis),
   * '...', booleans, boolean masks and integer index tensors (or arrays of them).
   */
  index(...indices: Index[]): Tensor {
    return withIndexItems(indices, (items) => wrap(native.index(this.handle, items)));
  }
  /** PyTorch's t[...] = value, in place. */
  indexPut_(indices: Index | Index[], value: Tensor | number | boolean): this {
    const list = Array.isArray(indices) ? indices : [indices];
    const v = value instanceof Tensor ? value.handle : value;
    if (typeof v !== 'number' && typeof v !== 'boolean' && !(value instanceof Tensor)) {
      throw new TypeError(`value must be a Tensor, number or boolean (got ${describe(value)})`);
    }
    withIndexItems(list, (items) => native.indexPut_(this.handle, items, v));
    return this;
  }

  // ---- conversion and devices ----

  /**
   * to(dtype), to(device), to(tensor) (its dtype and device) or to({dtype, device, nonBlocking, copy}).
   */
  to(target: Dtype | string | Tensor | ToOptions, opts?: { nonBlocking?: boolean; copy?: boolean }): Tensor {
    let o: ToOptions;
    if (target instanceof Tensor) o = { dtype: target.dtype, device: target.device };
    else if (typeof target === 'string') {
      if (isDeviceString(target)) o = { device: target };
      else if (DTYPES.includes(target as Dtype) || ['float', 'double', 'half', 'long', 'int', 'short'].includes(target))
        o = { dtype: target as Dtype };
      else throw new TypeError(`to(target): '${target}' is neither a dtype (${DTYPES.join(', ')}) nor a device ('cpu', 'cuda', 'cuda:N')`);
    } else o = options<ToOptions>(target, 'to', ['dtype', 'device', 'nonBlocking', 'copy']);
    const extra = options<{ nonBlocking?: boolean; copy?: boolean }>(opts, 'to', ['nonBlocking', 'copy']);
    return wrap(
      native.to(
        this.handle,
        optDtypeCode(o.dtype),
        o.device === undefined ? undefined : checkDevice(o.device),
        boolArg(extra.nonBlocking ?? o.nonBlocking, 'nonBlocking', false),
        boolArg(extra.copy ?? o.copy, 'copy', false),
      ),
    );
  }
  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }
  cuda(device: number | string = 'cuda', opts?: { nonBlocking?: boolean }): Tensor {
    return this.to({
      device: typeof device === 'number' ? `cuda:${device}` : device,
      ...options<{ nonBlocking?: boolean }>(opts, 'cuda', ['nonBlocking']),
    });
  }
  float(): Tensor {
    return this.to({ dtype: 'float32' });
  }
  double(): Tensor {
    return this.to({ dtype: 'float64' });
  }
  half(): Tensor {
    return this.to({ dtype: 'float16' });
  }
  bfloat16(): Tensor {
    return this.to({ dtype: 'bfloat16' });
  }
  long(): Tensor {
    return this.to({ dtype: 'int64' });
  }
  int(): Tensor {
    return this.to({ dtype: 'int32' });
  }
  bool(): Tensor {
    return this.to({ dtype: 'bool' });
  }
  /** A copy in page-locked host memory, for fast non-blocking copies to CUDA (needs CUDA). */
  pinMemory(): Tensor {
    return wrap(native.pinMemory(this.handle));
  }
}

// ---- the garbage collector's release ----
//
// Python frees a tensor when its last reference goes; here a tensor nothing references any more is
// released when the garbage collector takes its Tensor: a native finalizer (native/collector.cc) that,
// on Node >= 20.10, runs during the collection itself, so a loop that never yields stays flat. V8 sees
// each tensor's bytes (the addon reports them), so it collects as tensor memory grows. Attaching the
// finalizer costs more than a 1-element op, so only tensors that can be dropped without dispose() pay:
// - a tensor made inside torch.scope/scopeAsync is held by the scope, which disposes it; it gets the
//   finalizer only if it leaves every scope alive (returned from the outermost one, or keep()),
// - a tensor made outside any scope is queued, and the queue is attached at the end of the current
//   job (a microtask) or every BACKSTOP_BATCH tensors, whichever comes first; those disposed by then
//   (`a.add(b).dispose()` in a loop) never pay. The queue holds at most BACKSTOP_BATCH tensors: a loop
//   that never yields keeps that many alive at most.
// A disposed tensor's finalizer still runs when it is collected, and finds its handle gone (handles
// carry a generation): nothing to undo on dispose().
const BACKSTOP_BATCH = 64;
onEscape((t) => backstop(t as Tensor));
let queued: Tensor[] = [];
let flushScheduled = false;

function backstop(t: Tensor): void {
  if (t._gc !== 0) return;
  t._gc = 1;
  queued.push(t);
  if (queued.length >= BACKSTOP_BATCH) registerQueued();
  else if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(registerQueued);
  }
}

function registerQueued(): void {
  flushScheduled = false;
  const list = queued;
  queued = [];
  const pairs: unknown[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t._h !== null) {
      pairs.push(t, t._h);
      t._gc = 2;
    }
  }
  if (pairs.length > 0) native.attachCollector(pairs);
}

const heldRaw = new FinalizationRegistry<(Handle | null)[]>((handles) => {
  for (const h of handles) if (h !== null) native.dispose(h);
});

/**
 * @internal For lib code that must hold raw handles outside a Tensor for a while (a batch gathered in
 * the background, not yet taken): they are disposed when `owner` is collected, unless
 * releaseHandles(owner) came first (the caller then wraps or disposes them itself).
 */
export function holdHandles(owner: object, handles: (Handle | null)[]): void {
  heldRaw.register(owner, handles, owner);
}
/** @internal Ends holdHandles(owner): the caller now owns the handles. */
export function releaseHandles(owner: object): void {
  heldRaw.unregister(owner);
}

/** Wraps a native handle in a new Tensor registered with the current scope. */
/** Every Tensor in v: v itself, or inside (nested) arrays and plain objects, in order. */
export function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => tensorsIn(x, out));
  else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => tensorsIn(x, out));
  return out;
}

export function wrap(h: Handle): Tensor {
  return new Tensor(h);
}

export function wrapOrNull(h: Handle | null): Tensor | null {
  return h === null ? null : new Tensor(h);
}

function fromIndexList(list: number[]): Handle {
  return native.fromData(new Float64Array(list), [list.length], dtypeCode('int64'), undefined, false);
}

function withIndexItems<T>(indices: Index[], fn: (items: ReturnType<typeof toIndexItems>['items']) => T): T {
  const { items, temporaries } = toIndexItems(
    indices,
    fromIndexList,
    (m: boolean[]) => native.fromData(Uint8Array.from(m, Number), [m.length], dtypeCode('bool'), undefined, false),
    (h) => native.dispose(h),
  );
  try {
    return fn(items);
  } finally {
    for (const h of temporaries) native.dispose(h);
  }
}
