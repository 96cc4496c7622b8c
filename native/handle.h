// A JS tensor handle is a Node-API external pointing at a TensorBox, which holds one reference to an
// at::Tensor. dispose() drops the reference at once; the external's finalizer (GC) is the backstop.
#pragma once
#include <napi.h>
#include <ATen/core/Tensor.h>

#include "addon.h"

namespace tn {

struct TensorBox {
  at::Tensor tensor;
  Addon* owner = nullptr;
  TensorBox* prev = nullptr;  // links in owner's live list while the tensor is held
  TensorBox* next = nullptr;
  int64_t reportedBytes = 0;  // CPU bytes reported to V8 (AdjustExternalMemory)
  bool live() const { return prev != nullptr; }
};

// Wraps a tensor in a new handle (an undefined tensor becomes null: e.g. a missing .grad).
Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
// Wraps each tensor; returns a JS array of handles.
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
// True if v is one of our handles (live or disposed).
bool IsHandle(Napi::Env env, Napi::Value v);
// The tensor of handle v; throws a TypeError naming `what` if v is not a handle, a TorchError if disposed.
const at::Tensor& Unwrap(Napi::Env env, Napi::Value v, const char* what);
// Drops the handle's reference now. Returns false if it was already disposed.
bool Release(Napi::Env env, TensorBox* box);
TensorBox* BoxOf(Napi::Env env, Napi::Value v, const char* what);

}  // namespace tn
