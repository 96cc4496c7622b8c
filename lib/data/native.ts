/**
 * The native functions of native/data.cc, typed here (lib/native.ts types the rest of the addon).
 */
import { native, type Handle } from '../core/native';

/** An opaque native object (a Node-API external): a gather job or a generator. */
export type Job = { readonly __torchnodeGatherJob: unique symbol };
export type NativeGenerator = { readonly __torchnodeGenerator: unique symbol };

type GatherArgs = [data: Handle, targets: Handle | null, indices: Handle, device: string | undefined, pin: boolean, toFloat: boolean];

export interface DataNative {
  /** Gathers rows `indices` of data (and targets) on the JS thread. */
  dataGather(...args: GatherArgs): [Handle, Handle | null];
  /** The same on a worker thread (Napi::AsyncWorker). */
  dataGatherAsync(...args: GatherArgs): Promise<[Handle, Handle | null]>;
  /** The same on ATen's inter-op pool; dataGatherWait(job) collects it (blocking). */
  dataGatherStart(...args: GatherArgs): Job;
  dataGatherWait(job: Job): [Handle, Handle | null];
  dataGatherReady(job: Job): boolean;
  /** torch.Generator().manual_seed(seed). */
  dataGenerator(seed: number | bigint): NativeGenerator;
  /** g.get_state() and g.set_state(state): a uint8 tensor. */
  dataGeneratorState(generator: NativeGenerator): Handle;
  dataSetGeneratorState(generator: NativeGenerator, state: Handle): void;
  /** torch.empty((), dtype=torch.int64).random_(generator=g).item() (g omitted: the default generator). */
  dataRandomSeed(generator?: NativeGenerator): bigint;
  /** torch.randperm(n, generator=g). */
  dataRandperm(n: number, generator?: NativeGenerator): Handle;
  /** Deterministic uint8 inputs and int64 targets from torch.Generator().manual_seed(seed). */
  dataSynthetic(size: number, shape: number[], numClasses: number, seed: number): [Handle, Handle];
}

export const dataNative = native as unknown as DataNative;
export { native };
export type { Handle };
