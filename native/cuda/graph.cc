// CUDA graphs (built only against a CUDA LibTorch): LibTorch's at::cuda::CUDAGraph behind a handle.
// lib/cuda-graph.ts does what Python's torch.cuda.graph context does around capture (a side stream,
// a synchronize before); the ops captured are whatever runs on the JS thread in between.
//
//   cudaGraphNew() -> handle; cudaGraphCaptureBegin(g, mode: 'global' | 'thread_local' | 'relaxed')
//   cudaGraphCaptureEnd(g); cudaGraphReplay(g); cudaGraphReset(g)
#include <ATen/cuda/CUDAGraph.h>

#include <memory>
#include <string>

#include "../args.h"
#include "../errors.h"

namespace tn {
namespace {

const napi_type_tag kGraphTag = {0x746f7263686e6f64ULL, 0x6375646167726168ULL};

at::cuda::CUDAGraph& GraphArg(const Args& a, size_t i) {
  Napi::Value v = a[i];
  if (!v.IsExternal() || !v.As<Napi::External<at::cuda::CUDAGraph>>().CheckTypeTag(&kGraphTag)) a.fail(i, "a torch.cuda.CUDAGraph handle");
  return *v.As<Napi::External<at::cuda::CUDAGraph>>().Data();
}

Napi::Value GraphNew(const Napi::CallbackInfo& info) {
  auto* g = new at::cuda::CUDAGraph();
  auto ext = Napi::External<at::cuda::CUDAGraph>::New(info.Env(), g, [](Napi::Env, at::cuda::CUDAGraph* p) { delete p; });
  ext.TypeTag(&kGraphTag);
  return ext;
}

Napi::Value GraphCaptureBegin(const Napi::CallbackInfo& info) {
  Args a(info);
  auto& g = GraphArg(a, 0);
  std::string mode = a.string(1);
  cudaStreamCaptureMode m = mode == "global" ? cudaStreamCaptureModeGlobal
                            : mode == "relaxed" ? cudaStreamCaptureModeRelaxed
                            : mode == "thread_local" ? cudaStreamCaptureModeThreadLocal
                                                     : (ThrowRangeError(a.env(), "captureErrorMode must be 'global', 'thread_local' or 'relaxed'"), cudaStreamCaptureModeGlobal);
  g.capture_begin({0, 0}, m);
  return a.env().Undefined();
}

Napi::Value GraphCaptureEnd(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).capture_end();
  return a.env().Undefined();
}

Napi::Value GraphReplay(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).replay();
  return a.env().Undefined();
}

Napi::Value GraphReset(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).reset();
  return a.env().Undefined();
}

}  // namespace

void RegisterCudaGraph(Napi::Env env, Napi::Object exports) {
  Export<GraphNew>(env, exports, "cudaGraphNew");
  Export<GraphCaptureBegin>(env, exports, "cudaGraphCaptureBegin");
  Export<GraphCaptureEnd>(env, exports, "cudaGraphCaptureEnd");
  Export<GraphReplay>(env, exports, "cudaGraphReplay");
  Export<GraphReset>(env, exports, "cudaGraphReset");
}

}  // namespace tn
