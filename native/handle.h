// A JS tensor handle is a plain object with a TensorBox wrapped in it (napi_wrap); the box holds one
// reference to an at::Tensor. dispose() drops the reference and removes the wrap at once, so nothing is
// left for the garbage collector: Node runs Node-API finalizers from the event loop, and a synchronous
// loop must not pile them up. The finalizer is only the backstop for handles never disposed.
#pragma once
#include <napi.h>
#include <ATen/core/Tensor.h>

#include "addon.h"

namespace tn {

struct TensorBox {
  static constexpr uint64_t kMagic = 0x746f7263686e6f64ULL;  // "torchnod": a wrapped pointer is ours
  uint64_t magic = kMagic;
  at::Tensor tensor;
  Addon* owner = nullptr;
  TensorBox* prev = nullptr;  // links in owner's live list while the tensor is held
  TensorBox* next = nullptr;
  int64_t reportedBytes = 0;  // CPU bytes reported to V8 (AdjustExternalMemory)
};

// Wraps a tensor in a new handle (an undefined tensor becomes null: e.g. a missing .grad).
Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
// Wraps each tensor; returns a JS array of handles.
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
// True if v is an object (a handle), as opposed to a number or boolean operand; Unwrap checks it is ours.
bool IsHandle(Napi::Env env, Napi::Value v);
// The tensor of handle v; a TypeError naming `what` if v is not a live handle.
const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what);
// Drops handle v's reference now and frees its box. Returns false if it was already disposed.
bool Dispose(Napi::Env env, Napi::Value v);
// The box of handle v, or nullptr if v is not a live handle (disposed, or not ours).
TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* what);

}  // namespace tn
