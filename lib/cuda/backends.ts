/**
 * torch.backends: ATen's global switches, read and set as in PyTorch.
 *
 *     torch.backends.cudnn.benchmark = true;          // cuDNN picks the fastest convolution per shape
 *     torch.backends.cuda.matmul.allowTF32 = true;    // TF32 tensor cores for float32 matmuls
 */
import { native, type BackendFlags } from '../core/native';
import { describe } from '../core/dtype';

function flag(name: keyof BackendFlags, path: string): PropertyDescriptor {
  return {
    enumerable: true,
    get: () => native.backendFlags()[name],
    set: (v: unknown) => {
      if (typeof v !== 'boolean') throw new TypeError(`torch.backends.${path} must be a boolean (got ${describe(v)})`);
      native.setBackendFlag(name, v);
    },
  };
}

export interface CudnnBackend {
  /** Benchmark convolution algorithms per input shape and keep the fastest (default false). */
  benchmark: boolean;
  /** Only deterministic convolution algorithms (default false). */
  deterministic: boolean;
  /** TF32 in cuDNN convolutions (default true, as PyTorch). */
  allowTF32: boolean;
  isAvailable(): boolean;
  /** The cuDNN version LibTorch loaded (92400 for 9.24.0), or null without cuDNN; as PyTorch's. */
  version(): number | null;
}

const cudnnFunctions = { isAvailable: () => native.cudnnIsAvailable(), version: () => native.cudaVersions().cudnn };
export const cudnn: CudnnBackend = Object.defineProperties(cudnnFunctions as CudnnBackend, {
  benchmark: flag('cudnnBenchmark', 'cudnn.benchmark'),
  deterministic: flag('cudnnDeterministic', 'cudnn.deterministic'),
  allowTF32: flag('cudnnAllowTF32', 'cudnn.allowTF32'),
});

export const cuda: { matmul: { allowTF32: boolean } } = {
  matmul: Object.defineProperties({} as { allowTF32: boolean }, { allowTF32: flag('matmulAllowTF32', 'cuda.matmul.allowTF32') }),
};
