// One error path for every native entry point: Guard<F> runs F and turns c10::Error (by kind) and
// std::exception into the JS TorchError classes, with LibTorch's message but not its C++ backtrace.
// Work off the JS thread (async.h, data.cc) keeps a caught exception as a Failure, classified the same
// way, so a promise rejects with the class the synchronous call would throw.
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

// An exception caught where no JS value may be made (a worker thread), kept until it reaches JS.
struct Failure {
  ErrorKind kind = ErrorKind::Torch;
  std::string message;  // without LibTorch's C++ backtrace
};
// The exception being handled, classified as RethrowAsJs does. Call only inside a catch block.
Failure CaptureCurrent();
// The JS error of a failure (the TorchError class of its kind), to reject a promise with.
Napi::Value ErrorValue(Napi::Env env, const Failure& f);

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
