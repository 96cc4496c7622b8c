/**
 * torchnode: PyTorch for Node.js.
 *
 *     import * as torch from 'torchnode';
 *     const x = torch.randn([2, 3], { requiresGrad: true });
 *     x.mul(2).sum().backward();
 */
import * as autograd from './core/autograd';
import * as cuda from './cuda';
import * as backends from './cuda/backends';

export { Tensor, GradFn, isTensor } from './core/tensor';
export type { PyRest, Prefixes, WithOptions } from './core/tensor';
export type { ValuesIndices, Operand, TypedArray, NestedArray, ReduceOptions, VarOptions, ToOptions, BackwardOptions } from './core/tensor';
export * from './core/creation';
export * from './core/ops';
export * from './generated/torch';
export { linalg, fft, special } from './core/surface';
export type { Scalar, Layout, MemoryFormat, StreamLike } from './core/dispatch';
export type { LinalgFunctions } from './generated/linalg';
export type { FftFunctions } from './generated/fft';
export type { SpecialFunctions } from './generated/special';
export { slice } from './core/indexing';
export type { Index, Slice } from './core/indexing';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './core/autograd';
export { scope, scopeAsync, keep } from './core/scope';
export type { Disposable } from './core/scope';
export { memory, emptyCpuCache } from './core/memory';
export type { MemoryReport } from './core/memory';
export { DTYPES } from './core/dtype';
export type { Dtype, Device } from './core/dtype';
export { TorchError, TorchIndexError, TorchValueError, TorchTypeError, TorchNotImplementedError, TorchOutOfMemoryError } from './core/errors';
export { buildInfo, version } from './core/native';
export type { Handle } from './core/native';
export { printOptions } from './core/format';
export { summary } from './nn/summary';
export type { Summary, SummaryRow } from './nn/summary';
export { autograd, cuda, backends };
export { autocast, isAutocastEnabled } from './cuda/amp';
export * as amp from './cuda/amp';
export * as nn from './nn';
export * as models from './models';
export * as optim from './optim';
export * as data from './data';
export * as train from './train';
export { save, load, saveAsync, loadAsync } from './io/serialize';
export type { LoadOptions, Loaded, MapLocation, PathLike } from './io/serialize';
export * as jit from './jit';
export * as aoti from './jit/aoti';
export * as safetensors from './io/safetensors';
export * as vision from './vision';
export * as viz from './nn/viz';
export * as distributed from './distributed';
