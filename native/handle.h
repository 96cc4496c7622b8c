// A JS tensor handle is a BigInt that names a slot of this environment's handle table. The slot (a
// TensorBox) holds one reference to an at::Tensor. Making a handle allocates nothing but the BigInt:
// no wrapped object, no Node-API reference, no finalizer record (napi_wrap and externals cost more than
// a 1-element add). dispose() drops the reference and frees the slot at once; the slot's generation
// moves on, so a stale handle is refused, never taken for the slot's next tenant. Slots live in chunks
// that never move, so a TensorBox* stays valid while its handle is live.
//
// A handle's value is 2^63 | thread tag << 56 | generation << 24 | slot: always at least 2^63, so never
// a valid int64 and never confused with a BigInt scalar (those must fit int64), and tagged with its
// environment (worker thread), so a handle that reached another thread is refused there.
//
// A handle that is never disposed is released when the garbage collector takes the JS Tensor holding it:
// lib/tensor.ts attaches a Node-API finalizer to each Tensor that no scope owns (AttachCollector below).
// Built as Node-API's experimental version, the finalizer runs during the collection itself (Node >=
// 20.10), so even a loop that never yields frees what it no longer references; it only notes the handle,
// and the next Wrap (or a drain posted for after the GC) releases it, outside the collector. V8 sees each
// tensor's bytes (AdjustExternalMemory), so it collects as tensor memory grows. A handle therefore
// belongs in a Tensor (lib/tensor.ts wrap()) as soon as it reaches JS.
#pragma once
#include <napi.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "addon.h"

namespace tn {

struct TensorBox {
  at::Tensor tensor;          // defined while the handle is live
  Addon* owner = nullptr;     // the environment whose table holds the box
  int64_t reportedBytes = 0;  // bytes reported to V8 (AdjustExternalMemory)
  uint32_t gen = 1;           // the generation of the slot's current (or next) handle; never 0
  uint32_t nextFree = 0;      // free-list link while the slot is free
};

// The slots of one environment.
class HandleTable {
 public:
  static constexpr int kSlotBits = 24;  // up to 16,777,216 live handles per thread
  static constexpr uint32_t kChunk = 4096;

  HandleTable();
  ~HandleTable();
  // The box of a handle value if it names a live handle of this table, else nullptr.
  TensorBox* Find(uint64_t value);
  // True if the value is a handle made by another environment (thread) of this addon.
  bool Foreign(uint64_t value) const;
  int64_t live() const { return live_; }
  // A handle whose JS Tensor was garbage collected: released by ReleaseCollected, never here (this runs
  // inside the collector).
  void Collected(uint64_t value) { collected_.push_back(value); }
  bool HasCollected() const { return !collected_.empty(); }
  // Releases the collected handles still live (not disposed meanwhile); returns the bytes they reported.
  int64_t ReleaseCollected();
  // Drops the reference of live handle `value` (its box) and frees its slot; returns the bytes it reported.
  int64_t Free(TensorBox& box, uint64_t value);
  // Calls f(TensorBox&) for every live handle.
  template <typename F>
  void ForEachLive(F&& f) {
    for (uint32_t s = 0; s < size_; ++s) {
      TensorBox& b = At(s);
      if (b.tensor.defined()) f(b);
    }
  }

 private:
  friend Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
  friend bool Dispose(Napi::Env env, Napi::Value v);
  TensorBox& At(uint32_t slot) { return chunks_[slot / kChunk][slot % kChunk]; }
  uint64_t Encode(uint32_t slot) { return kMarker | tag_ | (uint64_t{At(slot).gen} << kSlotBits) | slot; }
  uint32_t Acquire(Napi::Env env);  // a free slot; throws when the table is full
  void Release(uint32_t slot);      // its tensor already reset; the generation moves on

  static constexpr uint64_t kMarker = uint64_t{1} << 63;
  static constexpr int kTagShift = 56;
  uint64_t tag_;  // this environment's tag, in place
  std::vector<std::unique_ptr<TensorBox[]>> chunks_;
  uint32_t size_ = 0;               // slots handed out at least once
  uint32_t freeHead_ = UINT32_MAX;  // free list, LIFO: the slot just freed is warm in cache
  int64_t live_ = 0;
  std::vector<uint64_t> collected_;  // filled by finalizers, possibly in the middle of a GC
  std::vector<uint64_t> draining_;   // what ReleaseCollected works through: a GC meanwhile adds to collected_
};

// Wraps a tensor in a new handle (an undefined tensor becomes null: e.g. a missing .grad).
Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
// Wraps each tensor; returns a JS array of handles.
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
// True if v is meant as a tensor (a handle, or any object) rather than a number, boolean or int64 BigInt
// operand; Unwrap then checks it is a live handle of ours.
bool IsHandle(Napi::Env env, Napi::Value v);
// True if v has a handle's shape (a BigInt of at least 2^63), live or not: what Unwrap accepts or
// explains (disposed, another thread's). IsHandle also says yes to any object, for operands.
bool IsTensorHandle(Napi::Env env, Napi::Value v);
// The tensor of handle v; a TypeError naming `what` if v is not a live handle (a TorchError if it is
// another thread's).
const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what);
// Drops handle v's reference now and frees its slot. Returns false if it was already disposed.
bool Dispose(Napi::Env env, Napi::Value v);
// Releases the handles whose Tensors were garbage collected (AttachCollector), and tells V8.
void ReleaseCollected(Napi::Env env);
// The box of handle v, or nullptr if v is not a live handle (disposed, or not ours); `value` gets the
// handle's value when given.
TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* what, uint64_t* value = nullptr);

}  // namespace tn
