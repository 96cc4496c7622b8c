// CUDA-only queries (built only against a CUDA LibTorch; see CMakeLists.txt): device names and
// compute capabilities, from the CUDA runtime's device properties.
//
//   cudaDeviceName(device) -> string; cudaDeviceCapability(device) -> [major, minor]
#include <ATen/cuda/CUDAContext.h>

#include <string>

#include "../args.h"
#include "../errors.h"

namespace tn {
namespace {

int DeviceArg(const Args& a, size_t i) {
  int64_t d = a.missing(i) ? at::cuda::current_device() : a.int64(i);
  if (d < 0 || d >= at::cuda::device_count()) {
    ThrowRangeError(a.env(), "device index " + std::to_string(d) + " out of range (" + std::to_string(at::cuda::device_count()) + " CUDA devices)");
  }
  return static_cast<int>(d);
}

Napi::Value DeviceName(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::String::New(a.env(), at::cuda::getDeviceProperties(DeviceArg(a, 0))->name);
}

Napi::Value DeviceCapability(const Napi::CallbackInfo& info) {
  Args a(info);
  const auto* props = at::cuda::getDeviceProperties(DeviceArg(a, 0));
  Napi::Array out = Napi::Array::New(a.env(), 2);
  out.Set(0u, props->major);
  out.Set(1u, props->minor);
  return out;
}

}  // namespace

void RegisterCudaDevice(Napi::Env env, Napi::Object exports) {
  Export<DeviceName>(env, exports, "cudaDeviceName");
  Export<DeviceCapability>(env, exports, "cudaDeviceCapability");
}

}  // namespace tn
