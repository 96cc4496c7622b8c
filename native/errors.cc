#include "errors.h"

#include <c10/util/Exception.h>

#include <new>

namespace tn {

static Napi::Error MakeError(Napi::Env env, ErrorKind kind, const std::string& message) {
  Addon& addon = GetAddon(env);
  Napi::FunctionReference& cls = addon.errorClasses[static_cast<size_t>(kind)];
  if (cls.IsEmpty()) return Napi::Error::New(env, message);  // before lib/native.ts registered them
  Napi::Object err = cls.New({Napi::String::New(env, message)});
  return Napi::Error(env, err);
}

void ThrowTorch(Napi::Env env, ErrorKind kind, const std::string& message) { throw MakeError(env, kind, message); }
void ThrowTypeError(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }
void ThrowRangeError(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

// LibTorch's error kinds, most specific first (they all derive from c10::Error).
static ErrorKind KindOf(const c10::Error& e) {
  if (dynamic_cast<const c10::IndexError*>(&e)) return ErrorKind::Index;
  if (dynamic_cast<const c10::ValueError*>(&e)) return ErrorKind::Value;
  if (dynamic_cast<const c10::TypeError*>(&e)) return ErrorKind::Type;
  if (dynamic_cast<const c10::NotImplementedError*>(&e)) return ErrorKind::NotImplemented;
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return ErrorKind::OutOfMemory;
  return ErrorKind::Torch;
}

Failure CaptureCurrent() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return {KindOf(e), e.what_without_backtrace()};
  } catch (const std::bad_alloc&) {
    return {ErrorKind::OutOfMemory, "out of memory (std::bad_alloc)"};
  } catch (const std::exception& e) {
    return {ErrorKind::Torch, e.what()};
  } catch (...) {
    return {ErrorKind::Torch, "unknown C++ exception"};
  }
}

Napi::Value ErrorValue(Napi::Env env, const Failure& f) { return MakeError(env, f.kind, f.message).Value(); }

void RethrowAsJs(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;  // already a JS error (a TypeError naming an argument, ...)
  } catch (...) {
    Failure f = CaptureCurrent();
    throw MakeError(env, f.kind, f.message);
  }
}

}  // namespace tn
