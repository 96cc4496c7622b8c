/** Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict. Entries are attributes named '0', '1', … or by key. */
import { describe } from '../core/dtype';
import { Module, Parameter, delattr, pipe, type AnyModule } from './module';
import { Tensor } from '../core/tensor';

function moduleArg(m: unknown, where: string): Module {
  if (m instanceof Module) return m;
  throw new TypeError(`${where}: expected a Module (got ${describe(m)})`);
}

/** What Sequential and ModuleList share: modules numbered in order, a module placed twice counted twice. */
export abstract class ModuleSequence extends Module {
  [index: number]: Module;

  override get length(): number {
    return [...this.attributeModules()].length;
  }
  append(module: Module): this {
    this.registerModule(String(this.length), moduleArg(module, `${this.constructor.name}.append`));
    return this;
  }
  /** Its modules in order, a module placed twice included twice (as Python's iteration of _modules). */
  *[Symbol.iterator](): IterableIterator<Module> {
    for (const [, m] of this.attributeModules()) yield m;
  }
  /** Python's [i], negative i counting from the end. */
  at(index: number): Module | undefined {
    const list = [...this];
    return list[index < 0 ? index + list.length : index];
  }
}

/** Runs its modules in order: new Sequential(a, b, c) or new Sequential({name: module, …}). */
export class Sequential extends ModuleSequence {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object') {
      for (const [name, m] of Object.entries(modules[0] as Record<string, Module>)) this.registerModule(name, moduleArg(m, `Sequential('${name}')`));
    } else {
      (modules as Module[]).forEach((m, i) => this.registerModule(String(i), moduleArg(m, `Sequential(${i})`)));
    }
  }
  forward(input: unknown): Tensor {
    if (releasing.has(this)) return pipe(input as Tensor, ...(this as Iterable<(x: Tensor) => Tensor>));
    let x = input;
    for (const m of this) x = (m as AnyModule)(x);
    return x as Tensor;
  }
}

// Sequentials torchnode builds of its own layers (a model's stages): they free intermediates as they die.
const releasing = new WeakSet<Sequential>();
/** @internal Marks a Sequential of torchnode's own layers, which keep no input: see pipe (nn/module.ts). */
export function releasesIntermediates(seq: Sequential): Sequential {
  releasing.add(seq);
  return seq;
}

/** A list of modules, registered as '0', '1', …; forward is the user's. */
export class ModuleList extends ModuleSequence {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }
  forward(..._inputs: unknown[]): unknown {
    throw new TypeError('ModuleList has no forward(): iterate over it in your own module');
  }
  /** As Python's ModuleList repr: runs of modules that print alike are one line, `(0-2): 3 x Linear(…)`. */
  override toString(): string {
    const reprs = [...this].map(String);
    const name = this.constructor.name;
    if (reprs.length === 0) return `${name}()`;
    const lines: string[] = [];
    for (let start = 0; start < reprs.length;) {
      let end = start;
      while (end + 1 < reprs.length && reprs[end + 1] === reprs[start]) end++;
      const line = start === end ? `(${start}): ${reprs[start]}` : `(${start}-${end}): ${end - start + 1} x ${reprs[start]}`;
      lines.push(line.split('\n').join('\n  '));
      start = end + 1;
    }
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }
}

/** Modules by name. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }
  set(key: string, module: Module): this {
    this.registerModule(key, moduleArg(module, `ModuleDict.set('${key}')`));
    return this;
  }
  // Every key, a module under two keys included under both (as Python's _modules).
  get(key: string): Module | undefined {
    for (const [k, m] of this.attributeModules()) if (k === key) return m;
    return undefined;
  }
  keys(): string[] {
    return this.entries().map(([k]) => k);
  }
  values(): Module[] {
    return this.entries().map(([, m]) => m);
  }
  entries(): [string, Module][] {
    return [...this.attributeModules()];
  }
  forward(): never {
    throw new TypeError('ModuleDict has no forward(): use its modules in your own module');
  }
}

const LEGACY_TYPES: Record<string, string> = {
  float32: 'FloatTensor',
  float64: 'DoubleTensor',
  float16: 'HalfTensor',
  bfloat16: 'BFloat16Tensor',
  int64: 'LongTensor',
  int32: 'IntTensor',
  int16: 'ShortTensor',
  int8: 'CharTensor',
  uint8: 'ByteTensor',
  bool: 'BoolTensor',
  complex64: 'ComplexFloatTensor',
  complex128: 'ComplexDoubleTensor',
};
/**
 * Python's line for one entry: ParameterList prints the dtype (`[torch.float32 of size 2x3]`), ParameterDict
 * torch.typename (`[torch.FloatTensor of size 2x3]`, `torch.cuda.…` on a GPU).
 */
function parameterLine(key: string, p: Tensor, typename: boolean): string {
  const cuda = p.device.startsWith('cuda');
  const kind = typename ? `torch.${cuda ? 'cuda.' : ''}${LEGACY_TYPES[p.dtype] ?? p.dtype}` : `torch.${p.dtype}`;
  return `  (${key}): ${p instanceof Parameter ? 'Parameter' : 'Tensor'} containing: [${kind} of size ${p.shape.join('x')}${cuda ? ` (${p.device})` : ''}]`;
}
/** Python's rule: a plain tensor put in a parameter container becomes a Parameter. */
function asParameter(t: unknown, where: string): Parameter {
  if (t instanceof Parameter) return t;
  if (t instanceof Tensor) return new Parameter(t);
  throw new TypeError(`${where}: expected a Tensor or Parameter (got ${describe(t)})`);
}

/** A list of parameters, registered as '0', '1', … (so optimizers and stateDict see them), as torch.nn.ParameterList. */
export class ParameterList extends Module {
  [index: number]: Parameter;
  constructor(values: Iterable<Tensor> = []) {
    super();
    for (const v of values) this.append(v);
  }
  override get length(): number {
    return [...this.ownParameters()].length;
  }
  append(value: Tensor): this {
    this.registerParameter(String(this.length), asParameter(value, 'ParameterList.append'));
    return this;
  }
  extend(values: Iterable<Tensor>): this {
    for (const v of values) this.append(v);
    return this;
  }
  *[Symbol.iterator](): IterableIterator<Parameter> {
    for (const [, p] of this.ownParameters()) yield p;
  }
  /** Python's [i], negative i counting from the end. */
  at(index: number): Parameter | undefined {
    const list = [...this];
    return list[index < 0 ? index + list.length : index];
  }
  forward(): never {
    throw new TypeError('ParameterList has no forward(): use its parameters in your own module');
  }
  override extraRepr(): string {
    return [...this].map((p, i) => parameterLine(String(i), p, false)).join('\n');
  }
}

/** Parameters by name, as torch.nn.ParameterDict. */
export class ParameterDict extends Module {
  constructor(values: Record<string, Tensor> | Iterable<[string, Tensor]> = {}) {
    super();
    this.update(values);
  }
  set(key: string, value: Tensor): this {
    this.registerParameter(key, asParameter(value, `ParameterDict.set('${key}')`));
    return this;
  }
  get(key: string): Parameter | undefined {
    for (const [k, p] of this.ownParameters()) if (k === key) return p;
    return undefined;
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  /** Removes key and returns its parameter, as Python's pop. */
  pop(key: string): Parameter {
    const p = this.get(key);
    if (p === undefined) throw new RangeError(`ParameterDict has no key '${key}'`);
    delattr(this, key);
    return p;
  }
  update(values: Record<string, Tensor> | Iterable<[string, Tensor]>): this {
    const pairs = Symbol.iterator in (values as object) ? [...(values as Iterable<[string, Tensor]>)] : Object.entries(values);
    for (const [k, v] of pairs) this.set(k, v);
    return this;
  }
  keys(): string[] {
    return [...this.ownParameters()].map(([k]) => k);
  }
  values(): Parameter[] {
    return [...this.ownParameters()].map(([, p]) => p);
  }
  entries(): [string, Parameter][] {
    return [...this.ownParameters()];
  }
  get size(): number {
    return this.keys().length;
  }
  forward(): never {
    throw new TypeError('ParameterDict has no forward(): use its parameters in your own module');
  }
  override extraRepr(): string {
    return this.entries()
      .map(([k, p]) => parameterLine(k, p, true))
      .join('\n');
  }
}
