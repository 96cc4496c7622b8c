/**
 * torch.nn.functional, split by concern as PyTorch's modules are: each function takes Python's positional
 * arguments in Python's order or any of them by name (one options object), checks them, and calls the
 * ATen operator Python calls.
 */

export * from './linear';
export * from './activation';
export * from './conv';
export * from './pooling';
export * from './norm';
export * from './dropout';
export * from './misc';
export * from './loss';
export * from './sparse';
export * from './attention';
export * from './matmul';
export { ntuple, pair, reductionCode, legacyReduction, type Size, type Size2, type Reduction, type FractionalFields } from './args';
