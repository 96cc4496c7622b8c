/** torch.cuda: what this process's LibTorch sees of CUDA. */
import { native } from './native';

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
