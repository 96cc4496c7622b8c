// CUDA graphs (built only against a CUDA LibTorch): LibTorch's at::cuda::CUDAGraph behind a handle.
// lib/cuda-graph.ts does what Python's torch.cuda.graph context does around capture (a side stream,
// a synchronize before); the ops captured are whatever runs on the JS thread in between.
//
//   cudaGraphNew() -> handle; cudaGraphCaptureBegin(g, mode: 'global' | 'thread_local' | 'relaxed')
//   cudaGraphCaptureEnd(g); cudaGraphReplay(g); cudaGraphReset(g)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <memory>
#include <string>

#include "../args.h"
#include "../errors.h"

namespace tn {
namespace {

const napi_type_tag kGraphTag = {0x746f7263686e6f64ULL, 0x6375646167726168ULL};

// The graph, and the memory pool its capture allocates from: ours rather than one CUDAGraph makes for
// itself, so that a capture that fails (cudaStreamEndCapture throws before CUDAGraph hands its pool
// back) can still end the allocator's capture mode and release the pool.
struct Graph {
  at::cuda::CUDAGraph graph;
  c10::MempoolId_t pool{0, 0};
  c10::DeviceIndex device = 0;
  cudaStream_t stream = nullptr;  // the capture's
};

Graph& GraphArg(const Args& a, size_t i) {
  Napi::Value v = a[i];
  if (!v.IsExternal() || !v.As<Napi::External<Graph>>().CheckTypeTag(&kGraphTag)) a.fail(i, "a torch.cuda.CUDAGraph handle");
  return *v.As<Napi::External<Graph>>().Data();
}

Napi::Value GraphNew(const Napi::CallbackInfo& info) {
  auto ext = Napi::External<Graph>::New(info.Env(), new Graph(), [](Napi::Env, Graph* p) { delete p; });
  ext.TypeTag(&kGraphTag);
  return ext;
}

Napi::Value GraphCaptureBegin(const Napi::CallbackInfo& info) {
  Args a(info);
  Graph& g = GraphArg(a, 0);
  std::string mode = a.string(1);
  cudaStreamCaptureMode m = mode == "global" ? cudaStreamCaptureModeGlobal
                            : mode == "relaxed" ? cudaStreamCaptureModeRelaxed
                            : mode == "thread_local" ? cudaStreamCaptureModeThreadLocal
                                                     : (ThrowRangeError(a.env(), "captureErrorMode must be 'global', 'thread_local' or 'relaxed'"), cudaStreamCaptureModeGlobal);
  g.pool = at::cuda::graph_pool_handle();
  g.device = c10::cuda::current_device();
  g.stream = c10::cuda::getCurrentCUDAStream(g.device).stream();
  g.graph.capture_begin(g.pool, m);
  return a.env().Undefined();
}

Napi::Value GraphCaptureEnd(const Napi::CallbackInfo& info) {
  Args a(info);
  Graph& g = GraphArg(a, 0);
  // On another stream, capture_end refuses before touching the capture, which goes on.
  bool onCaptureStream = c10::cuda::getCurrentCUDAStream(g.device).stream() == g.stream;
  try {
    g.graph.capture_end();
  } catch (...) {
    if (!onCaptureStream) throw;
    // An invalidated capture (an item() inside it, say): the stream has left capture mode, but the
    // allocator still routes this device's allocations to the pool and defers frees until told.
    // (A failure later in capture_end has told it already, and this first call refuses.)
    try {
      c10::cuda::CUDACachingAllocator::endAllocateToPool(g.device, g.pool);
    } catch (const c10::Error&) {
    }
    c10::cuda::CUDACachingAllocator::releasePool(g.device, g.pool);
    throw;
  }
  return a.env().Undefined();
}

Napi::Value GraphReplay(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).graph.replay();
  return a.env().Undefined();
}

Napi::Value GraphReset(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).graph.reset();
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
