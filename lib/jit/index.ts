/** torch.jit: TorchScript modules loaded from Python's files (script.ts), traced and saved (trace.ts). */
export * from './script';
export { trace, save, type TraceOptions, type SaveOptions } from './trace';
