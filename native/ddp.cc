// DistributedDataParallel's engine: c10d's own Reducer, set up as torch.nn.parallel.DistributedDataParallel
// sets it up. The Reducer hooks each parameter's gradient accumulator; during backward it copies ready
// gradients into buckets, all-reduces each full bucket while backward goes on, and at the end of
// backward writes the averaged gradients back into .grad. lib/nn/parallel.ts drives it per step.
//
//   ddpVerifyParams(g, params)                     same count, shapes and dtypes on every rank (collective)
//   ddpCreate(g, params, names, bucketBytes, firstBucketBytes, findUnused, gradientAsBucketView, moduleName,
//             broadcastBuffers) -> reducer
//   ddpPrepareForward(r)        before a forward whose backward is synced (also runtime logging stats)
//   ddpRebuildBuckets(r) -> bool   after the first iteration: buckets in the order gradients became ready
//   ddpPrepareForBackward(r, outputs)   after that forward: the next backward all-reduces
//   ddpDispose(r)               removes the hooks
//
// The hooks run on whichever thread runs backward (the JS thread, or a worker for an off-thread step);
// they never touch JS values.
#include <torch/csrc/distributed/c10d/logger.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "distributed.h"
#include "errors.h"
#include "reducer_compat.h"
#include "tagged_external.h"

namespace tn {
namespace {

struct ReducerBox {
  std::shared_ptr<c10d::Reducer> reducer;  // null once disposed
  std::shared_ptr<c10d::Logger> logger;

  void reset() {
    logger.reset();  // the Logger's destructor reads the Reducer: it goes first, as in PyTorch
    reducer.reset();
  }
};
void FinalizeReducer(ReducerBox* b) {
  try {
    b->reset();
  } catch (...) {  // the Reducer's destructor may throw (noexcept(false)); a finalizer must not
  }
  delete b;
}
const TaggedExternal<ReducerBox> kReducers{0x6464707265647563ULL, &FinalizeReducer};

ReducerBox* BoxArg(const Args& a, size_t i) { return &kReducers.Unwrap(a, i, "a DDP reducer handle"); }

c10d::Reducer& ReducerArg(const Args& a, size_t i) {
  ReducerBox* box = BoxArg(a, i);
  if (!box->reducer) ThrowTorch(a.env(), ErrorKind::Torch, "this DistributedDataParallel was disposed");
  return *box->reducer;
}

Napi::Value VerifyParams(const Napi::CallbackInfo& info) {  // (g, params)
  Args a(info);
  c10d::verify_params_across_processes(GroupArg(a, 0), a.tensorList(1), std::nullopt);
  return a.env().Undefined();
}

Napi::Value Create(const Napi::CallbackInfo& info) {
  Args a(info);
  auto pg = GroupArg(a, 0);
  std::vector<at::Tensor> params = a.tensorList(1);
  if (!a[2].IsArray()) a.fail(2, "an array of parameter names");
  Napi::Array nameArray = a[2].As<Napi::Array>();
  if (nameArray.Length() != params.size()) ThrowRangeError(a.env(), "one name per parameter");
  std::unordered_map<size_t, std::string> names;
  for (uint32_t k = 0; k < nameArray.Length(); ++k) names[k] = nameArray.Get(k).ToString().Utf8Value();
  int64_t bucketBytes = a.int64(3), firstBucketBytes = a.int64(4);
  bool findUnused = a.boolean(5), asView = a.boolean(6);
  std::string moduleName = a.string(7);
  bool broadcastBuffers = a.boolean(8);
  if (bucketBytes < 1 || firstBucketBytes < 1) ThrowRangeError(a.env(), "bucket sizes must be positive");
  for (const auto& p : params) TORCH_CHECK_VALUE(p.requires_grad(), "DistributedDataParallel: every parameter given must require grad");

  // As DistributedDataParallel._ddp_init_helper: without unused-parameter detection the first
  // iteration has one bucket; the Reducer rebuilds buckets in gradient order after it.
  std::vector<size_t> limits;
  if (!findUnused)
    limits = {static_cast<size_t>(std::numeric_limits<int64_t>::max())};
  else if (firstBucketBytes < bucketBytes)
    limits = {static_cast<size_t>(firstBucketBytes), static_cast<size_t>(bucketBytes)};
  else
    limits = {static_cast<size_t>(bucketBytes)};
  std::vector<bool> sparse(params.size(), false);
  std::vector<std::vector<size_t>> buckets = std::get<0>(c10d::compute_bucket_assignment_by_size(params, limits, sparse));
  // Gradients are produced roughly in reverse order of definition.
  std::reverse(buckets.begin(), buckets.end());

  auto box = std::make_unique<ReducerBox>();
  box->reducer = MakeReducer<c10d::Reducer>(params, std::move(buckets), pg, std::move(sparse), bucketBytes, findUnused, asView,
                                            std::move(names), firstBucketBytes);
  box->logger = std::make_shared<c10d::Logger>(box->reducer);
  box->reducer->set_logger(box->logger);
  box->logger->set_construction_data_and_log(moduleName, {}, -1, broadcastBuffers, /*has_sync_bn=*/false, /*static_graph=*/false);

  return kReducers.Make(a.env(), box.release());
}

Napi::Value PrepareForward(const Napi::CallbackInfo& info) {
  Args a(info);
  ReducerBox* box = BoxArg(a, 0);
  c10d::Reducer& r = ReducerArg(a, 0);
  box->logger->set_runtime_stats_and_log();
  r.prepare_for_forward();
  return a.env().Undefined();
}

Napi::Value RebuildBuckets(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), ReducerArg(a, 0).rebuild_buckets());
}

Napi::Value PrepareForBackward(const Napi::CallbackInfo& info) {  // (r, outputs)
  Args a(info);
  c10d::Reducer& r = ReducerArg(a, 0);
  r.prepare_for_backward(a.tensorList(1));
  return a.env().Undefined();
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Args a(info);
  BoxArg(a, 0)->reset();
  return a.env().Undefined();
}

}  // namespace

void RegisterDdp(Napi::Env env, Napi::Object exports) {
  Export<VerifyParams>(env, exports, "ddpVerifyParams");
  Export<Create>(env, exports, "ddpCreate");
  Export<PrepareForward>(env, exports, "ddpPrepareForward");
  Export<RebuildBuckets>(env, exports, "ddpRebuildBuckets");
  Export<PrepareForBackward>(env, exports, "ddpPrepareForBackward");
  Export<Dispose>(env, exports, "ddpDispose");
}

}  // namespace tn
