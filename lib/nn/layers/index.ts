/** torch.nn's layers, one file per concern as PyTorch's torch/nn/modules. */
export * from './activation';
export * from './conv';
export * from './dropout';
export * from './linear';
export * from './loss';
export * from './normalization';
export * from './padding';
export * from './pooling';
export * from './shape';
export * from './sparse';
export * from './rnn';
export * from './transformer';
export * from './lazy';
export * from './adaptive';
