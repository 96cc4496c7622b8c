/**
 * The generated surface, put in place: each Python name of lib/generated/schema.ts becomes a function
 * (torch.*, torch.linalg.*, torch.fft.*, torch.special.*) or a Tensor method that calls it through
 * lib/dispatch.ts. A Tensor method lib/tensor.ts writes itself is left as it is.
 */
import { Overloads, bindFunction } from './dispatch';
import { Tensor, keywordForms } from './tensor-class';
import { camelCase } from './schema';
import { describe } from './dtype';
import * as schema from '../generated/schema';
import type { GeneratedTensorMethods } from '../generated/methods';
import type { TorchFunctions } from '../generated/torch';
import type { LinalgFunctions } from '../generated/linalg';
import type { FftFunctions } from '../generated/fft';
import type { SpecialFunctions } from '../generated/special';
import type { NnFunctions } from '../generated/nn';

type Fn = (...args: unknown[]) => unknown;

/** torch.<space>.<name>(input, …) for every name of a table. */
function functions(table: schema.SchemaTable, prefix: string): Record<string, Fn> {
  const out: Record<string, Fn> = {};
  // messages name what JS calls it
  for (const [name, schemas] of Object.entries(table)) out[camelCase(name)] = bindFunction(`${prefix}${camelCase(name)}`, schemas);
  return out;
}

/** Installs Tensor.prototype[js] as the binding of these schemas (Python's method of that name). */
export function installMethod(js: string, schemas: readonly string[]): void {
  const overloads = new Overloads(`Tensor.${js}`, schemas, true);
  Object.defineProperty(Tensor.prototype, js, {
    value: function (this: Tensor, ...args: unknown[]) {
      if (!(this instanceof Tensor)) throw new TypeError(`Tensor.${js}: called on ${describe(this)}, not a Tensor`);
      if (this._h === null) void this.handle; // throws: disposed
      return overloads.call(this, args);
    },
    writable: true,
    configurable: true,
  });
}

function installMethods(table: schema.SchemaTable): void {
  for (const [name, schemas] of Object.entries(table)) {
    const js = camelCase(name);
    if (!(js in Tensor.prototype)) installMethod(js, schemas);
  }
}

/**
 * A namespace's functions, typed by its generated declarations (lib/generated/<space>.ts), which the
 * generator writes from the same schema table, name for name. The compiler can't see that the two match
 * (one is built at run time), so this is the one place they are joined, by the one assertion.
 */
function namespace<Declared extends object>(table: schema.SchemaTable, prefix: string): Declared {
  return functions(table, prefix) as Declared;
}

export const torchFunctions = namespace<TorchFunctions>(schema.TORCH, 'torch.');
export const linalg = namespace<LinalgFunctions>(schema.LINALG, 'torch.linalg.');
export const fft = namespace<FftFunctions>(schema.FFT, 'torch.fft.');
export const special = namespace<SpecialFunctions>(schema.SPECIAL, 'torch.special.');
/** torch._C._nn: the ATen functions behind torch.nn.functional. */
export const nnFunctions = namespace<NnFunctions>(schema.NN, 'torch.nn.functional.');

/** Installs the generated Tensor methods (core/tensor.ts calls this once, before anything can use a Tensor). */
export function installGeneratedMethods(): void {
  installMethods(schema.TENSOR);

  // The hand-written add/sub/div hand their keyword forms (alpha, roundingMode, other=) to the binding.
  for (const name of ['add', 'sub', 'div', 'add_', 'sub_', 'div_']) {
    const overloads = new Overloads(`Tensor.${camelCase(name)}`, schema.TENSOR[name], true);
    keywordForms[name] = (self, args) => overloads.call(self, args);
  }

  // Python's x.real and x.imag: properties over torch.real / torch.imag (views of a complex tensor's parts;
  // x.real of a real tensor is x). Assigning copies into the view, as Python's setters do.
  for (const part of ['real', 'imag'] as const) {
    const view = (t: Tensor): Tensor => torchFunctions[part](t);
    Object.defineProperty(Tensor.prototype, part, {
      get(this: Tensor): Tensor {
        return view(this);
      },
      set(this: Tensor, value: Tensor | number) {
        const target = view(this);
        if (value instanceof Tensor) target.copy_(value);
        else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') target.fill_(value);
        else throw new TypeError(`Tensor.${part} = value: value must be a Tensor or a number (got ${describe(value)})`);
      },
      configurable: true,
    });
  }
}

declare module './tensor-class' {
  interface Tensor extends GeneratedTensorMethods {
    /** Python's x.real: the real part of a complex tensor, as a view (x itself for a real tensor); assignable. */
    get real(): Tensor;
    set real(value: Tensor | number);
    /** Python's x.imag: the imaginary part of a complex tensor, as a view (an error for a real one); assignable. */
    get imag(): Tensor;
    set imag(value: Tensor | number);
  }
}
