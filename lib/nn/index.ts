/** torch.nn */
import * as functional from './functional';
import * as init from './init';

export { Module, Parameter } from './module';
export type { StateDict, LoadResult, RemovableHandle, ForwardHook, ForwardPreHook, ModuleToOptions, MemoryFormat } from './module';
export { Sequential, ModuleList, ModuleDict } from './container';
export {
  Conv2d, Linear, BatchNorm2d, ReLU, Sigmoid, Tanh, Hardsigmoid, Hardswish, SiLU, GELU, Softmax, Identity, Flatten,
  Dropout, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, CrossEntropyLoss, MSELoss, NLLLoss,
} from './layers';
export type { Conv2dOptions, BatchNormOptions, FactoryOptions } from './layers';
export { functional, init };
export * as parallel from './parallel';
export * as utils from './utils';
