/**
 * nn.Module, as PyTorch's: a Module, Parameter or registered buffer assigned as a property is part of
 * the module under that name, in assignment order (JS keeps own string keys in insertion order, which
 * is what PyTorch's __setattr__ bookkeeping gives), so stateDict() keys are PyTorch's. A module is
 * callable: `model(x)` runs forward pre-hooks, forward() and forward hooks, like Python's __call__.
 */
import * as path from 'node:path';
import { native } from '../core/native';
import { TorchError } from '../core/errors';
import { checkDevice, describe, isDeviceString, type Dtype } from '../core/dtype';
import { emptyLike } from '../generated/torch';
import { Tensor, wrap } from '../core/tensor';
import { optionsArg, sameShape } from '../core/args';
import { keep, scope } from '../core/scope';
import { noGrad } from '../core/autograd';

export { Parameter, type StateDict } from './parameter';
import { Parameter, type StateDict } from './parameter';
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}
export interface RemovableHandle {
  remove(): void;
}
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | unknown | void;
export type MemoryFormat = 'channels_last' | 'contiguous_format';
export interface ModuleToOptions {
  device?: string;
  dtype?: Dtype;
  memoryFormat?: MemoryFormat;
  nonBlocking?: boolean;
}

// Module bookkeeping lives in non-enumerable slots so a module's enumerable own properties are
// exactly its attributes, in the order they were assigned.
interface Internals {
  buffers: Set<string>;
  nonPersistent: Set<string>;
  forwardHooks: Map<number, ForwardHook>;
  forwardPreHooks: Map<number, ForwardPreHook>;
}
const INTERNALS = Symbol('torchnode.module');
let hookIds = 0;

function internals(m: Module): Internals {
  return m[INTERNALS];
}

/** @internal The attribute `name` of a module (a parameter, buffer, submodule or plain value), as Python's getattr(module, name). */
export function getattr(module: Module, name: string): unknown {
  return Reflect.get(module, name);
}
/**
 * @internal Assigns the attribute `name`, as `module[name] = value` does (a Module, Parameter or registered
 * buffer assigned is part of the module under that name), as Python's setattr(module, name, value).
 */
export function setattr(module: Module, name: string, value: unknown): void {
  // Object.assign assigns as `=` does: through a setter, and a TypeError where strict-mode assignment throws one
  Object.assign(module, { [name]: value });
}
/**
 * @internal What loadStateDict runs for a module before any key is checked, after its _loadFromStateDict
 * (as a Python load_state_dict pre-hook). What it returns is called once the load is settled: with true
 * once the tensors are copied, with false when the load is refused, so that a refused load changes nothing.
 */
export type LoadStateDictHook = (module: Module, stateDict: Map<string, unknown>, prefix: string) => ((loaded: boolean) => void) | void;
const loadHooks = new WeakMap<object, LoadStateDictHook>();
/** @internal Runs `hook` whenever a state dict is loaded into a module whose class is exactly `cls`. */
export function onLoadStateDict(cls: { prototype: object }, hook: LoadStateDictHook): void {
  loadHooks.set(cls.prototype, hook);
}
/** Whether `key` names a property of `o` (its own or inherited): then it is one of its keys. */
function isKeyOf<T extends object>(o: T, key: PropertyKey): key is keyof T {
  return key in o;
}
/** Strict-mode `delete o[key]`: a TypeError for a property that can't be deleted. */
function deleteKey<T extends object, K extends keyof T>(o: T, key: K): void {
  delete o[key];
}

// loadStateDict's checks and copy, once the hooks have run: all checked before anything is copied.
function copyStateDict(module: Module, source: Map<string, unknown>, strict: boolean): LoadResult {
  const own = new Map(Object.entries(module.stateDict({ keepVars: true })));
  const missingKeys = [...own.keys()].filter((k) => !source.has(k));
  const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
  const errors: string[] = [];
  for (const [k, v] of source) {
    const target = own.get(k);
    if (target === undefined) continue;
    if (!(v instanceof Tensor)) {
      errors.push(`While copying the parameter named "${k}", expected a Tensor but got ${describe(v)}.`);
      continue;
    }
    const [a, b] = [v.shape, target.shape];
    if (!sameShape(a, b)) {
      errors.push(
        `size mismatch for ${k}: copying a param with shape [${a.join(', ')}] from checkpoint, the shape in current model is [${b.join(', ')}].`,
      );
    }
  }
  if (strict) {
    if (unexpectedKeys.length) errors.unshift(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (missingKeys.length) errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
  }
  if (errors.length) {
    throw new TorchError(`Error(s) in loading state_dict for ${module.constructor.name}:\n\t${errors.join('\n\t')}`);
  }
  noGrad(() => {
    for (const [k, v] of source) {
      const target = own.get(k);
      if (target !== undefined && target !== v) target.copy_(v as Tensor);
    }
  });
  return { missingKeys, unexpectedKeys };
}

/** A callable module with `proto` as its class and no attributes yet (what the constructor starts from). */
function bareModule(proto: object): Module {
  const self = function (...inputs: unknown[]): unknown {
    return self_call(module, inputs);
  };
  // A function's own `name` and `length` would clash with attributes of those names.
  delete (self as { name?: unknown }).name;
  delete (self as { length?: unknown }).length;
  const module = Object.setPrototypeOf(self, proto) as Module;
  Object.defineProperty(module, INTERNALS, {
    value: { buffers: new Set(), nonPersistent: new Set(), forwardHooks: new Map(), forwardPreHooks: new Map() },
  });
  Object.defineProperty(module, 'training', { value: true, writable: true, enumerable: false });
  return module;
}

/**
 * A copy of a module that shares nothing with it, as Python's copy.deepcopy(module): the same class and
 * configuration, its own parameters and buffers (with their values and requiresGrad), submodules copied
 * likewise (one shared submodule stays one), its forward hooks carried over (as Python's copy keeps
 * them). What TransformerEncoder uses to stack copies of one layer.
 */
export function deepcopy<M extends Module>(module: M, memo: Map<unknown, unknown> = new Map()): M {
  const copyValue = (v: unknown): unknown => {
    if (memo.has(v)) return memo.get(v);
    let out: unknown = v;
    if (v instanceof Module) return deepcopy(v, memo);
    if (v instanceof Parameter) out = noGrad(() => scope(() => new Parameter(v.clone(), v.requiresGrad)));
    else if (v instanceof Tensor) out = keep(noGrad(() => v.clone()));
    else if (Array.isArray(v)) out = v.map(copyValue);
    else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      out = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyValue(x)]));
    }
    memo.set(v, out);
    return out;
  };
  if (memo.has(module)) return memo.get(module) as M;
  const copy = bareModule(Object.getPrototypeOf(module) as object) as M;
  memo.set(module, copy);
  copy.training = module.training;
  const [from, to] = [internals(module), internals(copy)];
  for (const b of from.buffers) to.buffers.add(b);
  for (const b of from.nonPersistent) to.nonPersistent.add(b);
  for (const [id, hook] of from.forwardHooks) to.forwardHooks.set(id, hook);
  for (const [id, hook] of from.forwardPreHooks) to.forwardPreHooks.set(id, hook);
  for (const [k, v] of Object.entries(module)) setattr(copy, k, copyValue(v));
  for (const copied of deepcopyListeners) copied(module, copy);
  return copy;
}

/** Called after each module deepcopy copies (what keeps state outside the module's attributes, e.g. a reparametrisation's registry). */
const deepcopyListeners: ((from: Module, to: Module) => void)[] = [];
/** @internal Runs `listener(from, to)` after every deepcopy of a module. */
export function onDeepcopy(listener: (from: Module, to: Module) => void): void {
  deepcopyListeners.push(listener);
}

/** Removes an attribute (parameter, buffer, submodule or plain), as Python's delattr(module, name). */
export function delattr(module: Module, name: string): void {
  const inner = internals(module);
  inner.buffers.delete(name);
  inner.nonPersistent.delete(name);
  if (isKeyOf(module, name)) deleteKey(module, name); // a name it lacks: nothing to delete, as with `delete`
}

/**
 * Callable modules: the instance is a function whose prototype chain is the module class's. A call takes
 * what the class's own `forward` takes and returns what it returns, so `model(x)` is typed without casts.
 * `Module<In, Out>` is any module whose forward takes `In` and returns `Out`: `Module<[Tensor], Tensor>`.
 */
// The class's type parameters, repeated as declaration merging requires (its forward uses them).
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface Module<In extends unknown[] = never[], Out = unknown> {
  (...inputs: Parameters<this['forward']>): ReturnType<this['forward']>;
}
/** A module called with whatever it is given (containers, hooks and tracing pass inputs through). */
export type AnyModule = Module<unknown[], unknown>;

/** Base class of every layer and model, as torch.nn.Module: subclass it, assign Modules and Parameters as properties in the constructor (they are registered under those names, in order), override `forward`, and call the instance: `model(x)`. */
export abstract class Module<In extends unknown[] = never[], Out = unknown> {
  /** True in training mode (dropout active, batch norm uses and updates batch statistics). */
  training!: boolean;
  /** @internal The bookkeeping bareModule gives every module (a non-enumerable slot, so not an attribute). */
  declare readonly [INTERNALS]: Internals;

  constructor() {
    return bareModule(new.target.prototype as object) as Module<In, Out>;
  }

  /** The computation; subclasses override it. Call the module itself (`model(x)`) to run hooks too. */
  abstract forward(...inputs: In): Out;

  // ---- registration ----

  /** Registers a Parameter (or null) under `name`, as assigning it does. */
  registerParameter(name: string, param: Parameter | null): void {
    checkName(this, name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(
        `registerParameter('${name}'): expected a Parameter or null (got ${describe(param)}); wrap a tensor with new nn.Parameter(t)`,
      );
    }
    setattr(this, name, param);
  }

  /** A buffer: state that is not a parameter (BatchNorm's running_mean); persistent ones are in stateDict(). */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    checkName(this, name);
    if (tensor !== null && !(tensor instanceof Tensor))
      throw new TypeError(`registerBuffer('${name}'): expected a Tensor or null (got ${describe(tensor)})`);
    const inner = internals(this);
    inner.buffers.add(name);
    if (opts.persistent === false) inner.nonPersistent.add(name);
    else inner.nonPersistent.delete(name);
    if (tensor) keep(tensor);
    setattr(this, name, tensor);
  }

  /** Registers a submodule (or null) under `name`, as assigning it does. */
  registerModule(name: string, module: Module | null): void {
    checkName(this, name);
    if (module !== null && !(module instanceof Module))
      throw new TypeError(`registerModule('${name}'): expected a Module or null (got ${describe(module)})`);
    setattr(this, name, module);
  }
  /** registerModule under PyTorch's older name. */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }

  // ---- traversal ----

  /** [name, child] for each direct submodule, in registration order. */
  *namedChildren(): IterableIterator<[string, Module]> {
    const seen = new Set<Module>();
    for (const [k, v] of this.attributeModules()) {
      if (seen.has(v)) continue; // a module under two names is one child, as in PyTorch
      seen.add(v);
      yield [k, v];
    }
  }
  /** Every attribute holding a module, repeats included (what repr, stateDict and containers walk, as PyTorch's _modules). */
  protected *attributeModules(): IterableIterator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }
  /** Each direct submodule, in registration order. */
  *children(): IterableIterator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  /** This module and every submodule, depth first, each once, with dotted names ('' for this one). */
  *namedModules(prefix = '', memo: Set<Module> = new Set()): IterableIterator<[string, Module]> {
    if (memo.has(this)) return;
    memo.add(this);
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name, memo);
  }
  /** This module and every submodule, depth first, each once. */
  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }
  /** This module's own parameters (not its children's), in registration order. */
  *ownParameters(): IterableIterator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) yield [k, v];
  }
  /** This module's own buffers that are set. */
  *ownBuffers(): IterableIterator<[string, Tensor]> {
    const inner = internals(this);
    for (const [k, v] of Object.entries(this)) if (inner.buffers.has(k) && v instanceof Tensor) yield [k, v];
  }
  /** [dotted name, parameter] over this module and its submodules (`recurse: false`: this one only); a shared parameter once. */
  *namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): IterableIterator<[string, Parameter]> {
    yield* this.namedMembers((m) => m.ownParameters(), opts);
  }
  /** Every parameter, as namedParameters() without the names: what an optimizer takes. */
  parameters(opts: { recurse?: boolean } = {}): Parameter[] {
    return [...this.namedParameters(opts)].map(([, p]) => p);
  }
  /** [dotted name, buffer] over this module and its submodules (running_mean, running_var, num_batches_tracked, …). */
  *namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): IterableIterator<[string, Tensor]> {
    yield* this.namedMembers((m) => m.ownBuffers(), opts);
  }
  /** Each tensor once (a shared one under its first name), with dotted names, over this module or all. */
  private *namedMembers<T extends Tensor>(own: (m: Module) => Iterable<[string, T]>, opts: { prefix?: string; recurse?: boolean }) {
    const seen = new Set<Tensor>();
    const mods = opts.recurse === false ? [[opts.prefix ?? '', this] as [string, Module]] : this.namedModules(opts.prefix ?? '');
    for (const [modName, mod] of mods) {
      for (const [k, t] of own(mod)) {
        if (seen.has(t)) continue;
        seen.add(t);
        yield [modName ? `${modName}.${k}` : k, t] as [string, T];
      }
    }
  }
  /** Every buffer, as namedBuffers() without the names. */
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(opts)].map(([, b]) => b);
  }

  // ---- modes, devices, gradients ----

  /** Sets training mode on this module and every submodule (dropout active, batch norm on batch statistics); returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train(mode): mode must be a boolean (got ${describe(mode)})`);
    // Each child's own train(), as PyTorch's: a module that overrides it (to keep BatchNorm frozen) is heard.
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }
  /** Evaluation mode: train(false). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Moves and/or casts parameters and buffers in place (the Parameter objects stay the same, so an
   * optimizer holding them keeps working): to('cuda'), to('float64'), to({device, dtype, memoryFormat}).
   * dtype casts only floating-point tensors, memoryFormat applies to 4-D ones, as in PyTorch.
   */
  to(target: string | ModuleToOptions): this {
    const o: ModuleToOptions = typeof target === 'string' ? (isDeviceString(target) ? { device: target } : { dtype: target as Dtype }) : target;
    if (o === null || typeof o !== 'object') throw new TypeError(`to(target): expected a device, dtype or options (got ${describe(target)})`);
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        const floating = t.isFloatingPoint();
        let next = t.to({ device: o.device, dtype: floating ? o.dtype : undefined, nonBlocking: o.nonBlocking });
        if (o.memoryFormat && t.ndim === 4) {
          const formatted = wrap(native.toMemoryFormat(next.handle, o.memoryFormat));
          next.dispose();
          next = formatted;
        }
        native.setData(t.handle, next.handle);
        next.dispose();
        const g = t instanceof Parameter ? t.grad : null;
        if (g) {
          const moved = g.to({ device: o.device, dtype: floating ? o.dtype : undefined });
          t.grad = moved;
          moved.dispose();
          g.dispose();
        }
      }
    });
    return this;
  }
  /**
   * Python's to_empty({device, recurse}): every parameter and buffer replaced by uninitialised memory of
   * its shape and dtype on `device`; what a module built on 'meta' needs before it can hold data. Where
   * the tensor can take the new memory in place (not from or to 'meta') the Parameter objects stay.
   */
  toEmpty(opts: { device: string; recurse?: boolean }): this {
    const o = optionsArg<{ device: string; recurse?: boolean }>(opts, 'toEmpty', ['device', 'recurse']);
    const device = checkDevice(o.device);
    const isMeta = (d: string) => d === 'meta';
    noGrad(() => {
      for (const m of o.recurse === false ? [this] : this.modules()) {
        for (const [name, t] of [...m.ownParameters(), ...m.ownBuffers()]) {
          const next = emptyLike(t, { device });
          if (isMeta(t.device) === isMeta(device)) {
            native.setData(t.handle, next.handle);
            next.dispose();
            continue;
          }
          // LibTorch cannot move a tensor's data to or from 'meta' in place: a new tensor takes its name
          if (t instanceof Parameter) {
            setattr(m, name, new Parameter(next, t.requiresGrad));
            next.dispose();
          } else m.registerBuffer(name, next, { persistent: !internals(m).nonPersistent.has(name) });
          t.dispose();
        }
      }
    });
    return this;
  }
  /** to('cuda'), or to a device index or name. */
  cuda(device: number | string = 'cuda'): this {
    return this.to(typeof device === 'number' ? `cuda:${device}` : device);
  }
  /** to('cpu'). */
  cpu(): this {
    return this.to('cpu');
  }
  /** Floating-point parameters and buffers to float32. */
  float(): this {
    return this.to({ dtype: 'float32' });
  }
  /** Floating-point parameters and buffers to float64. */
  double(): this {
    return this.to({ dtype: 'float64' });
  }
  /** Floating-point parameters and buffers to float16. */
  half(): this {
    return this.to({ dtype: 'float16' });
  }
  /** Floating-point parameters and buffers to bfloat16. */
  bfloat16(): this {
    return this.to({ dtype: 'bfloat16' });
  }

  /** Clears gradients: set to null (PyTorch's default setToNone) or zeroed in place. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = opts.setToNone ?? true;
    for (const p of this.parameters()) {
      const g = p.grad;
      if (!g) continue;
      if (setToNone) p.grad = null;
      else noGrad(() => g.zero_());
      g.dispose();
    }
  }

  /** Sets requiresGrad on every parameter (false freezes them); returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** Calls fn on every submodule (children first) and then this one, as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- state ----

  /**
   * Parameters and persistent buffers by PyTorch's key ('layer1.0.bn1.running_mean'), in PyTorch's
   * order: each module's parameters, then its buffers, then its children. The tensors share storage
   * with the module's (detached, as PyTorch's); dispose them or take them inside a scope.
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, prefix: string) => {
      for (const [k, p] of m.ownParameters()) out[prefix + k] = opts.keepVars ? p : p.detach();
      const inner = internals(m);
      for (const [k, b] of m.ownBuffers()) if (!inner.nonPersistent.has(k)) out[prefix + k] = opts.keepVars ? b : b.detach();
      for (const [name, child] of m.attributeModules()) visit(child, `${prefix}${name}.`);
    };
    visit(this, opts.prefix ?? '');
    return out;
  }

  /**
   * Copies a state dict's tensors into this module's parameters and buffers. strict (default) throws,
   * listing missing and unexpected keys as PyTorch does; a shape mismatch always throws naming the key.
   * Everything is checked before anything is copied: a failed load changes nothing.
   */
  loadStateDict(stateDict: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    if (stateDict === null || typeof stateDict !== 'object')
      throw new TypeError(`loadStateDict: expected an object of tensors (got ${describe(stateDict)})`);
    // A copy: the per-module hooks may add keys (as PyTorch's _load_from_state_dict does to its own dict).
    const source = new Map<string, unknown>(stateDict instanceof Map ? stateDict : Object.entries(stateDict));
    const metadata = stateDictMetadata(stateDict);
    const settle: ((loaded: boolean) => void)[] = [];
    const visit = (m: Module, prefix: string) => {
      const local = metadata?.(prefix.slice(0, -1));
      const record = local instanceof Map ? Object.fromEntries(local) : local !== null && typeof local === 'object' ? local : {};
      m._loadFromStateDict(source, prefix, record as Record<string, unknown>);
      const settled = loadHooks.get(Object.getPrototypeOf(m))?.(m, source, prefix);
      if (settled) settle.push(settled);
      for (const [name, child] of m.attributeModules()) visit(child, `${prefix}${name}.`);
    };
    try {
      visit(this, '');
      const result = copyStateDict(this, source, strict);
      for (const s of settle) s(true);
      return result;
    } catch (e) {
      for (const s of settle) s(false);
      throw e;
    }
  }

  /**
   * Called by loadStateDict for this module before any key is checked, as PyTorch's
   * _load_from_state_dict: `stateDict` is the caller's (a copy), `prefix` this module's ('layer1.0.bn1.'),
   * `localMetadata` its entry of the state dict's _metadata ({ version: 2 }, or {}). A module whose
   * saved form changed across versions overrides it to upgrade old checkpoints in place.
   */
  protected _loadFromStateDict(_stateDict: Map<string, unknown>, _prefix: string, _localMetadata: Record<string, unknown>): void {
    // nothing to upgrade by default
  }

  // ---- hooks ----

  /** hook(module, inputs, output) runs after forward; a non-undefined return replaces the output. */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    if (typeof hook !== 'function') throw new TypeError('registerForwardHook(hook): hook must be a function');
    return addHook(internals(this).forwardHooks, hook);
  }
  /** hook(module, inputs) runs before forward; a non-undefined return replaces the inputs. */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    if (typeof hook !== 'function') throw new TypeError('registerForwardPreHook(hook): hook must be a function');
    return addHook(internals(this).forwardPreHooks, hook);
  }

  // ---- printing ----

  /** The part inside the parentheses of this module's repr, e.g. 'in_features=64, out_features=4, bias=True'. */
  extraRepr(): string {
    return '';
  }

  /** PyTorch's repr: the module tree with each child's name and extraRepr. */
  toString(): string {
    const lines: string[] = [];
    const extra = this.extraRepr();
    if (extra) lines.push(...extra.split('\n'));
    const children = [...this.attributeModules()];
    for (const [name, child] of children) lines.push(`(${name}): ${indent(child.toString())}`);
    const name = this.constructor.name;
    if (lines.length === 0) return `${name}()`;
    if (children.length === 0 && !extra.includes('\n')) return `${name}(${extra})`;
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A lookup in a state dict's _metadata: the non-enumerable property torch.load gives it (an enumerable one is a key). */
function stateDictMetadata(sd: object): ((prefix: string) => unknown) | undefined {
  const d = Object.getOwnPropertyDescriptor(sd, '_metadata');
  if (!d || (d.enumerable && !(sd instanceof Map))) return undefined;
  const meta: unknown = d.value;
  if (meta instanceof Map) return (k) => meta.get(k);
  if (meta !== null && typeof meta === 'object') return (k) => (Object.hasOwn(meta, k) ? (meta as Record<string, unknown>)[k] : undefined);
  return undefined;
}

function indent(s: string): string {
  return s.split('\n').join('\n  ');
}

// PyTorch refuses to register over an attribute that is something else ("attribute 'forward' already
// exists"); re-registering a parameter, buffer or module slot (or one set to null) is fine.
function checkName(m: Module, name: unknown): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`module attribute name must be a non-empty string (got ${describe(name)})`);
  if (name.includes('.')) throw new TypeError(`module attribute name can't contain ".": '${name}'`);
  if (!(name in m)) return;
  const current = getattr(m, name);
  const ownSlot = Object.prototype.hasOwnProperty.call(m, name) && (current === null || current instanceof Module || current instanceof Tensor);
  if (!ownSlot) throw new TypeError(`attribute '${name}' already exists`);
}

const HOOK_ID = Symbol('torchnode.hookId');
function addHook<H>(hooks: Map<number, H>, hook: H): RemovableHandle {
  const id = hookIds++;
  hooks.set(id, hook);
  return Object.defineProperty({ remove: () => void hooks.delete(id) }, HOOK_ID, { value: id });
}
/** @internal Removes, from `module`, the hook a handle was made for (on a deepcopy, the copy's own). */
export function removeHookOf(module: Module, handle: RemovableHandle): void {
  const id = (handle as { [HOOK_ID]?: number })[HOOK_ID];
  if (id === undefined) return;
  internals(module).forwardHooks.delete(id);
  internals(module).forwardPreHooks.delete(id);
}

// An error that torchnode raises inside a module call (LibTorch's, or an argument check of a layer) is
// annotated on its way out with the path of the module that raised it ('layer1.0.conv1 (Conv2d): …'), so
// a user knows which layer refused the input. An error of the user's own code (a forward, a hook) is
// theirs: it passes through as it was thrown, as in Python.
const ERROR_PATH = Symbol('torchnode.modulePath');
const OWN_CODE = path.dirname(__dirname) + path.sep; // lib/ (dist/ once built)

function raisedByTorchnode(e: Error): boolean {
  if (e instanceof TorchError) return true;
  // The first stack frame: after the message, which may itself hold lines that look like frames.
  const stack = e.stack ?? '';
  const at = stack.indexOf(e.message);
  const frame = /^\s+at .*$/m.exec(at >= 0 ? stack.slice(at + e.message.length) : stack);
  return frame !== null && frame[0].includes(OWN_CODE);
}

interface ErrorPath {
  innermost: Module;
  current: Module;
  path: string;
  message: string;
}
function annotate(e: unknown, module: Module): void {
  if (!(e instanceof Error) || !raisedByTorchnode(e)) return;
  const tagged = e as Error & { [ERROR_PATH]?: ErrorPath };
  let info = tagged[ERROR_PATH];
  if (!info) {
    info = { innermost: module, current: module, path: '', message: e.message };
    tagged[ERROR_PATH] = info;
  } else if (info.current !== module) {
    const entry = [...module.namedChildren()].find(([, child]) => child === info!.current);
    if (!entry) return;
    info.path = info.path ? `${entry[0]}.${info.path}` : entry[0];
    info.current = module;
  }
  const where = info.path ? `${info.path} (${info.innermost.constructor.name})` : info.innermost.constructor.name;
  e.message = `${where}: ${info.message}`;
  if (e.stack) e.stack = e.stack.replace(/^.*$/m, `${e.name}: ${e.message}`.split('\n')[0]);
}

// Python's Module.__call__: pre-hooks, forward, hooks.
function self_call(module: Module, inputs: unknown[]): unknown {
  try {
    return run(module, inputs);
  } catch (e) {
    annotate(e, module);
    throw e;
  }
}

/**
 * @internal While torch.jit.trace runs, each submodule's forward is bracketed by enter(name)/exit(),
 * as Python's Module._slow_forward does, so the trace gets one method per submodule.
 */
export interface TraceScopes {
  names: Map<Module, string>;
  enter(name: string): void;
  exit(): void;
}
let traceScopes: TraceScopes | null = null;
/** @internal */
export function setTraceScopes(scopes: TraceScopes | null): void {
  traceScopes = scopes;
}
/** @internal Names of a module's non-persistent buffers (not in its state dict). */
export function nonPersistentBuffers(m: Module): ReadonlySet<string> {
  return internals(m).nonPersistent;
}

function forwardInScope(module: Module, inputs: unknown[]): unknown {
  const name = traceScopes?.names.get(module);
  if (name === undefined) return (module as AnyModule).forward(...inputs);
  const scopes = traceScopes as TraceScopes;
  scopes.enter(name);
  try {
    return (module as AnyModule).forward(...inputs);
  } finally {
    scopes.exit();
  }
}

// Without hooks (nearly every call) nothing is iterated, as Python's _call_impl skips its hook machinery:
// no hook iterators are allocated on the way to forward.
function run(module: Module, inputs: unknown[]): unknown {
  const inner = internals(module);
  if (inner.forwardPreHooks.size) inputs = runPreHooks(module, inner.forwardPreHooks, inputs);
  const output = traceScopes === null ? (module as AnyModule).forward(...inputs) : forwardInScope(module, inputs);
  return inner.forwardHooks.size ? runHooks(module, inner.forwardHooks, inputs, output) : output;
}

function runPreHooks(module: Module, hooks: Internals['forwardPreHooks'], inputs: unknown[]): unknown[] {
  observe(inputs);
  for (const hook of hooks.values()) {
    const r = hook(module, inputs);
    if (r !== undefined) {
      inputs = Array.isArray(r) ? r : [r];
      observe(inputs);
    }
  }
  return inputs;
}

function runHooks(module: Module, hooks: Internals['forwardHooks'], inputs: unknown[], output: unknown): unknown {
  observe([inputs, output]);
  for (const hook of hooks.values()) {
    const r = hook(module, inputs, output);
    if (r !== undefined) {
      output = r;
      observe(r); // a hook's replacement may be one it keeps
    }
  }
  return output;
}

// ---- intermediates freed as they die ----

// Tensors a hook has seen: user code may hold them, so they are never freed early (observe, release).
const observed = new WeakSet<Tensor>();
function observe(v: unknown): void {
  if (v instanceof Tensor) observed.add(v);
  else if (Array.isArray(v)) v.forEach(observe);
}

/**
 * @internal Runs `layers` in turn on `input`, freeing each intermediate result as soon as the next layer
 * has consumed it, as Python's refcounting frees it (rather than at the next garbage collection: an
 * inference forward then reuses warm memory instead of touching fresh pages, 10–15% of a CPU forward).
 * Only for forwards whose layers are known not to keep their inputs (torchnode's own models); a tensor a
 * hook has seen is left alone, and so is the input. Autograd keeps what it saved either way.
 */
export function pipe(input: Tensor, ...layers: ((x: Tensor) => Tensor)[]): Tensor {
  let out = input;
  for (const layer of layers) {
    const next = layer(out);
    if (out !== input && next !== out) release(out);
    out = next;
  }
  return out;
}

/** @internal Frees an intermediate that nothing else can reach (see pipe), unless a hook has seen it. */
export function release(t: Tensor): void {
  if (!observed.has(t)) t.dispose();
}
