/**
 * torchnode: PyTorch for Node.js.
 *
 *     import * as torch from 'torchnode';
 *     const x = torch.randn([2, 3], { requiresGrad: true });
 *     x.mul(2).sum().backward();
 */
import './surface';
import * as autograd from './autograd';
import * as cuda from './cuda';
import * as backends from './backends';

export { Tensor, GradFn, isTensor } from './tensor';
export type { PyRest, Prefixes, WithOptions } from './tensor';
export type { ValuesIndices, Operand, TypedArray, NestedArray, ReduceOptions, VarOptions, ToOptions, BackwardOptions } from './tensor';
export * from './creation';
export * from './ops';
export * from './generated/torch';
export { linalg, fft, special } from './surface';
export type { Scalar, Layout, MemoryFormat, StreamLike } from './dispatch';
export type { LinalgFunctions } from './generated/linalg';
export type { FftFunctions } from './generated/fft';
export type { SpecialFunctions } from './generated/special';
export { slice } from './indexing';
export type { Index, Slice } from './indexing';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd';
export { scope, scopeAsync, keep } from './scope';
export type { Disposable } from './scope';
export { memory } from './memory';
export type { MemoryReport } from './memory';
export { DTYPES } from './dtype';
export type { Dtype, Device } from './dtype';
export {
  TorchError, TorchIndexError, TorchValueError, TorchTypeError, TorchNotImplementedError, TorchOutOfMemoryError,
} from './errors';
export { buildInfo, version } from './native';
export type { Handle } from './native';
export { printOptions } from './format';
export { summary } from './summary';
export type { Summary, SummaryRow } from './summary';
export { autograd, cuda, backends };
export { autocast, isAutocastEnabled } from './amp';
export * as amp from './amp';
export * as nn from './nn';
export * as models from './models';
export * as optim from './optim';
export * as data from './data';
export * as train from './train';
export { save, load, saveAsync, loadAsync } from './serialize';
export type { LoadOptions, Loaded, MapLocation, PathLike } from './serialize';
export * as jit from './jit';
export * as aoti from './aoti';
export * as safetensors from './safetensors';
export * as vision from './vision';
export * as viz from './viz';
export * as distributed from './distributed';
