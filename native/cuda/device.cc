// CUDA-only queries (built only against a CUDA LibTorch; see CMakeLists.txt): device names, compute
// capabilities and free memory, from the CUDA runtime. (at::accelerator::getMemoryInfo would do for the last,
// but it is newer than some LibTorch releases we build against; cudaMemGetInfo is in every one.)
//
//   cudaDeviceName(device) -> string; cudaDeviceCapability(device) -> [major, minor]
//   cudaMemGetInfo(device) -> [free, total]
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

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

Napi::Value MemGetInfo(const Napi::CallbackInfo& info) {
  Args a(info);
  c10::cuda::CUDAGuard guard(CudaDeviceArg(a, 0));
  size_t freeBytes = 0, total = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&freeBytes, &total));
  Napi::Array out = Napi::Array::New(a.env(), 2);
  out.Set(0u, static_cast<double>(freeBytes));
  out.Set(1u, static_cast<double>(total));
  return out;
}

}  // namespace

void RegisterCudaDevice(Napi::Env env, Napi::Object exports) {
  Export<DeviceName>(env, exports, "cudaDeviceName");
  Export<DeviceCapability>(env, exports, "cudaDeviceCapability");
  Export<MemGetInfo>(env, exports, "cudaMemGetInfo");
}

}  // namespace tn
