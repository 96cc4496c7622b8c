// torch.data's native side (lib/data): gathering a batch out of a tensor-backed dataset, in three forms
// that share one function, Gather():
//   dataGather(...)        on the JS thread (TensorDataset.getBatch, a DataLoader with prefetch off);
//   dataGatherAsync(...)   a PromiseWorker (async.h) on libuv's pool, resolving with the new handles (the
//                          async iterator starts batch i+1 before it yields batch i);
//   dataGatherStart(...)   a job on ATen's inter-op pool that dataGatherWait(job) collects, so the
//                          synchronous iterator also assembles batch i+1 while the caller's step runs.
// The worker threads touch only at::Tensors (references taken on the JS thread), never JS values;
// handles are made (Wrap) back on the JS thread. Plus the loader's shuffling with PyTorch's generators
// (so an order matches torch.utils.data.DataLoader's) and SyntheticDataset's deterministic data.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/StreamGuard.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "tagged_external.h"

namespace tn {
namespace {

// ---- gathering ----

struct GatherRequest {
  at::Tensor data;
  at::Tensor targets;  // undefined for an inputs-only dataset
  at::Tensor indices;  // 1-D int64
  std::optional<c10::Device> device;
  bool pin = false;      // gather into page-locked memory (CUDA builds, asked for by lib/data only then)
  bool toFloat = false;  // uint8 inputs become float32 / 255 (ToTensor's scaling, fused)
  // The caller's current stream on a CUDA target: a worker thread copies on it too, so the batch is
  // ordered before, and its memory tied to, the stream that will read it.
  std::optional<c10::Stream> stream;
};

struct GatherResult {
  at::Tensor inputs;
  at::Tensor targets;
};

at::Tensor GatherOne(const at::Tensor& src, const at::Tensor& indices, const GatherRequest& r) {
  at::Tensor index = indices.device() == src.device() ? indices : indices.to(src.device());
  at::Tensor out;
  if (r.pin && src.is_cpu()) {
    // Straight into page-locked memory: one pass, and the copy to the GPU below can be asynchronous.
    std::vector<int64_t> sizes = src.sizes().vec();
    sizes[0] = index.numel();
    out = at::empty(sizes, src.options().pinned_memory(true));
    at::index_select_out(out, src, 0, index);
  } else {
    out = at::index_select(src, 0, index);
  }
  if (r.device && out.device() != *r.device) {
    bool nonBlocking = r.device->is_cuda() && out.is_cpu() && r.pin;
    out = out.to(*r.device, /*non_blocking=*/nonBlocking, /*copy=*/false);
  }
  return out;
}

// Runs on whichever thread calls it; touches only tensors.
GatherResult Gather(const GatherRequest& r) {
  at::NoGradGuard noGrad;  // a batch is data, never part of a graph (and the thread's grad mode is its own)
  std::optional<c10::StreamGuard> onCallerStream;
  if (r.stream) onCallerStream.emplace(*r.stream);
  GatherResult out;
  out.inputs = GatherOne(r.data, r.indices, r);
  if (r.toFloat && out.inputs.scalar_type() == at::kByte) out.inputs = out.inputs.to(at::kFloat).div_(255);
  if (r.targets.defined()) out.targets = GatherOne(r.targets, r.indices, r);
  return out;
}

// (data, targets?, indices, device?, pin, toFloat) → a request; the checks that need no data run here,
// on the JS thread, so a bad call throws at once instead of rejecting later.
GatherRequest ReadRequest(const Args& a) {
  GatherRequest r;
  r.data = a.tensor(0);
  if (auto t = a.optTensor(1)) r.targets = *t;
  r.indices = a.tensor(2);
  r.device = a.optDevice(3);
  r.pin = a.boolean(4, false);
  r.toFloat = a.boolean(5, false);
  if (r.device && r.device->is_cuda()) {
    r.stream = at::accelerator::getCurrentStream(r.device->has_index() ? r.device->index() : at::accelerator::getDeviceIndex());
  }
  if (r.data.dim() < 1) ThrowRangeError(a.env(), "the dataset's inputs must have at least one dimension (samples first)");
  if (r.targets.defined()) {
    if (r.targets.dim() < 1) ThrowRangeError(a.env(), "the dataset's targets must have at least one dimension (samples first)");
    if (r.targets.size(0) != r.data.size(0)) {
      ThrowRangeError(a.env(), "the dataset's inputs hold " + std::to_string(r.data.size(0)) + " samples but its targets " +
                                   std::to_string(r.targets.size(0)));
    }
  }
  if (r.indices.dim() != 1 || (r.indices.scalar_type() != at::kLong && r.indices.scalar_type() != at::kInt)) {
    ThrowTypeError(a.env(), "indices must be a 1-D int64 or int32 tensor");
  }
  return r;
}

Napi::Value ResultPair(Napi::Env env, GatherResult&& r) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Wrap(env, std::move(r.inputs)));
  out.Set(1u, Wrap(env, std::move(r.targets)));  // null when there are no targets
  return out;
}

// dataGather(data, targets?, indices, device?, pin, toFloat) → [inputs, targets | null]
Napi::Value GatherSync(const Napi::CallbackInfo& info) {
  Args a(info);
  GatherRequest r = ReadRequest(a);
  return ResultPair(a.env(), Gather(r));
}

// dataGatherAsync's work. libuv's pool, not the compute thread: a gather is a copy, not repeated compute,
// and runs alongside the training step that the compute thread serves.
class GatherWorker final : public PromiseWorker {
 public:
  GatherWorker(Napi::Env env, GatherRequest request) : PromiseWorker(env, "torchnode.data.gather"), request_(std::move(request)) {}

 private:
  void Run() override {
    GatherRequest request = std::move(request_);  // the worker's references to the dataset go when Run ends, failed or not
    result_ = Gather(request);
  }
  Napi::Value Result(Napi::Env env) override { return ResultPair(env, std::move(result_)); }
  GatherRequest request_;
  GatherResult result_;
};

// dataGatherAsync(data, targets?, indices, device?, pin, toFloat) → Promise<[inputs, targets | null]>
Napi::Value GatherAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* worker = new GatherWorker(a.env(), ReadRequest(a));
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK / OnError
  return promise;
}

// A gather running on ATen's inter-op pool, for the synchronous iterator's prefetch.
struct Job {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool taken = false;
  GatherResult result;
  std::optional<Failure> failure;  // set when the gather threw
};
using JobRef = std::shared_ptr<Job>;
const TaggedExternal<JobRef> kJobs{0x64617461a06a6f62ULL};

// dataGatherStart(data, targets?, indices, device?, pin, toFloat) → job (an external)
Napi::Value GatherStart(const Napi::CallbackInfo& info) {
  Args a(info);
  GatherRequest request = ReadRequest(a);
  JobRef job = std::make_shared<Job>();
  at::launch([job, request]() {
    GatherResult result;
    std::optional<Failure> failure;
    try {
      result = Gather(request);
    } catch (...) {
      failure = CaptureCurrent();
    }
    {
      std::lock_guard<std::mutex> lock(job->mutex);
      job->result = std::move(result);
      job->failure = std::move(failure);
      job->done = true;
    }
    job->cv.notify_all();
  });
  // The pool's task holds its own reference: an abandoned job finishes and frees its tensors.
  return kJobs.Make(a.env(), new JobRef(job));
}

Job& JobOf(const Args& a, size_t i) { return *kJobs.Unwrap(a, i, "a gather job"); }

// dataGatherWait(job) → [inputs, targets | null]; blocks until the job is done.
Napi::Value GatherWait(const Napi::CallbackInfo& info) {
  Args a(info);
  Job& job = JobOf(a, 0);
  GatherResult result;
  {
    std::unique_lock<std::mutex> lock(job.mutex);
    job.cv.wait(lock, [&] { return job.done; });
    if (job.taken) ThrowTorch(a.env(), ErrorKind::Torch, "this batch was already collected");
    job.taken = true;
    if (job.failure) ThrowTorch(a.env(), job.failure->kind, job.failure->message);
    result = std::move(job.result);
  }
  return ResultPair(a.env(), std::move(result));
}

// dataGatherReady(job) → whether the job has finished (never blocks).
Napi::Value GatherReady(const Napi::CallbackInfo& info) {
  Args a(info);
  Job& job = JobOf(a, 0);
  std::lock_guard<std::mutex> lock(job.mutex);
  return Napi::Boolean::New(a.env(), job.done);
}

// ---- generators and shuffling ----

uint64_t SeedArg(const Args& a, size_t i) {
  Napi::Value v = a[i];
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t s = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowRangeError(a.env(), "seed must be a non-negative integer below 2**64");
    return s;
  }
  double d = a.number(i);
  if (!(d >= 0) || d != std::trunc(d) || d > static_cast<double>(kMaxSafeInteger))
    ThrowRangeError(a.env(), "seed must be a non-negative safe integer");
  return static_cast<uint64_t>(d);
}

// A generator handle cannot be passed where a gather job is expected, nor the reverse.
const TaggedExternal<at::Generator> kGenerators{0x6461746167656e31ULL};

// dataGenerator(seed) → a CPU generator (an external), as torch.Generator().manual_seed(seed).
Napi::Value MakeGenerator(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(SeedArg(a, 0));
  return kGenerators.Make(a.env(), new at::Generator(std::move(gen)));
}

// A generator argument, or nullopt (the default CPU generator, which torch.manualSeed seeds).
std::optional<at::Generator> OptGenerator(const Args& a, size_t i) {
  if (a.missing(i)) return std::nullopt;
  return kGenerators.Unwrap(a, i, "a generator");
}

// dataGeneratorState(generator) → uint8 tensor, and dataSetGeneratorState(generator, state): a DataLoader's
// own generator in a training checkpoint, so that a resumed run shuffles as an uninterrupted one.
at::Generator GeneratorArg(const Args& a, size_t i) {
  std::optional<at::Generator> gen = OptGenerator(a, i);
  if (!gen) a.fail(i, "a generator");
  return *gen;
}

Napi::Value GeneratorState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator gen = GeneratorArg(a, 0);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Wrap(a.env(), gen.get_state());
}

Napi::Value SetGeneratorState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator gen = GeneratorArg(a, 0);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(a.tensor(1));
  return a.env().Undefined();
}

// dataRandomSeed(generator?) → BigInt: torch.empty((), dtype=torch.int64).random_(generator=g).item(),
// the draw PyTorch's DataLoader and RandomSampler make for their seeds.
Napi::Value RandomSeed(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t s = at::empty({}, at::kLong).random_(OptGenerator(a, 0)).item<int64_t>();
  return Napi::BigInt::New(a.env(), s);
}

// dataRandperm(n, generator?) → int64 handle, as torch.randperm(n, generator=g).
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t n = a.int64(0);
  if (n < 0) ThrowRangeError(a.env(), "randperm: n must be non-negative");
  return Wrap(a.env(), at::randperm(n, OptGenerator(a, 1), at::kLong));
}

// dataSynthetic(size, shape, numClasses, seed) → [uint8 inputs [size, ...shape], int64 targets [size]]:
//   g = torch.Generator().manual_seed(seed)
//   torch.randint(0, 256, (size, *shape), generator=g, dtype=torch.uint8)
//   torch.randint(0, numClasses, (size,), generator=g)
Napi::Value Synthetic(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t size = a.int64(0);
  std::vector<int64_t> shape = a.intList(1);
  int64_t classes = a.int64(2);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(SeedArg(a, 3));
  std::vector<int64_t> full{size};
  full.insert(full.end(), shape.begin(), shape.end());
  at::Tensor x = at::randint(0, 256, full, gen, at::kByte);
  at::Tensor y = at::randint(0, classes, {size}, gen, at::kLong);
  return ResultPair(a.env(), GatherResult{std::move(x), std::move(y)});
}

}  // namespace

void RegisterData(Napi::Env env, Napi::Object exports) {
  Export<GatherSync>(env, exports, "dataGather");
  Export<GatherAsync>(env, exports, "dataGatherAsync");
  Export<GatherStart>(env, exports, "dataGatherStart");
  Export<GatherWait>(env, exports, "dataGatherWait");
  Export<GatherReady>(env, exports, "dataGatherReady");
  Export<MakeGenerator>(env, exports, "dataGenerator");
  Export<RandomSeed>(env, exports, "dataRandomSeed");
  Export<GeneratorState>(env, exports, "dataGeneratorState");
  Export<SetGeneratorState>(env, exports, "dataSetGeneratorState");
  Export<Randperm>(env, exports, "dataRandperm");
  Export<Synthetic>(env, exports, "dataSynthetic");
}

}  // namespace tn
