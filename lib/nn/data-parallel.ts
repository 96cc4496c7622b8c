/**
 * torch.nn.DataParallel(module, deviceIds, outputDevice, dim), as PyTorch's on a machine with no CUDA
 * device or one: without CUDA it runs the module as it is; on one device it moves the module there at
 * construction and each input there before the call. The wrapped module is the child `module`, so state
 * dict keys carry PyTorch's `module.` prefix, and a checkpoint a Python DataParallel model saved loads
 * as it is.
 *
 * Several devices are refused by name: PyTorch replicates the module onto every GPU at each call, and
 * its documentation steers multi-GPU training to DistributedDataParallel instead, which torchnode offers
 * (nn.parallel.DistributedDataParallel, one process per GPU).
 */
import { Tensor } from '../core/tensor';
import { native } from '../core/native';
import { describe } from '../core/dtype';
import { TorchError } from '../core/errors';
import { cudaIndexOf, intArg } from '../core/args';
import { signature, type ArgsOf } from '../core/signature';
import { Module } from './module';

export type DeviceId = number | string;
export type DataParallelFields = { deviceIds: DeviceId[] | null; outputDevice: DeviceId | null; dim: number };
const DATA_PARALLEL = signature<DataParallelFields>()('DataParallel', ['deviceIds', 'outputDevice', 'dim'], {
  deviceIds: null,
  outputDevice: null,
  dim: 0,
});

// Python's _get_device_index: an index, 'cuda:N', or 'cuda' (the current device, 0 here).
function deviceIndex(d: unknown, argName: string): number {
  if (typeof d === 'number') return intArg(d, argName);
  const index = typeof d === 'string' ? cudaIndexOf(d) : null;
  if (index === null) throw new TypeError(`DataParallel: ${argName} must be a CUDA device index or 'cuda:N' (got ${describe(d)})`);
  return index ?? 0;
}

// Tensors moved to `device`, in arrays and plain objects too (Python's scatter onto one device); other values as they are.
function moveTo(v: unknown, device: string): unknown {
  if (v instanceof Tensor) return v.device === device ? v : v.to(device);
  if (Array.isArray(v)) return v.map((x) => moveTo(x, device));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, moveTo(x, device)]));
  }
  return v;
}

/** Runs `module` on one CUDA device, or as it is without CUDA (typed as the module's call: `Module<In, Out>`). */
export class DataParallel<In extends unknown[] = unknown[], Out = unknown> extends Module<In, Out> {
  declare module: Module<In, Out>;
  /** The CUDA devices it runs on: [] without CUDA, else one. */
  readonly deviceIds: number[];
  readonly outputDevice: number | null;
  readonly dim: number;

  constructor(module: Module<In, Out>, ...rest: ArgsOf<typeof DATA_PARALLEL>) {
    super();
    if (!(module instanceof Module)) throw new TypeError(`DataParallel: module must be an nn.Module (got ${describe(module)})`);
    const a = DATA_PARALLEL.bind(rest);
    const dim = intArg(a.dim, 'dim');
    this.module = module;
    const available = native.cudaIsAvailable() ? native.cudaDeviceCount() : 0;
    if (a.deviceIds !== null && !Array.isArray(a.deviceIds))
      throw new TypeError(`DataParallel: deviceIds must be an array (got ${describe(a.deviceIds)})`);
    const ids = available === 0 ? [] : (a.deviceIds ?? [...Array(available).keys()]).map((d, i) => deviceIndex(d, `deviceIds[${i}]`));
    if (ids.length > 1) {
      throw new TorchError(
        `DataParallel: ${ids.length} devices (${ids.join(', ')}): torchnode's DataParallel runs on one device; for several GPUs ` +
          'use nn.parallel.DistributedDataParallel, one process per GPU, as PyTorch recommends',
      );
    }
    for (const id of ids)
      if (id >= available)
        throw new TorchError(`DataParallel: device ${id}: there ${available === 1 ? 'is 1 CUDA device' : `are ${available} CUDA devices`}`);
    this.deviceIds = ids;
    this.outputDevice = ids.length ? deviceIndex(a.outputDevice ?? ids[0], 'outputDevice') : null;
    this.dim = dim;
    if (ids.length === 1) module.to(`cuda:${ids[0]}`);
  }

  forward(...inputs: In): Out {
    if (this.deviceIds.length === 0) return this.module(...inputs);
    const device = `cuda:${this.deviceIds[0]}`;
    for (const t of [...this.module.parameters(), ...this.module.buffers()]) {
      if (t.device !== device) {
        throw new TorchError(
          `module must have its parameters and buffers on device ${device} (device_ids[0]) but found one of them on device: ${t.device}`,
        );
      }
    }
    return this.module(...(moveTo(inputs, device) as In));
  }
}
