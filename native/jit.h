// What native/jit.cc shares with the other TorchScript files (trace.cc): the module handle and the
// conversion of JS values to and from IValues.
#pragma once
#include <napi.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include <string>

#include "args.h"

namespace tn {

// A JS handle for a TorchScript module: a type-tagged External (ScriptModule in lib/jit.ts holds it).
Napi::Value WrapModule(Napi::Env env, torch::jit::Module m);
// The module of handle a[i]; a TypeError if it is not one, a TorchError if it was disposed.
torch::jit::Module& ModuleArg(const Args& a, size_t i);
// JS value -> IValue, guided by the schema's type when there is one (`where` names it in errors).
c10::IValue ToIValue(Napi::Env env, Napi::Value v, c10::TypePtr hint, const std::string& where, int depth = 0);
// IValue -> JS value (tensors become new handles).
Napi::Value FromIValue(Napi::Env env, const c10::IValue& v, int depth = 0);

}  // namespace tn
