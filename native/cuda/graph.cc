// CUDA graphs (built only against a CUDA LibTorch): LibTorch's at::cuda::CUDAGraph behind a handle.
// lib/cuda-graph.ts does what Python's torch.cuda.graph context does around capture (a side stream,
// a synchronize before); the ops captured are whatever runs on the JS thread in between.
//
//   cudaGraphNew() -> handle; cudaGraphCaptureBegin(g, mode: 'global' | 'thread_local' | 'relaxed')
//   cudaGraphCaptureEnd(g); cudaGraphReplay(g); cudaGraphReset(g)
#include <ATen/core/CachingHostAllocator.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "../args.h"
#include "../errors.h"
#include "../tagged_external.h"

namespace tn {
namespace {

// What a failed capture leaves behind depends on the LibTorch release. From 2.14, CUDAGraph tracks the
// pool it took (allocated_pool_), and its reset() ends the allocators' routing to the pool and releases
// it. Before, a capture_begin or capture_end that throws can leave the device allocator (and, from
// about 2.11, the pinned-host allocator) routing allocations to the pool, and reset() releases the pool
// only after a successful capture. Its (protected) member is detected through this subclass.
struct LibTorchGraph : at::cuda::CUDAGraph {
  template <typename G, typename = void>
  struct TracksPool : std::false_type {};
  template <typename G>
  struct TracksPool<G, std::void_t<decltype(&G::allocated_pool_)>> : std::true_type {};
  static constexpr bool ResetCleansUpFailedCapture() { return TracksPool<LibTorchGraph>::value; }
  // Set once cudaStreamEndCapture succeeded: from then on reset() releases the pool in every release
  // (a capture_end that fails later, in instantiate, leaves that to reset()).
  bool CaptureEnded() const { return capture_ended_; }
};

// The pinned-host allocator's graph pools (release_pool and end_allocate_to_pool), where it has them.
template <typename A, typename = void>
struct HasHostPools : std::false_type {};
template <typename A>
struct HasHostPools<A, std::void_t<decltype(std::declval<A&>().release_pool(c10::MempoolId_t{}))>> : std::true_type {};

// The graph, and the memory pool its capture allocates from: ours rather than one CUDAGraph makes for
// itself, because CUDAGraph::pool() refuses to name the pool of a capture that failed.
struct Graph {
  LibTorchGraph graph;
  bool captured = false;  // holds a successful capture (until reset)
  c10::MempoolId_t pool{0, 0};
  c10::DeviceIndex device = 0;
  cudaStream_t stream = nullptr;  // the capture's
};

// Each step may find its work already done (the failure came after it, or before the pool was taken),
// and then refuses: that refusal is not the error to report, the capture's is.
template <typename Fn>
void IgnoringRefusal(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception&) {
  }
}

template <typename HostAllocator = at::HostAllocator>
void ReleaseHostPool(const Graph& g) {
  if constexpr (HasHostPools<HostAllocator>::value) {
    HostAllocator* host = at::getHostAllocator(at::kCUDA);
    IgnoringRefusal([&] { host->end_allocate_to_pool(g.pool); });
    IgnoringRefusal([&] { host->release_pool(g.pool); });
  }
}

// After a capture_begin or capture_end that threw on the capture stream: no allocation may go on being
// routed to the pool, and the pool goes back to the allocators.
void CleanUpFailedCapture(Graph& g) {
  if (LibTorchGraph::ResetCleansUpFailedCapture() || g.graph.CaptureEnded()) {
    IgnoringRefusal([&] { g.graph.reset(); });
  } else {
    IgnoringRefusal([&] { c10::cuda::CUDACachingAllocator::endAllocateToPool(g.device, g.pool); });
    IgnoringRefusal([&] { c10::cuda::CUDACachingAllocator::releasePool(g.device, g.pool); });
    ReleaseHostPool(g);
  }
}

const TaggedExternal<Graph> kGraphs{0x6375646167726168ULL};

Graph& GraphArg(const Args& a, size_t i) { return kGraphs.Unwrap(a, i, "a torch.cuda.CUDAGraph handle"); }

Napi::Value GraphNew(const Napi::CallbackInfo& info) { return kGraphs.Make(info.Env(), new Graph()); }

Napi::Value GraphCaptureBegin(const Napi::CallbackInfo& info) {
  Args a(info);
  Graph& g = GraphArg(a, 0);
  std::string mode = a.string(1);
  cudaStreamCaptureMode m =
      mode == "global"    ? cudaStreamCaptureModeGlobal
      : mode == "relaxed" ? cudaStreamCaptureModeRelaxed
      : mode == "thread_local"
          ? cudaStreamCaptureModeThreadLocal
          : (ThrowRangeError(a.env(), "captureErrorMode must be 'global', 'thread_local' or 'relaxed'"), cudaStreamCaptureModeGlobal);
  // As PyTorch: a graph is captured once (what it holds must not be thrown away by a refused capture).
  TORCH_CHECK(!g.captured, "this CUDAGraph already holds a capture: reset() it, or use a new one, to capture again");
  g.pool = at::cuda::graph_pool_handle();
  g.device = c10::cuda::current_device();
  g.stream = c10::cuda::getCurrentCUDAStream(g.device).stream();
  try {
    g.graph.capture_begin(g.pool, m);
  } catch (...) {
    CleanUpFailedCapture(g);
    throw;
  }
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
    // An invalidated capture (an item() inside it, say): the stream has left capture mode.
    CleanUpFailedCapture(g);
    throw;
  }
  g.captured = true;
  return a.env().Undefined();
}

Napi::Value GraphReplay(const Napi::CallbackInfo& info) {
  Args a(info);
  GraphArg(a, 0).graph.replay();
  return a.env().Undefined();
}

Napi::Value GraphReset(const Napi::CallbackInfo& info) {
  Args a(info);
  Graph& g = GraphArg(a, 0);
  g.graph.reset();
  g.captured = false;
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
