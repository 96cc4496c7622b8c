/** torch.memory(): live tensor handles and the bytes they hold, per device. */
import { native } from './native';

export interface MemoryReport {
  /** Tensors that are neither disposed nor collected, in this thread. */
  handles: number;
  /** Per device ('cpu', 'cuda:0', ...): how many handles, and the bytes of their distinct storages. */
  devices: Record<string, { tensors: number; bytes: number }>;
}

export function memory(): MemoryReport {
  return native.memory();
}
