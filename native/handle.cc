#include "handle.h"

#include "errors.h"

namespace tn {

// Tags our externals so a foreign external (another addon's) is never taken for a TensorBox.
static const napi_type_tag kTensorTag = {0x746f7263686e6f64ULL, 0x54656e736f72426fULL};

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

static int64_t CpuBytes(const at::Tensor& t) {
  return t.defined() && t.is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0;
}

static void Link(Addon& addon, TensorBox* box) {
  box->owner = &addon;
  box->prev = addon.live;
  box->next = addon.live->next;
  addon.live->next->prev = box;
  addon.live->next = box;
  ++addon.liveCount;
}

static void Unlink(TensorBox* box) {
  box->prev->next = box->next;
  box->next->prev = box->prev;
  box->prev = box->next = nullptr;
  --box->owner->liveCount;
}

bool Release(Napi::Env env, TensorBox* box) {
  if (!box->live()) return false;
  Unlink(box);
  box->tensor.reset();
  if (box->reportedBytes) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -box->reportedBytes);
    box->reportedBytes = 0;
  }
  return true;
}

static void Finalize(napi_env env, void* data, void* /*hint*/) {
  auto* box = static_cast<TensorBox*>(data);
  if (box->live()) {
    Unlink(box);
    box->tensor.reset();
    if (box->reportedBytes) {
      int64_t ignored;
      napi_adjust_external_memory(env, -box->reportedBytes, &ignored);
    }
  }
  delete box;
}

Napi::Value Wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* box = new TensorBox();
  box->tensor = std::move(tensor);
  napi_value ext;
  napi_status status = napi_create_external(env, box, Finalize, nullptr, &ext);
  if (status != napi_ok) {
    delete box;
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  napi_type_tag_object(env, ext, &kTensorTag);
  Link(GetAddon(env), box);
  box->reportedBytes = CpuBytes(box->tensor);
  if (box->reportedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, box->reportedBytes);
  return Napi::Value(env, ext);
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, tensors[i]));
  return out;
}

bool IsHandle(Napi::Env env, Napi::Value v) {
  if (!v.IsExternal()) return false;
  bool tagged = false;
  napi_check_object_type_tag(env, v, &kTensorTag, &tagged);
  return tagged;
}

TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* what) {
  if (!IsHandle(env, v)) ThrowTypeError(env, std::string(what) + " must be a Tensor");
  return static_cast<TensorBox*>(v.As<Napi::External<TensorBox>>().Data());
}

const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what) {
  TensorBox* box = BoxOf(env, v, what);
  if (!box->live()) ThrowTorch(env, ErrorKind::Torch, std::string(what) + " is a disposed Tensor");
  if (box->owner != &GetAddon(env)) {
    ThrowTorch(env, ErrorKind::Torch, std::string(what) + " belongs to another thread (worker); move data with .data()");
  }
  return box->tensor;
}

}  // namespace tn
