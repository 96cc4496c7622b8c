/**
 * The generated surface, put in place: each Python name of lib/generated/schema.ts becomes a function
 * (torch.*, torch.linalg.*, torch.fft.*, torch.special.*) or a Tensor method that calls it through
 * lib/dispatch.ts. A Tensor method lib/tensor.ts writes itself is left as it is.
 */
import { Overloads } from './dispatch';
import { Tensor, keywordForms } from './tensor';
import { camelCase } from './schema';
import { describe } from './dtype';
import * as schema from './generated/schema';
import type { GeneratedTensorMethods } from './generated/methods';
import type { TorchFunctions } from './generated/torch';
import type { LinalgFunctions } from './generated/linalg';
import type { FftFunctions } from './generated/fft';
import type { SpecialFunctions } from './generated/special';
import type { NnFunctions } from './generated/nn';

type Fn = (...args: unknown[]) => unknown;

/** torch.<space>.<name>(input, …) for every name of a table. */
function functions(table: schema.SchemaTable, prefix: string): Record<string, Fn> {
  const out: Record<string, Fn> = {};
  for (const [name, schemas] of Object.entries(table)) {
    const overloads = new Overloads(`${prefix}${camelCase(name)}`, schemas, false); // messages name what JS calls it
    out[camelCase(name)] = (...args: unknown[]) => overloads.call(undefined, args);
  }
  return out;
}

function installMethods(table: schema.SchemaTable): void {
  const proto = Tensor.prototype as unknown as Record<string, Fn>;
  for (const [name, schemas] of Object.entries(table)) {
    const js = camelCase(name);
    if (js in proto) continue;
    const overloads = new Overloads(`Tensor.${camelCase(name)}`, schemas, true);
    Object.defineProperty(proto, js, {
      value: function (this: Tensor, ...args: unknown[]) {
        if (!(this instanceof Tensor)) throw new TypeError(`Tensor.${js}: called on ${describe(this)}, not a Tensor`);
        if (this._h === null) void this.handle;  // throws: disposed
        return overloads.call(this, args);
      },
      writable: true,
      configurable: true,
    });
  }
}

installMethods(schema.TENSOR);

// The hand-written add/sub/div hand their keyword forms (alpha, roundingMode, other=) to the binding.
for (const name of ['add', 'sub', 'div', 'add_', 'sub_', 'div_']) {
  const overloads = new Overloads(`Tensor.${camelCase(name)}`, schema.TENSOR[name], true);
  keywordForms[name] = (self, args) => overloads.call(self, args);
}
export const torchFunctions = functions(schema.TORCH, 'torch.') as unknown as TorchFunctions;
export const linalg = functions(schema.LINALG, 'torch.linalg.') as unknown as LinalgFunctions;
export const fft = functions(schema.FFT, 'torch.fft.') as unknown as FftFunctions;
export const special = functions(schema.SPECIAL, 'torch.special.') as unknown as SpecialFunctions;
/** torch._C._nn: the ATen functions behind torch.nn.functional. */
export const nnFunctions = functions(schema.NN, 'torch.nn.functional.') as unknown as NnFunctions;

declare module './tensor' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Tensor extends GeneratedTensorMethods {}
}
