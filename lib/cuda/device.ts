/**
 * torch.cuda: devices, synchronization, seeds, the caching allocator's statistics, streams and events,
 * as PyTorch names them. Without CUDA, as in PyTorch: isAvailable() is false, deviceCount() is 0, the seeds,
 * emptyCache() and the memory statistics (0) are no-ops, and everything else throws a TorchError saying
 * CUDA is not available.
 *
 *     const start = new torch.cuda.Event({ enableTiming: true }), end = new torch.cuda.Event({ enableTiming: true });
 *     start.record(); model(x); end.record(); end.synchronize();
 *     start.elapsedTime(end);                    // ms
 *     torch.cuda.maxMemoryAllocated();           // bytes
 */
import { native, type CudaEventHandle } from '../core/native';
import { Tensor, wrap } from '../core/tensor';
import { TorchError } from '../core/errors';
import { describe } from '../core/dtype';
import { cudaIndexOf } from '../core/args';

/** A device: an index, 'cuda:N', or undefined for the current device. */
export type DeviceArg = number | string | undefined;

function deviceIndex(d: DeviceArg, fn: string): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'number' && Number.isInteger(d) && d >= 0) return d;
  if (typeof d === 'string') {
    const index = cudaIndexOf(d);
    if (index !== null) return index;
  }
  throw new TypeError(`torch.cuda.${fn}: device must be an index, 'cuda' or 'cuda:N' (got ${describe(d)})`);
}

/** True when this LibTorch has CUDA and a device is present. */
export function isAvailable(): boolean {
  return native.cudaIsAvailable();
}

export function deviceCount(): number {
  return native.cudaDeviceCount();
}

/** torch.backends.cudnn.is_available(). */
export function cudnnIsAvailable(): boolean {
  return native.cudnnIsAvailable();
}

/** The device's name, e.g. 'NVIDIA H100 80GB HBM3'. */
export function getDeviceName(device?: DeviceArg): string {
  const index = deviceIndex(device, 'getDeviceName');
  requireAvailable('getDeviceName');
  if (!native.cudaDeviceName)
    throw new TorchError('torch.cuda.getDeviceName: this torchnode build has no CUDA code (it was built against a CPU LibTorch)');
  return native.cudaDeviceName(index);
}

/** [major, minor] compute capability. */
export function getDeviceCapability(device?: DeviceArg): [number, number] {
  const index = deviceIndex(device, 'getDeviceCapability');
  requireAvailable('getDeviceCapability');
  if (!native.cudaDeviceCapability)
    throw new TorchError('torch.cuda.getDeviceCapability: this torchnode build has no CUDA code (it was built against a CPU LibTorch)');
  return native.cudaDeviceCapability(index);
}

/** Waits for every kernel on the device to finish. */
export function synchronize(device?: DeviceArg): void {
  native.cudaSynchronize(deviceIndex(device, 'synchronize'));
}

/** Seeds the current CUDA device's generator (manualSeedAll: every device's). */
export function manualSeed(seed: number): void {
  const s = seedArg(seed, 'manualSeed');
  if (isAvailable()) native.cudaManualSeed(s, currentDeviceIndex());
}
export function manualSeedAll(seed: number): void {
  const s = seedArg(seed, 'manualSeedAll');
  if (isAvailable()) native.cudaManualSeed(s, undefined);
}

/** The device's default generator state (a uint8 tensor), as torch.cuda.get_rng_state. */
export function getRngState(device?: DeviceArg): Tensor {
  return wrap(native.cudaGetRngState(deviceIndex(device, 'getRngState')));
}
export function setRngState(state: Tensor, device?: DeviceArg): void {
  if (!(state instanceof Tensor)) throw new TypeError(`torch.cuda.setRngState(state): state must be a Tensor (got ${describe(state)})`);
  native.cudaSetRngState(state.handle, deviceIndex(device, 'setRngState'));
}

function seedArg(seed: unknown, fn: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)
    throw new TypeError(`torch.cuda.${fn}: seed must be a non-negative integer (got ${describe(seed)})`);
  return seed;
}

// [allocated, maxAllocated, reserved, maxReserved]; zeros without CUDA, as PyTorch before CUDA starts.
function memoryStats(device: DeviceArg, fn: string): [number, number, number, number] {
  const index = deviceIndex(device, fn);
  return isAvailable() ? native.cudaMemoryStats(index) : [0, 0, 0, 0];
}
/** Bytes held by tensors on the device now. */
export function memoryAllocated(device?: DeviceArg): number {
  return memoryStats(device, 'memoryAllocated')[0];
}
/** The peak of memoryAllocated since the start or resetPeakMemoryStats(). */
export function maxMemoryAllocated(device?: DeviceArg): number {
  return memoryStats(device, 'maxMemoryAllocated')[1];
}
/** Bytes the caching allocator holds (allocated plus cached). */
export function memoryReserved(device?: DeviceArg): number {
  return memoryStats(device, 'memoryReserved')[2];
}
export function maxMemoryReserved(device?: DeviceArg): number {
  return memoryStats(device, 'maxMemoryReserved')[3];
}
export function resetPeakMemoryStats(device?: DeviceArg): void {
  native.cudaResetPeakMemoryStats(deviceIndex(device, 'resetPeakMemoryStats'));
}
/** Returns the allocator's unused cached blocks to the driver. */
export function emptyCache(): void {
  native.cudaEmptyCache();
}
/** [free, total] device memory in bytes, as the driver reports it. */
export function memGetInfo(device?: DeviceArg): [number, number] {
  const index = deviceIndex(device, 'memGetInfo');
  requireAvailable('memGetInfo');
  if (!native.cudaMemGetInfo)
    throw new TorchError('torch.cuda.memGetInfo: this torchnode build has no CUDA code (it was built against a CPU LibTorch)');
  return native.cudaMemGetInfo(index);
}

function currentDeviceIndex(): number {
  return native.cudaCurrentStream(undefined)[1];
}

function requireAvailable(fn: string): void {
  if (!isAvailable()) throw new TorchError(`torch.cuda.${fn}: CUDA is not available (torch.cuda.isAvailable() is false)`);
}

/** A CUDA stream: work queued on it runs in order, and concurrently with other streams. */
export class Stream {
  readonly id!: number;
  readonly deviceIndex!: number;

  /** A stream from LibTorch's pool on `device` (priority -1: the high-priority pool). */
  constructor(opts: { device?: DeviceArg; priority?: -1 | 0 } = {}) {
    const [id, device] = native.cudaNewStream(deviceIndex(opts.device, 'Stream'), opts.priority === -1);
    Object.assign(this, { id, deviceIndex: device });
  }
  /** @internal A stream LibTorch already has. */
  static of(id: number, deviceIndex: number): Stream {
    return Object.assign(Object.create(Stream.prototype) as Stream, { id, deviceIndex });
  }
  /** Waits for everything queued on the stream. */
  synchronize(): void {
    native.cudaStreamSynchronize(this.id, this.deviceIndex);
  }
  /** True when everything queued on it has finished. */
  query(): boolean {
    return native.cudaStreamQuery(this.id, this.deviceIndex);
  }
  /** Makes this stream wait for `event` (recorded on another stream) before running what comes next. */
  waitEvent(event: Event): void {
    event.wait(this);
  }
  /** Makes this stream wait for everything queued on `other` so far. */
  waitStream(other: Stream): void {
    const e = new Event();
    e.record(other);
    e.wait(this);
  }
  toString(): string {
    return `<torch.cuda.Stream device=cuda:${this.deviceIndex} cuda_stream_id=${this.id}>`;
  }
}

/** The stream new work goes to on `device`. */
export function currentStream(device?: DeviceArg): Stream {
  const [id, index] = native.cudaCurrentStream(deviceIndex(device, 'currentStream'));
  return Stream.of(id, index);
}

/** Runs fn with `s` as its device's current stream (Python's `with torch.cuda.stream(s):`). */
export function stream<T>(s: Stream, fn: () => T): T {
  if (!(s instanceof Stream)) throw new TypeError(`torch.cuda.stream(s, fn): s must be a torch.cuda.Stream (got ${describe(s)})`);
  if (typeof fn !== 'function') throw new TypeError('torch.cuda.stream(s, fn): fn must be a function');
  const previous = currentStream(s.deviceIndex);
  native.cudaSetCurrentStream(s.id, s.deviceIndex);
  try {
    const result = fn();
    if (result instanceof Promise)
      throw new TypeError('torch.cuda.stream(s, fn): fn must be synchronous (the current stream is per thread, not per async task)');
    return result;
  } finally {
    native.cudaSetCurrentStream(previous.id, previous.deviceIndex);
  }
}

/**
 * Runs fn with `s` as the current stream, ordered after what the current stream has queued so far, and
 * orders the current stream's later work after fn's (how PyTorch's recipes use a side stream).
 */
export function onStream<T>(s: Stream, fn: () => T): T {
  const main = currentStream(s.deviceIndex);
  s.waitStream(main);
  try {
    return stream(s, fn);
  } finally {
    main.waitStream(s); // also when fn threw: what main frees next may still be read by s's queued work
  }
}

/** A CUDA event: a marker in a stream, for synchronization and timing. */
export class Event {
  private readonly handle: CudaEventHandle;
  readonly enableTiming: boolean;

  constructor(opts: { enableTiming?: boolean } = {}) {
    const timing = opts.enableTiming ?? false;
    if (typeof timing !== 'boolean') throw new TypeError(`torch.cuda.Event: enableTiming must be a boolean (got ${describe(timing)})`);
    this.enableTiming = timing;
    this.handle = native.cudaEventNew(timing);
  }
  /** Records the event on `stream` (default: the current stream). */
  record(stream?: Stream): void {
    const s = stream ?? currentStream();
    native.cudaEventRecord(this.handle, s.id, s.deviceIndex);
  }
  /** Makes `stream` (default: current) wait for this event. */
  wait(stream?: Stream): void {
    const s = stream ?? currentStream();
    native.cudaEventWait(this.handle, s.id, s.deviceIndex);
  }
  /** True when the work before the record has finished. */
  query(): boolean {
    return native.cudaEventQuery(this.handle);
  }
  synchronize(): void {
    native.cudaEventSynchronize(this.handle);
  }
  /** Milliseconds between this event and `end` (both recorded, both with enableTiming). */
  elapsedTime(end: Event): number {
    if (!(end instanceof Event)) throw new TypeError(`Event.elapsedTime(end): end must be a torch.cuda.Event (got ${describe(end)})`);
    if (!this.enableTiming || !end.enableTiming) throw new TorchError('Event.elapsedTime: both events need { enableTiming: true }');
    return native.cudaEventElapsedTime(this.handle, end.handle);
  }
}
