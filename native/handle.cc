#include "handle.h"

#include "errors.h"

namespace tn {


Addon::Addon() : live(new TensorBox()) { live->prev = live->next = live; }

Addon::~Addon() {
  // Environment teardown (worker exit): Node runs the externals' finalizers before this, but drop any
  // reference still listed so no tensor outlives its environment.
  for (TensorBox* b = live->next; b != live;) {
    TensorBox* next = b->next;
    b->tensor.reset();
    b->prev = b->next = nullptr;
    b->owner = nullptr;
    b = next;
  }
  delete live;
}

// Tiny tensors are not reported to V8: the call costs more than the signal is worth.
static constexpr int64_t kReportThreshold = 4096;

static int64_t CpuBytes(const at::Tensor& t) {
  if (!t.defined() || !t.is_cpu()) return 0;
  int64_t bytes = static_cast<int64_t>(t.nbytes());
  return bytes >= kReportThreshold ? bytes : 0;
}

static void Link(Addon& addon, TensorBox* box) {
  box->owner = &addon;
  box->prev = addon.live;
  box->next = addon.live->next;
  addon.live->next->prev = box;
  addon.live->next = box;
  ++addon.liveCount;
}

// Unlinks the box and drops its tensor; returns the bytes to take back from V8's count.
static int64_t Drop(TensorBox* box) {
  if (box->prev) {
    box->prev->next = box->next;
    box->next->prev = box->prev;
    box->prev = box->next = nullptr;
    --box->owner->liveCount;
  }
  box->tensor.reset();
  int64_t bytes = box->reportedBytes;
  box->reportedBytes = 0;
  return bytes;
}

// The GC backstop for a handle that was never disposed.
static void Finalize(napi_env env, void* data, void* /*hint*/) {
  auto* box = static_cast<TensorBox*>(data);
  if (int64_t bytes = Drop(box)) {
    int64_t ignored;
    napi_adjust_external_memory(env, -bytes, &ignored);
  }
  box->magic = 0;
  delete box;
}

Napi::Value Wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  napi_value obj;
  NAPI_THROW_IF_FAILED(env, napi_create_object(env, &obj), Napi::Value());
  auto* box = new TensorBox();
  box->tensor = std::move(tensor);
  napi_status status = napi_wrap(env, obj, box, Finalize, nullptr, nullptr);
  if (status != napi_ok) {
    delete box;
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  Link(GetAddon(env), box);
  box->reportedBytes = CpuBytes(box->tensor);
  if (box->reportedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, box->reportedBytes);
  return Napi::Value(env, obj);
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, tensors[i]));
  return out;
}

bool IsHandle(Napi::Env env, Napi::Value v) {
  return v.IsObject();
}

TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* what) {
  // One unwrap and a magic check. A disposed handle has had its wrap removed; lib/ reports that case
  // precisely before calling in, so here it only has to be refused.
  void* data = nullptr;
  if (napi_unwrap(env, v, &data) == napi_ok && data && static_cast<TensorBox*>(data)->magic == TensorBox::kMagic) {
    return static_cast<TensorBox*>(data);
  }
  return nullptr;
}

bool Dispose(Napi::Env env, Napi::Value v) {
  TensorBox* box = BoxOf(env, v, "tensor");
  if (!box) {
    if (!v.IsObject()) ThrowTypeError(env, "dispose: argument must be a Tensor handle");
    return false;
  }
  if (box->owner != &GetAddon(env)) ThrowTorch(env, ErrorKind::Torch, "a Tensor can only be disposed in the thread that made it");
  void* removed = nullptr;
  napi_remove_wrap(env, v, &removed);  // deletes the finalizer record now, not at the next GC
  if (int64_t bytes = Drop(box)) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
  box->magic = 0;
  delete box;
  return true;
}

const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what) {
  TensorBox* box = BoxOf(env, v, what);
  if (!box) ThrowTypeError(env, std::string(what) + " must be a live Tensor (got a disposed Tensor or another value)");
  if (box->owner != &GetAddon(env)) {
    ThrowTorch(env, ErrorKind::Torch, std::string(what) + " belongs to another thread (worker); move data with .data()");
  }
  return box->tensor;
}

}  // namespace tn
