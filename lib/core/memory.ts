/** torch.memory(): live tensor handles and the bytes they hold, per device; the CPU block cache. */
import { native } from './native';

export interface MemoryReport {
  /** Tensors that are neither disposed nor collected, in this thread. */
  handles: number;
  /** Per device ('cpu', 'cuda:0', ...): how many handles, and the bytes of their distinct storages. */
  devices: Record<string, { tensors: number; bytes: number }>;
  /**
   * Freed CPU blocks of 256 KiB or more that torchnode keeps for the next tensor of the same size (for the
   * whole process): their bytes and count, and the most it keeps (TORCHNODE_CPU_CACHE_MB, default 1024).
   */
  cpuCache: { bytes: number; blocks: number; limit: number };
}

export function memory(): MemoryReport {
  return { ...native.memory(), cpuCache: native.cpuCacheInfo() };
}

/** Frees the CPU blocks torchnode keeps for reuse (see MemoryReport.cpuCache), as torch.cuda.emptyCache() does on the GPU. */
export function emptyCpuCache(): void {
  native.cpuCacheEmpty();
}
