// CUDA-only queries (built only against a CUDA LibTorch; see CMakeLists.txt): device names and
// compute capabilities, from the CUDA runtime's device properties.
//
//   cudaDeviceName(device) -> string; cudaDeviceCapability(device) -> [major, minor]
#include <ATen/cuda/CUDAContext.h>

#include <string>

#include "../args.h"
#include "../cuda_args.h"
#include "../errors.h"

namespace tn {
namespace {

Napi::Value DeviceName(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::String::New(a.env(), at::cuda::getDeviceProperties(CudaDeviceArg(a, 0))->name);
}

Napi::Value DeviceCapability(const Napi::CallbackInfo& info) {
  Args a(info);
  const auto* props = at::cuda::getDeviceProperties(CudaDeviceArg(a, 0));
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
