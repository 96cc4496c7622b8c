// CUDA queries that need no CUDA headers (ATen's context answers them in any build). The CUDA-only
// code (streams, graphs, allocator stats) lives in native/cuda/ and builds only against a CUDA LibTorch.
#include <ATen/Context.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value IsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA());
}

Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? static_cast<double>(at::getNumGPUs()) : 0.0);
}

Napi::Value HasCudnn(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::Context::hasCuDNN());
}

}  // namespace

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  Export<IsAvailable>(env, exports, "cudaIsAvailable");
  Export<DeviceCount>(env, exports, "cudaDeviceCount");
  Export<HasCudnn>(env, exports, "cudnnIsAvailable");
}

}  // namespace tn
