// PyTorch's indexing (t[...] and t[...] = v) through LibTorch's own TensorIndex, so the semantics are
// exactly Python's. Index items arrive from lib/indexing.ts as: a number (an integer index), null (None,
// a new axis), '...' (Ellipsis), {start, stop, step} (a slice; missing parts undefined), a boolean, or a
// tensor handle (an integer or boolean index tensor).
#include <ATen/ATen.h>
#include <ATen/TensorIndexing.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

using at::indexing::Slice;
using at::indexing::TensorIndex;

std::optional<c10::SymInt> SlicePart(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) ThrowTypeError(env, std::string("slice ") + key + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != std::trunc(d) || !std::isfinite(d)) ThrowTypeError(env, std::string("slice ") + key + " must be an integer");
  // A bound past int64 (Python's sys.maxsize and beyond) means "to the end", as it does in Python.
  if (!InInt64Range(d)) return c10::SymInt(d > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min());
  return c10::SymInt(static_cast<int64_t>(d));
}

std::vector<TensorIndex> Indices(const Args& a, size_t i) {
  Napi::Env env = a.env();
  if (!a[i].IsArray()) a.fail(i, "an array of indices");
  Napi::Array items = a[i].As<Napi::Array>();
  std::vector<TensorIndex> out;
  out.reserve(items.Length());
  for (uint32_t k = 0; k < items.Length(); ++k) {
    Napi::Value v = items.Get(k);
    if (v.IsNull()) {
      out.emplace_back(std::nullopt);
    } else if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (d != std::trunc(d) || !std::isfinite(d)) ThrowTypeError(env, "index " + std::to_string(k) + " must be an integer");
      if (!InInt64Range(d)) ThrowRangeError(env, "index " + std::to_string(k) + " is out of the int64 range");
      out.emplace_back(static_cast<int64_t>(d));
    } else if (v.IsBoolean()) {
      out.emplace_back(v.As<Napi::Boolean>().Value());
    } else if (v.IsString() && v.As<Napi::String>().Utf8Value() == "...") {
      out.emplace_back(at::indexing::Ellipsis);
    } else if (BoxOf(env, v, "index") != nullptr) {
      out.emplace_back(Unwrap(env, v, "index tensor"));
    } else if (v.IsObject()) {  // {start, stop, step}
      Napi::Object o = v.As<Napi::Object>();
      out.emplace_back(Slice(SlicePart(env, o, "start"), SlicePart(env, o, "stop"), SlicePart(env, o, "step")));
    } else {
      ThrowTypeError(env, "index " + std::to_string(k) + " must be an integer, slice, null, '...', boolean or Tensor");
    }
  }
  return out;
}

Napi::Value Index(const Napi::CallbackInfo& info) {  // (t, indices)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).index(Indices(a, 1)));
}

Napi::Value IndexPut_(const Napi::CallbackInfo& info) {  // (t, indices, value: tensor | number)
  Args a(info);
  std::vector<TensorIndex> idx = Indices(a, 1);
  if (IsHandle(a.env(), a[2])) {
    at::Tensor t = a.tensor(0);
    t.index_put_(idx, a.tensor(2));
  } else {
    at::Tensor t = a.tensor(0);
    t.index_put_(idx, a.scalar(2));
  }
  return a.env().Undefined();
}

}  // namespace

void RegisterIndexing(Napi::Env env, Napi::Object exports) {
  Export<Index>(env, exports, "index");
  Export<IndexPut_>(env, exports, "indexPut_");
}

}  // namespace tn
