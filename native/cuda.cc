// torch.cuda through LibTorch's device-generic interfaces: ATen's context and CUDA hooks, the
// accelerator API (memory statistics, synchronize), c10::Stream and c10::Event. None of these need CUDA
// headers, so this file builds against every LibTorch and answers "CUDA is not available" where there is
// none; libtorch_cuda registers the real implementations when it is loaded. What does need CUDA headers
// (device names, CUDA graphs) lives in native/cuda/ and builds only against a CUDA LibTorch.
//
//   cudaIsAvailable(), cudaDeviceCount(), cudnnIsAvailable()
//   cudaSynchronize(device), cudaManualSeed(seed, device | -1 for all)
//   cudaGetRngState(device) -> uint8 tensor, cudaSetRngState(state, device)
//   cudaMemoryStats(device) -> [allocated, maxAllocated, reserved, maxReserved]
//   cudaResetPeakMemoryStats(device), cudaEmptyCache()
//   cudaCurrentStream(device) / cudaNewStream(device, highPriority) -> [id, deviceIndex]
//   cudaSetCurrentStream(id, deviceIndex), cudaStreamSynchronize(id, deviceIndex), cudaStreamQuery(id, deviceIndex)
//   cudaEventNew(enableTiming) -> event handle; cudaEventRecord(e, id, deviceIndex), cudaEventWait(e, id, deviceIndex),
//   cudaEventQuery(e), cudaEventSynchronize(e), cudaEventElapsedTime(start, end) -> ms
//   backendFlags() -> {cudnnBenchmark, cudnnDeterministic, cudnnAllowTF32, matmulAllowTF32}; setBackendFlag(name, value)
#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/core/Generator.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <mutex>
#include <string>

#include "args.h"
#include "cuda_args.h"
#include "errors.h"
#include "handle.h"
#include "tagged_external.h"

namespace tn {
namespace {

using c10::DeviceType;

// How many CUDA devices there are; 0 without CUDA (a CPU LibTorch, or no driver).
int64_t NumGpus() { return at::hasCUDA() ? static_cast<int64_t>(at::getNumGPUs()) : 0; }

void RequireCuda(Napi::Env env, const char* what) {
  if (NumGpus() == 0) {
    ThrowTorch(env, ErrorKind::Torch, std::string("torch.cuda.") + what + ": CUDA is not available (torch.cuda.isAvailable() is false)");
  }
}

Napi::Value IsAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::hasCUDA()); }

Napi::Value DeviceCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(NumGpus())); }

Napi::Value HasCudnn(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::Context::hasCuDNN()); }

// torch.version.cuda ('13.0') and torch.backends.cudnn.version() (92400), or null for each. Asked of the
// CUDA hooks that libtorch_cuda registers when it loads, so a CUDA build answering proves it is linked.
Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::CUDAHooksInterface& hooks = at::detail::getCUDAHooks();
  Napi::Object o = Napi::Object::New(env);
  if (hooks.hasCUDART()) {
    long v = hooks.versionCUDART();  // CUDART_VERSION: major * 1000 + minor * 10
    o.Set("cuda", std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10));
  } else {
    o.Set("cuda", env.Null());
  }
  o.Set("cudnn",
        at::Context::hasCuDNN() ? Napi::Value(Napi::Number::New(env, static_cast<double>(hooks.versionRuntimeCuDNN()))) : env.Null());
  return o;
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "synchronize");
  at::accelerator::synchronizeDevice(CudaDeviceArg(a, 0));
  return a.env().Undefined();
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "manualSeed");
  uint64_t seed = static_cast<uint64_t>(a.int64(0));
  int64_t which = a.missing(1) ? -1 : a.int64(1);
  int64_t n = NumGpus();
  for (int64_t d = 0; d < n; ++d) {
    if (which >= 0 && d != which) continue;
    at::Generator gen = at::detail::getCUDAHooks().getDefaultGenerator(static_cast<c10::DeviceIndex>(d));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  return a.env().Undefined();
}

// The default generator of a device; its state as a uint8 tensor, as torch.cuda.get_rng_state.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "getRngState");
  at::Generator gen = at::detail::getCUDAHooks().getDefaultGenerator(CudaDeviceArg(a, 0));
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Wrap(a.env(), gen.get_state());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "setRngState");
  at::Tensor state = a.tensor(0);
  at::Generator gen = at::detail::getCUDAHooks().getDefaultGenerator(CudaDeviceArg(a, 1));
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return a.env().Undefined();
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "memoryStats");
  auto stats = at::accelerator::getDeviceStats(CudaDeviceArg(a, 0));
  const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  Napi::Array out = Napi::Array::New(a.env(), 4);
  out.Set(0u, static_cast<double>(stats.allocated_bytes[all].current));
  out.Set(1u, static_cast<double>(stats.allocated_bytes[all].peak));
  out.Set(2u, static_cast<double>(stats.reserved_bytes[all].current));
  out.Set(3u, static_cast<double>(stats.reserved_bytes[all].peak));
  return out;
}

Napi::Value ResetPeakMemoryStats(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "resetPeakMemoryStats");
  at::accelerator::resetPeakStats(CudaDeviceArg(a, 0));
  return a.env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  if (NumGpus() > 0) at::accelerator::emptyCache();  // nothing cached without CUDA
  return info.Env().Undefined();
}

// ---- streams: a JS stream is [id, deviceIndex] (c10::Stream's own packing, minus the device type) ----

Napi::Value StreamValue(Napi::Env env, const c10::Stream& s) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, static_cast<double>(s.id()));
  out.Set(1u, static_cast<double>(s.device_index()));
  return out;
}

c10::Stream StreamArg(const Args& a, size_t i) {
  int64_t id = a.int64(i), device = a.int64(i + 1);
  if (device < 0 || device >= NumGpus()) ThrowRangeError(a.env(), "stream: device index " + std::to_string(device) + " out of range");
  return c10::Stream::unpack3(id, static_cast<c10::DeviceIndex>(device), DeviceType::CUDA);
}

Napi::Value CurrentStream(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "currentStream");
  return StreamValue(a.env(), at::accelerator::getCurrentStream(CudaDeviceArg(a, 0)));
}

Napi::Value NewStream(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "Stream");
  c10::Device device(DeviceType::CUDA, CudaDeviceArg(a, 0));
  const auto* impl = c10::impl::getDeviceGuardImpl(DeviceType::CUDA);
  return StreamValue(a.env(), impl->getStreamFromGlobalPool(device, a.boolean(1, false)));
}

Napi::Value SetCurrentStream(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "setStream");
  at::accelerator::setCurrentStream(StreamArg(a, 0));
  return a.env().Undefined();
}

Napi::Value StreamSynchronize(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "Stream.synchronize");
  StreamArg(a, 0).synchronize();
  return a.env().Undefined();
}

Napi::Value StreamQuery(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "Stream.query");
  return Napi::Boolean::New(a.env(), StreamArg(a, 0).query());
}

// ---- events: a type-tagged External owning a c10::Event ----

const TaggedExternal<c10::Event> kEvents{0x6375646165766e74ULL};

c10::Event& EventArg(const Args& a, size_t i) { return kEvents.Unwrap(a, i, "a torch.cuda.Event handle"); }

Napi::Value EventNew(const Napi::CallbackInfo& info) {
  Args a(info);
  RequireCuda(a.env(), "Event");
  // BACKEND_DEFAULT keeps CUDA's timing; PYTORCH_DEFAULT disables it (cheaper), as enable_timing=False.
  auto flag = a.boolean(0, false) ? c10::EventFlag::BACKEND_DEFAULT : c10::EventFlag::PYTORCH_DEFAULT;
  return kEvents.Make(a.env(), new c10::Event(DeviceType::CUDA, flag));
}

Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Args a(info);
  EventArg(a, 0).record(StreamArg(a, 1));
  return a.env().Undefined();
}

Napi::Value EventWait(const Napi::CallbackInfo& info) {
  Args a(info);
  EventArg(a, 0).block(StreamArg(a, 1));
  return a.env().Undefined();
}

Napi::Value EventQuery(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), EventArg(a, 0).query());
}

Napi::Value EventSynchronize(const Napi::CallbackInfo& info) {
  Args a(info);
  EventArg(a, 0).synchronize();
  return a.env().Undefined();
}

Napi::Value EventElapsedTime(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), EventArg(a, 0).elapsedTime(EventArg(a, 1)));
}

// ---- torch.backends flags (global in ATen's context; they exist in every build) ----

Napi::Value BackendFlags(const Napi::CallbackInfo& info) {
  auto& ctx = at::globalContext();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("cudnnBenchmark", ctx.benchmarkCuDNN());
  out.Set("cudnnDeterministic", ctx.deterministicCuDNN());
  out.Set("cudnnAllowTF32", ctx.allowTF32CuDNN());
  out.Set("matmulAllowTF32", ctx.allowTF32CuBLAS());
  return out;
}

Napi::Value SetBackendFlag(const Napi::CallbackInfo& info) {
  Args a(info);
  std::string name = a.string(0);
  bool on = a.boolean(1);
  auto& ctx = at::globalContext();
  if (name == "cudnnBenchmark")
    ctx.setBenchmarkCuDNN(on);
  else if (name == "cudnnDeterministic")
    ctx.setDeterministicCuDNN(on);
  else if (name == "cudnnAllowTF32")
    ctx.setAllowTF32CuDNN(on);
  else if (name == "matmulAllowTF32")
    ctx.setAllowTF32CuBLAS(on);
  else
    ThrowRangeError(a.env(), "unknown backend flag '" + name + "'");
  return a.env().Undefined();
}

}  // namespace

c10::DeviceIndex CudaDeviceArg(const Args& a, size_t i) {
  int64_t d = a.missing(i) ? -1 : a.int64(i);
  if (d < 0) return at::accelerator::getDeviceIndex();
  if (d >= NumGpus())
    ThrowRangeError(a.env(), "device index " + std::to_string(d) + " out of range (" + std::to_string(NumGpus()) + " CUDA devices)");
  return static_cast<c10::DeviceIndex>(d);
}

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  Export<IsAvailable>(env, exports, "cudaIsAvailable");
  Export<DeviceCount>(env, exports, "cudaDeviceCount");
  Export<HasCudnn>(env, exports, "cudnnIsAvailable");
  Export<Versions>(env, exports, "cudaVersions");
  Export<Synchronize>(env, exports, "cudaSynchronize");
  Export<ManualSeed>(env, exports, "cudaManualSeed");
  Export<GetRngState>(env, exports, "cudaGetRngState");
  Export<SetRngState>(env, exports, "cudaSetRngState");
  Export<MemoryStats>(env, exports, "cudaMemoryStats");
  Export<ResetPeakMemoryStats>(env, exports, "cudaResetPeakMemoryStats");
  Export<EmptyCache>(env, exports, "cudaEmptyCache");
  Export<CurrentStream>(env, exports, "cudaCurrentStream");
  Export<NewStream>(env, exports, "cudaNewStream");
  Export<SetCurrentStream>(env, exports, "cudaSetCurrentStream");
  Export<StreamSynchronize>(env, exports, "cudaStreamSynchronize");
  Export<StreamQuery>(env, exports, "cudaStreamQuery");
  Export<EventNew>(env, exports, "cudaEventNew");
  Export<EventRecord>(env, exports, "cudaEventRecord");
  Export<EventWait>(env, exports, "cudaEventWait");
  Export<EventQuery>(env, exports, "cudaEventQuery");
  Export<EventSynchronize>(env, exports, "cudaEventSynchronize");
  Export<EventElapsedTime>(env, exports, "cudaEventElapsedTime");
  Export<BackendFlags>(env, exports, "backendFlags");
  Export<SetBackendFlag>(env, exports, "setBackendFlag");
}

}  // namespace tn
