/**
 * nn.Parameter: a Tensor that belongs to a module. A leaf file, as Python's torch/nn/parameter.py, so that
 * what only needs parameters and state dicts (save/load, safetensors, TorchScript) does not depend on nn.
 */
import { native } from '../core/native';
import { describe } from '../core/dtype';
import { Tensor } from '../core/tensor';
import { keep } from '../core/scope';

/** A Tensor that is a module parameter: requiresGrad by default, never disposed by a scope. */
export class Parameter extends Tensor {
  /** Makes a parameter from data (sharing its storage, as torch.nn.Parameter does). */
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw new TypeError(`Parameter(data): data must be a Tensor (got ${describe(data)})`);
    super(native.detach(data.handle));
    keep(this);
    native.requiresGrad_(this.handle, requiresGrad);
  }
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

export type StateDict = Record<string, Tensor>;
