/** Containers: Sequential, ModuleList, ModuleDict. Children are attributes named '0', '1', … or by key. */
import { describe } from '../dtype';
import { Module, pipe } from './module';
import type { Tensor } from '../tensor';

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
    for (const m of this) x = m(x);
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
  forward(): never {
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
