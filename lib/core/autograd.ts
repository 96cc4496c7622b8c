/** torch.autograd.grad, and the grad-mode context functions noGrad / enableGrad. */
import { native } from './native';
import { describe } from './dtype';
import { Tensor, handleOf, wrapOrNull } from './tensor';
import { boolArg } from './args';

export interface GradOptions {
  /** The "vector" in the vector-Jacobian product, one per output (null for a scalar output). */
  gradOutputs?: (Tensor | null)[];
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

function tensors(v: Tensor | Tensor[], name: string): Tensor[] {
  const list = Array.isArray(v) ? v : [v];
  list.forEach((t, i) => handleOf(t, `${name}[${i}]`));
  return list;
}

/** Gradients of outputs with respect to inputs, as torch.autograd.grad. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = tensors(outputs, 'outputs');
  const ins = tensors(inputs, 'inputs');
  const gradOutputs = options.gradOutputs?.map((g, i) => (g === null ? null : handleOf(g, `gradOutputs[${i}]`)));
  if (gradOutputs && gradOutputs.length !== outs.length) {
    throw new RangeError(`gradOutputs has ${gradOutputs.length} entries but there are ${outs.length} outputs`);
  }
  const createGraph = boolArg(options.createGraph, 'createGraph', false);
  const retain = options.retainGraph === undefined ? undefined : boolArg(options.retainGraph, 'retainGraph', createGraph);
  return native
    .autogradGrad(
      outs.map((t) => t.handle),
      ins.map((t) => t.handle),
      gradOutputs,
      retain,
      createGraph,
      boolArg(options.allowUnused, 'allowUnused', false),
    )
    .map(wrapOrNull);
}

function withGradMode<T>(enabled: boolean, fn: () => T, name: string): T {
  if (typeof fn !== 'function') throw new TypeError(`${name}(fn): fn must be a function (got ${describe(fn)})`);
  const previous = native.setGradEnabled(enabled);
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError(`${name}(fn) takes a synchronous function: grad mode cannot follow an await. Call ${name} inside the async code instead.`);
    }
    return result;
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs fn with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn, 'noGrad');
}

/** Runs fn with gradient recording on (torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn, 'enableGrad');
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function setGradEnabled(enabled: boolean): void {
  native.setGradEnabled(boolArg(enabled, 'enabled', true));
}
