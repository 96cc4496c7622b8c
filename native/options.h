// A native call's named options, one JS object (sharp's pipeline "baton"): where a call would otherwise
// take many scalars by position, it takes them by name and reads them once into a struct. Every refusal
// names the call and the field (a misspelt, missing or mistyped one), through the one error path of
// errors.h, so the JS and C++ sides cannot drift apart by position unnoticed.
#pragma once
#include <napi.h>
#include <ATen/core/Tensor.h>

#include <algorithm>
#include <initializer_list>
#include <string>

#include "args.h"
#include "errors.h"
#include "handle.h"

namespace tn {

class Options {
 public:
  // Argument i of the call `who`: an object whose enumerable keys are all among `known` (an unknown key is
  // a misspelling, which would otherwise leave its field at whatever the reader assumes).
  Options(const Args& a, size_t i, const char* who, std::initializer_list<const char*> known) : env_(a.env()), who_(who) {
    if (a.missing(i) || !a[i].IsObject() || a[i].IsArray() || a[i].IsFunction()) a.fail(i, "an options object");
    obj_ = a[i].As<Napi::Object>();
    Napi::Array keys = obj_.GetPropertyNames();
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      std::string key = keys.Get(k).ToString().Utf8Value();
      if (std::none_of(known.begin(), known.end(), [&](const char* name) { return key == name; })) {
        ThrowTypeError(env_, who_ + ": unknown option '" + key + "'");
      }
    }
  }

  double number(const char* name) const {
    Napi::Value v = obj_.Get(name);
    if (!v.IsNumber()) fail(name, "a number");
    return v.As<Napi::Number>().DoubleValue();
  }
  bool boolean(const char* name) const {
    Napi::Value v = obj_.Get(name);
    if (!v.IsBoolean()) fail(name, "a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  std::string string(const char* name) const {
    Napi::Value v = obj_.Get(name);
    if (!v.IsString()) fail(name, "a string");
    return v.As<Napi::String>().Utf8Value();
  }
  // A tensor handle, or an undefined tensor where the field is absent, undefined or null.
  at::Tensor optTensor(const char* name) const {
    Napi::Value v = obj_.Get(name);
    if (v.IsUndefined() || v.IsNull()) return at::Tensor();
    return Unwrap(env_, v, (who_ + ": option '" + name + "'").c_str());
  }

  [[noreturn]] void fail(const char* name, const std::string& expected) const {
    std::string why = obj_.Has(name) ? "" : " (it is missing)";
    ThrowTypeError(env_, who_ + ": option '" + name + "' must be " + expected + why);
  }

 private:
  Napi::Env env_;
  Napi::Object obj_;
  std::string who_;
};

}  // namespace tn
