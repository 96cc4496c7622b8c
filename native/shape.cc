// The shape and conversion entry points lib/ calls directly (its own loops, the hand-written Tensor
// methods): expand, narrow, to dtype/device, clone, detach, contiguous, memory format, pin_memory, set
// data. The public view/reshape/cat/gather… are generated (native/dispatch.cc).
#include <ATen/ATen.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value Expand(const Napi::CallbackInfo& info) {  // (t, sizes)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).expand(a.intList(1)));
}

// (t) -> tensor.
#define TN_NO_ARG(X) X(contiguous, contiguous) X(clone, clone) X(detach, detach) X(pin_memory, pinMemory)
#define TN_DEFINE(aten, js)                                \
  Napi::Value NoArg_##js(const Napi::CallbackInfo& info) { \
    Args a(info);                                          \
    return Wrap(a.env(), a.tensor(0).aten());              \
  }
TN_NO_ARG(TN_DEFINE)
#undef TN_DEFINE

Napi::Value Narrow(const Napi::CallbackInfo& info) {  // (t, dim, start, length)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).narrow(a.int64(1), a.int64(2), a.int64(3)));
}

// to(t, dtype?, device?, nonBlocking, copy): a new handle even when nothing changes (PyTorch returns
// self then; a second handle to the same tensor keeps dispose() of either safe).
Napi::Value To(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  at::ScalarType dtype = a.optDtype(1).value_or(t.scalar_type());
  c10::Device device = a.optDevice(2).value_or(t.device());
  return Wrap(a.env(), t.to(device, dtype, a.boolean(3, false), a.boolean(4, false)));
}

at::MemoryFormat MemoryFormatArg(const Args& a, size_t i) {
  std::string f = a.missing(i) ? "contiguous_format" : a.string(i);
  if (f == "contiguous_format") return at::MemoryFormat::Contiguous;
  if (f == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (f == "channels_last_3d") return at::MemoryFormat::ChannelsLast3d;
  if (f == "preserve_format") return at::MemoryFormat::Preserve;
  a.fail(i, "'contiguous_format', 'channels_last', 'channels_last_3d' or 'preserve_format'");
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {  // (t, memoryFormat?)
  Args a(info);
  return Napi::Boolean::New(a.env(), a.tensor(0).is_contiguous(MemoryFormatArg(a, 1)));
}

Napi::Value ToMemoryFormat(const Napi::CallbackInfo& info) {  // (t, memoryFormat)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).contiguous(MemoryFormatArg(a, 1)));
}

// setData(t, src): t now refers to src's data (PyTorch's `param.data = src`): the JS object, its
// autograd identity and every holder of it (optimizers) stay the same; module.to() relies on it.
Napi::Value SetData(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.set_data(a.tensor(1));
  return a.env().Undefined();
}

Napi::Value IsPinned(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), a.tensor(0).is_pinned());
}

Napi::Value Stride(const Napi::CallbackInfo& info) {
  Args a(info);
  auto strides = a.tensor(0).strides();
  Napi::Array out = Napi::Array::New(a.env(), strides.size());
  for (size_t i = 0; i < strides.size(); ++i)
    out.Set(static_cast<uint32_t>(i), Napi::Number::New(a.env(), static_cast<double>(strides[i])));
  return out;
}

}  // namespace

void RegisterShape(Napi::Env env, Napi::Object exports) {
  Export<Expand>(env, exports, "expand");
#define TN_REGISTER(aten, js) Export<NoArg_##js>(env, exports, #js);
  TN_NO_ARG(TN_REGISTER)
#undef TN_REGISTER
  Export<Narrow>(env, exports, "narrow");
  Export<To>(env, exports, "to");
  Export<IsContiguous>(env, exports, "isContiguous");
  Export<ToMemoryFormat>(env, exports, "toMemoryFormat");
  Export<SetData>(env, exports, "setData");
  Export<IsPinned>(env, exports, "isPinned");
  Export<Stride>(env, exports, "stride");
}

}  // namespace tn
