// torch.distributed on LibTorch's c10d: a process group (a TCPStore rendezvous and a Gloo or NCCL
// backend) and its collectives.
//
//   distBackends() -> {gloo, nccl}                            which backends this build has
//   distInitAsync(backend, host, port, rank, worldSize, timeoutMs, hostStore, prefix) -> Promise<group>
//   distRank(g), distWorldSize(g), distBackendName(g), distDestroy(g)
//   distAllReduce(g, tensors, op) / distAllReduceAsync        in place; op: sum product min max band bor bxor avg
//   distBroadcast(g, tensors, src) / distBroadcastAsync       in place
//   distAllGather(g, outputs, input) / distAllGatherAsync     fills outputs (one per rank)
//   distBarrier(g) / distBarrierAsync
//   distBroadcastCoalesced(g, tensors, bufferBytes, src)      DDP's parameter and buffer sync, in place
//
// The rendezvous (TCPStore, then the backend connecting every rank) runs on a worker thread. A
// collective is issued on the JS thread, so every rank issues the same sequence in its call order, and
// waited for there (plain form) or on a worker thread (Async form: the Promise settles when the Work
// completes, and the caller leaves the tensors alone until then). With NCCL, as in PyTorch, waiting
// orders the caller's CUDA stream after the collective rather than blocking the host: work queued on
// that stream afterwards sees the result. A peer that dies or stops answering fails the wait: Gloo
// reports a closed connection at once, anything else times out (NCCL's watchdog then ends the process,
// PyTorch's default, unless TORCH_NCCL_ASYNC_ERROR_HANDLING says otherwise).
#include <c10/core/GradMode.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "async.h"
#include "distributed.h"
#include "errors.h"
#include "tagged_external.h"

namespace tn {
namespace {

struct GroupBox {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;  // null once destroyed
};
const TaggedExternal<GroupBox> kGroups{0x64697374706772ULL};

Napi::Value WrapGroup(Napi::Env env, c10::intrusive_ptr<c10d::ProcessGroup> pg) { return kGroups.Make(env, new GroupBox{std::move(pg)}); }

GroupBox* BoxArg(const Args& a, size_t i) { return &kGroups.Unwrap(a, i, "a process group handle"); }

// ---- rendezvous ----

enum class BackendKind { Gloo, Nccl };

BackendKind BackendArg(const Args& a, size_t i) {
  std::string name = a.string(i);
  if (name == "gloo") return BackendKind::Gloo;
  if (name == "nccl") {
#ifdef TORCHNODE_NCCL
    return BackendKind::Nccl;
#else
    ThrowTorch(a.env(), ErrorKind::Torch,
               "the 'nccl' backend is not in this build of torchnode: it needs a CUDA LibTorch and NCCL's header (nccl.h) "
               "when the addon is built (set NCCL_INCLUDE_DIR and rebuild)");
#endif
  }
  ThrowTypeError(a.env(), "backend must be 'gloo' or 'nccl' (got '" + name + "')");
}

class InitWorker final : public PromiseWorker {
 public:
  InitWorker(Napi::Env env, BackendKind kind, std::string host, int port, int rank, int size, int64_t timeoutMs, bool hostStore,
             std::string prefix)
      : PromiseWorker(env, "torchnode.distributed.init"),
        kind_(kind),
        host_(std::move(host)),
        port_(port),
        rank_(rank),
        size_(size),
        timeout_(timeoutMs),
        hostStore_(hostStore),
        prefix_(std::move(prefix)) {}

 private:
  void Run() override {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port_);
    o.isServer = hostStore_;
    o.numWorkers = size_;
    o.waitWorkers = true;
    o.timeout = timeout_;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(host_, o);
    if (!prefix_.empty()) store = c10::make_intrusive<c10d::PrefixStore>(prefix_, store);
    auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, rank_, size_);
    using BT = c10d::ProcessGroup::BackendType;
    if (kind_ == BackendKind::Gloo) {
      // As PyTorch's 'gloo': one backend for CPU tensors and (copied through the host) CUDA tensors.
      auto backend = MakeGlooBackend(store, rank_, size_, timeout_);
      pg->setBackend(c10::DeviceType::CPU, BT::GLOO, backend);
      pg->setBackend(c10::DeviceType::CUDA, BT::GLOO, backend);
      pg->setDefaultBackend(BT::GLOO);
    } else {
#ifdef TORCHNODE_NCCL
      auto backend = MakeNcclBackend(store, rank_, size_, timeout_);
      pg->setBackend(c10::DeviceType::CUDA, BT::NCCL, backend);
      pg->setDefaultBackend(BT::NCCL);
#endif
    }
    pg->setGroupName("0");  // PyTorch's name for the default group
    pg_ = std::move(pg);
  }
  Napi::Value Result(Napi::Env env) override { return WrapGroup(env, std::move(pg_)); }

  BackendKind kind_;
  std::string host_;
  int port_, rank_, size_;
  std::chrono::milliseconds timeout_;
  bool hostStore_;
  std::string prefix_;
  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
};

// distInitAsync(backend, host, port, rank, worldSize, timeoutMs, hostStore, prefix): hostStore: this rank
// runs the TCPStore server (rank 0, unless a launcher's agent already does); prefix: the store's key prefix.
Napi::Value InitAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  BackendKind kind = BackendArg(a, 0);
  std::string host = a.string(1);
  int64_t port = a.int64(2), rank = a.int64(3), size = a.int64(4), timeoutMs = a.int64(5);
  if (port < 1 || port > 65535) ThrowRangeError(a.env(), "port must be in 1..65535 (got " + std::to_string(port) + ")");
  if (size < 1 || rank < 0 || rank >= size) {
    ThrowRangeError(a.env(),
                    "rank must be in 0..worldSize-1 (got rank " + std::to_string(rank) + ", worldSize " + std::to_string(size) + ")");
  }
  if (timeoutMs < 1) ThrowRangeError(a.env(), "timeout must be a positive number of milliseconds");
  bool hostStore = a.boolean(6);
  std::string prefix = a.string(7);
  auto* w = new InitWorker(a.env(), kind, host, static_cast<int>(port), static_cast<int>(rank), static_cast<int>(size), timeoutMs,
                           hostStore, std::move(prefix));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("gloo", true);
#ifdef TORCHNODE_NCCL
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  return o;
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), GroupArg(a, 0)->getRank());
}

Napi::Value WorldSize(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), GroupArg(a, 0)->getSize());
}

Napi::Value BackendName(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::String::New(a.env(), GroupArg(a, 0)->getBackendName());
}

// As destroy_process_group: the backends are shut down first (NCCL's communicators end cleanly; its
// destructor alone would abort them), then the group is dropped, also when the shutdown fails.
template <typename PG, typename = void>
struct HasShutdown : std::false_type {};
template <typename PG>
struct HasShutdown<PG, std::void_t<decltype(std::declval<PG&>().shutdown())>> : std::true_type {};

template <typename PG>
void DropGroup(c10::intrusive_ptr<PG>& pg) {
  if (!pg) return;
  auto dropped = std::move(pg);
  if constexpr (HasShutdown<PG>::value) dropped->shutdown();
}

// Drops the group now (its backend's threads and connections end with it); idempotent.
Napi::Value Destroy(const Napi::CallbackInfo& info) {
  Args a(info);
  DropGroup(BoxArg(a, 0)->pg);
  return a.env().Undefined();
}

// ---- collectives ----

class WaitWorker final : public PromiseWorker {
 public:
  WaitWorker(Napi::Env env, c10::intrusive_ptr<c10d::Work> work)
      : PromiseWorker(env, "torchnode.distributed.wait"), work_(std::move(work)) {}

 private:
  void Run() override { work_->wait(); }
  Napi::Value Result(Napi::Env env) override {
    work_.reset();
    return env.Undefined();
  }
  c10::intrusive_ptr<c10d::Work> work_;
};

// Waits for the work here, or returns a Promise that a worker thread settles.
template <bool Async>
Napi::Value Finish(Napi::Env env, c10::intrusive_ptr<c10d::Work> work) {
  if constexpr (!Async) {
    work->wait();
    return env.Undefined();
  } else {
    auto* w = new WaitWorker(env, std::move(work));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
}

c10d::ReduceOp OpArg(const Args& a, size_t i) {
  std::string op = a.string(i);
  using R = c10d::ReduceOp;
  if (op == "sum") return R::SUM;
  if (op == "product") return R::PRODUCT;
  if (op == "min") return R::MIN;
  if (op == "max") return R::MAX;
  if (op == "band") return R::BAND;
  if (op == "bor") return R::BOR;
  if (op == "bxor") return R::BXOR;
  if (op == "avg") return R::AVG;
  ThrowTypeError(a.env(), "op must be one of sum, product, min, max, band, bor, bxor, avg (got '" + op + "')");
}

template <bool Async>
Napi::Value AllReduce(const Napi::CallbackInfo& info) {  // (g, tensors, op)
  Args a(info);
  auto pg = GroupArg(a, 0);
  std::vector<at::Tensor> tensors = a.tensorList(1);
  c10d::AllreduceOptions o;
  o.reduceOp = OpArg(a, 2);
  return Finish<Async>(a.env(), pg->allreduce(tensors, o));
}

template <bool Async>
Napi::Value Broadcast(const Napi::CallbackInfo& info) {  // (g, tensors, src)
  Args a(info);
  auto pg = GroupArg(a, 0);
  std::vector<at::Tensor> tensors = a.tensorList(1);
  c10d::BroadcastOptions o;
  o.rootRank = a.int64(2);
  return Finish<Async>(a.env(), pg->broadcast(tensors, o));
}

template <bool Async>
Napi::Value AllGather(const Napi::CallbackInfo& info) {  // (g, outputs, input)
  Args a(info);
  auto pg = GroupArg(a, 0);
  std::vector<std::vector<at::Tensor>> outputs{a.tensorList(1)};
  std::vector<at::Tensor> inputs{a.tensor(2)};
  return Finish<Async>(a.env(), pg->allgather(outputs, inputs));
}

template <bool Async>
Napi::Value Barrier(const Napi::CallbackInfo& info) {  // (g)
  Args a(info);
  auto pg = GroupArg(a, 0);
  return Finish<Async>(a.env(), pg->barrier());
}

// distBroadcastCoalesced(g, tensors, bufferBytes, src): rank src's values into every rank's tensors,
// packed into few broadcasts (as torch.distributed._broadcast_coalesced, what DDP syncs states with).
Napi::Value BroadcastCoalesced(const Napi::CallbackInfo& info) {
  Args a(info);
  auto pg = GroupArg(a, 0);
  std::vector<at::Tensor> tensors = a.tensorList(1);
  int64_t bufferBytes = a.int64(2), src = a.int64(3);
  if (bufferBytes < 1) ThrowRangeError(a.env(), "bufferBytes must be positive");
  c10::AutoGradMode noGrad(false);
  std::vector<at::Tensor> detached;
  detached.reserve(tensors.size());
  for (const auto& t : tensors) detached.push_back(t.detach());
  c10d::broadcast_coalesced(pg, detached, static_cast<size_t>(bufferBytes), static_cast<int>(src));
  return a.env().Undefined();
}

}  // namespace

c10::intrusive_ptr<c10d::ProcessGroup> GroupArg(const Args& a, size_t i) {
  GroupBox* box = BoxArg(a, i);
  if (!box->pg) ThrowTorch(a.env(), ErrorKind::Torch, "this process group was destroyed; call initProcessGroup again");
  return box->pg;
}

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
  Export<Backends>(env, exports, "distBackends");
  Export<InitAsync>(env, exports, "distInitAsync");
  Export<Rank>(env, exports, "distRank");
  Export<WorldSize>(env, exports, "distWorldSize");
  Export<BackendName>(env, exports, "distBackendName");
  Export<Destroy>(env, exports, "distDestroy");
  Export<AllReduce<false>>(env, exports, "distAllReduce");
  Export<AllReduce<true>>(env, exports, "distAllReduceAsync");
  Export<Broadcast<false>>(env, exports, "distBroadcast");
  Export<Broadcast<true>>(env, exports, "distBroadcastAsync");
  Export<AllGather<false>>(env, exports, "distAllGather");
  Export<AllGather<true>>(env, exports, "distAllGatherAsync");
  Export<Barrier<false>>(env, exports, "distBarrier");
  Export<Barrier<true>>(env, exports, "distBarrierAsync");
  Export<BroadcastCoalesced>(env, exports, "distBroadcastCoalesced");
}

}  // namespace tn
