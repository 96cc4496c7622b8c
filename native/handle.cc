#include "handle.h"

#include <atomic>

#include "errors.h"

namespace tn {

Addon::Addon() : handles(new HandleTable()), collector(NewCollectorLink(handles.get())) {}
Addon::~Addon() { DetachCollectorLink(collector); }

// Environments get tags 0..127 in turn: handles of two threads alive at once differ unless 128 workers
// started in between.
static std::atomic<uint32_t> nextTag{0};

HandleTable::HandleTable() : tag_(uint64_t{nextTag.fetch_add(1) & 0x7f} << kTagShift) {}

// Environment teardown (worker exit, process exit): drop every reference still held, so no tensor
// outlives its environment.
HandleTable::~HandleTable() {
  ForEachLive([](TensorBox& b) { b.tensor.reset(); });
}

uint32_t HandleTable::Acquire(Napi::Env env) {
  if (freeHead_ != UINT32_MAX) {
    uint32_t slot = freeHead_;
    freeHead_ = At(slot).nextFree;
    return slot;
  }
  if (size_ == (uint32_t{1} << kSlotBits)) {
    ThrowTorch(env, ErrorKind::OutOfMemory,
               "too many live tensors (" + std::to_string(size_) + " in this thread): dispose() tensors or use torch.scope");
  }
  if (size_ % kChunk == 0) chunks_.emplace_back(new TensorBox[kChunk]);
  return size_++;
}

void HandleTable::Release(uint32_t slot) {
  TensorBox& box = At(slot);
  // 32 bits: a slot serves 4 billion handles. It is then retired rather than reused, so no old handle
  // (a disposed Tensor whose finalizer runs late) can ever name the slot's next tenant.
  if (++box.gen == 0) return;
  box.nextFree = freeHead_;
  freeHead_ = slot;
}

TensorBox* HandleTable::Find(uint64_t value) {
  if ((value & (kMarker | (uint64_t{0x7f} << kTagShift))) != (kMarker | tag_)) return nullptr;
  uint32_t slot = static_cast<uint32_t>(value & ((uint64_t{1} << kSlotBits) - 1));
  uint32_t gen = static_cast<uint32_t>(value >> kSlotBits);
  if (slot >= size_) return nullptr;
  TensorBox& box = At(slot);
  return box.gen == gen && box.tensor.defined() ? &box : nullptr;
}

bool HandleTable::Foreign(uint64_t value) const { return (value & kMarker) && (value & (uint64_t{0x7f} << kTagShift)) != tag_; }

static uint32_t SlotOf(uint64_t value) { return static_cast<uint32_t>(value & ((uint64_t{1} << HandleTable::kSlotBits) - 1)); }

int64_t HandleTable::Free(TensorBox& box, uint64_t value) {
  int64_t bytes = box.reportedBytes;
  box.reportedBytes = 0;
  box.tensor.reset();
  Release(SlotOf(value));
  --live_;
  return bytes;
}

int64_t HandleTable::ReleaseCollected() {
  draining_.swap(collected_);
  int64_t bytes = 0;
  for (uint64_t value : draining_) {
    if (TensorBox* box = Find(value)) bytes += Free(*box, value);  // else disposed before it was collected
  }
  draining_.clear();
  return bytes;
}

void ReleaseCollected(Napi::Env env) {
  HandleTable& table = *GetAddon(env).handles;
  if (!table.HasCollected()) return;
  if (int64_t bytes = table.ReleaseCollected()) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
}

// Tiny tensors are not reported to V8: the call costs more than the signal is worth. GPU bytes are
// reported too: V8 cannot see them, and a loop that drops CUDA tensors must make it collect all the same.
static constexpr int64_t kReportThreshold = 4096;

static int64_t ReportedBytes(const at::Tensor& t) {
  int64_t bytes = static_cast<int64_t>(t.nbytes());
  return bytes >= kReportThreshold ? bytes : 0;
}

Napi::Value Wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  Addon& addon = GetAddon(env);
  HandleTable& table = *addon.handles;
  if (table.HasCollected()) ReleaseCollected(env);
  uint32_t slot = table.Acquire(env);
  napi_value handle;
  napi_status status = napi_create_bigint_uint64(env, table.Encode(slot), &handle);
  if (status != napi_ok) {
    table.Release(slot);
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  TensorBox& box = table.At(slot);
  box.tensor = std::move(tensor);
  box.owner = &addon;
  ++table.live_;
  box.reportedBytes = ReportedBytes(box.tensor);
  if (box.reportedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, box.reportedBytes);
  return Napi::Value(env, handle);
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, tensors[i]));
  return out;
}

// The value of a handle-shaped BigInt (at least 2^63, below 2^64), or false.
static bool HandleValue(Napi::Env env, Napi::Value v, uint64_t* value) {
  bool lossless = false;
  return napi_get_value_bigint_uint64(env, v, value, &lossless) == napi_ok && lossless && (*value >> 63);
}

bool IsHandle(Napi::Env env, Napi::Value v) {
  uint64_t value;
  if (HandleValue(env, v, &value)) return true;  // other BigInts are int64 scalars
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok) return false;
  return type == napi_object || type == napi_external || type == napi_function;
}

bool IsTensorHandle(Napi::Env env, Napi::Value v) {
  uint64_t value;
  return HandleValue(env, v, &value);
}

TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* /*what*/, uint64_t* value) {
  uint64_t parsed;
  if (!HandleValue(env, v, &parsed)) return nullptr;
  if (value) *value = parsed;
  return GetAddon(env).handles->Find(parsed);
}

bool Dispose(Napi::Env env, Napi::Value v) {
  uint64_t value;
  if (!HandleValue(env, v, &value)) {
    if (!IsHandle(env, v)) ThrowTypeError(env, "dispose: argument must be a Tensor handle");
    return false;
  }
  HandleTable& table = *GetAddon(env).handles;
  TensorBox* box = table.Find(value);
  if (!box) {
    if (table.Foreign(value)) ThrowTorch(env, ErrorKind::Torch, "a Tensor can only be disposed in the thread that made it");
    return false;
  }
  if (int64_t bytes = table.Free(*box, value)) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
  return true;
}

const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what) {
  uint64_t value;
  if (HandleValue(env, v, &value)) {
    HandleTable& table = *GetAddon(env).handles;
    if (TensorBox* box = table.Find(value)) return box->tensor;
    if (table.Foreign(value)) {
      ThrowTorch(env, ErrorKind::Torch, std::string(what) + " belongs to another thread (worker); move data with .data()");
    }
  }
  ThrowTypeError(env, std::string(what) + " must be a live Tensor (got a disposed Tensor or another value)");
}

}  // namespace tn
