// What native/cuda.cc shares with native/cuda/ (CUDA builds). Not named cuda.h: native/ is on the include
// path, and CUDA's own <cuda.h> must not be shadowed.
#pragma once
#include <c10/core/Device.h>

#include "args.h"

namespace tn {

// A CUDA device index argument: missing or -1 means the current device; a RangeError past the last one.
c10::DeviceIndex CudaDeviceArg(const Args& a, size_t i);

}  // namespace tn
