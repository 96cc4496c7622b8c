/** torch.nn */
import * as functional from './functional';
import * as init from './init';

export { Module, Parameter, deepcopy } from './module';
export type { AnyModule, StateDict, LoadResult, RemovableHandle, ForwardHook, ForwardPreHook, ModuleToOptions, MemoryFormat } from './module';
export { Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict } from './container';
export * from './layers';
export { Signature } from '../core/signature';
export type { ArgsOf, Values } from '../core/signature';
export { functional, init };
export * as parallel from './parallel';
export { DataParallel, type DataParallelFields, type DeviceId } from './data-parallel';
export * as utils from './utils';
