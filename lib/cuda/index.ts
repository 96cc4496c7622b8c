/** torch.cuda: devices, streams, events and memory (device.ts) and CUDA graphs (graphs.ts). */
export * from './device';
export { CUDAGraph, graph, type GraphOptions, type CaptureErrorMode } from './graphs';
