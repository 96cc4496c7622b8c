// One error path for every native entry point: Guard<F> runs F and turns c10::Error (by kind) and
// std::exception into the JS TorchError classes, with LibTorch's message but not its C++ backtrace.
#pragma once
#include <napi.h>

#include <string>

#include "addon.h"

namespace tn {

// Throws (as a C++ exception that node-addon-api turns into a JS throw) an error of the given kind.
[[noreturn]] void ThrowTorch(Napi::Env env, ErrorKind kind, const std::string& message);
// A JS TypeError / RangeError naming the argument: for bad input that the TS layer did not catch.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);
// Rethrows the exception being handled as a JS error. Call only inside a catch block.
[[noreturn]] void RethrowAsJs(Napi::Env env);

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (...) {
    RethrowAsJs(info.Env());
  }
}

// exports[name] = a guarded F.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guard<F>, name));
}

}  // namespace tn
