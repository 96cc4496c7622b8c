// Shape, joining and moving: views, reshape, permute, cat/stack/split, gather/scatter, where, and
// conversions (to dtype/device, clone, detach, contiguous, pin_memory).
#include <ATen/ATen.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

// (t, shape) -> tensor.
#define TN_SHAPE_ARG(X) X(view, view) X(reshape, reshape) X(permute, permute) X(expand, expand) \
  X(repeat, repeat) X(flip, flip)
#define TN_DEFINE(aten, js) \
  Napi::Value Shape_##js(const Napi::CallbackInfo& info) { Args a(info); return Wrap(a.env(), a.tensor(0).aten(a.intList(1))); }
TN_SHAPE_ARG(TN_DEFINE)
#undef TN_DEFINE

// (t) -> tensor.
#define TN_NO_ARG(X) X(t, t) X(contiguous, contiguous) X(clone, clone) X(detach, detach) X(pin_memory, pinMemory)
#define TN_DEFINE(aten, js) \
  Napi::Value NoArg_##js(const Napi::CallbackInfo& info) { Args a(info); return Wrap(a.env(), a.tensor(0).aten()); }
TN_NO_ARG(TN_DEFINE)
#undef TN_DEFINE

// Tensor.view(dtype): the same bytes read as another dtype (Python's view(dtype) overload).
Napi::Value ViewDtype(const Napi::CallbackInfo& info) {  // (t, dtype)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).view(a.dtype(1)));
}

Napi::Value Transpose(const Napi::CallbackInfo& info) {  // (t, dim0, dim1)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).transpose(a.int64(1), a.int64(2)));
}

Napi::Value Squeeze(const Napi::CallbackInfo& info) {  // (t, dims?)
  Args a(info);
  auto dims = a.optIntList(1);
  return Wrap(a.env(), dims ? a.tensor(0).squeeze(*dims) : a.tensor(0).squeeze());
}

Napi::Value Unsqueeze(const Napi::CallbackInfo& info) {  // (t, dim)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).unsqueeze(a.int64(1)));
}

Napi::Value Flatten(const Napi::CallbackInfo& info) {  // (t, startDim, endDim)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).flatten(a.optInt64(1).value_or(0), a.optInt64(2).value_or(-1)));
}

Napi::Value ExpandAs(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), a.tensor(0).expand_as(a.tensor(1)));
}

Napi::Value Narrow(const Napi::CallbackInfo& info) {  // (t, dim, start, length)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).narrow(a.int64(1), a.int64(2), a.int64(3)));
}

Napi::Value Select(const Napi::CallbackInfo& info) {  // (t, dim, index)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).select(a.int64(1), a.int64(2)));
}

Napi::Value Cat(const Napi::CallbackInfo& info) {  // (tensors, dim)
  Args a(info);
  return Wrap(a.env(), at::cat(a.tensorList(0), a.optInt64(1).value_or(0)));
}

Napi::Value Stack(const Napi::CallbackInfo& info) {  // (tensors, dim)
  Args a(info);
  return Wrap(a.env(), at::stack(a.tensorList(0), a.optInt64(1).value_or(0)));
}

Napi::Value Split(const Napi::CallbackInfo& info) {  // (t, size | sizes, dim)
  Args a(info);
  int64_t dim = a.optInt64(2).value_or(0);
  if (a[1].IsArray()) return WrapList(a.env(), a.tensor(0).split_with_sizes(a.intList(1), dim));
  return WrapList(a.env(), a.tensor(0).split(a.int64(1), dim));
}

Napi::Value Chunk(const Napi::CallbackInfo& info) {  // (t, chunks, dim)
  Args a(info);
  return WrapList(a.env(), a.tensor(0).chunk(a.int64(1), a.optInt64(2).value_or(0)));
}

Napi::Value Unbind(const Napi::CallbackInfo& info) {  // (t, dim)
  Args a(info);
  return WrapList(a.env(), a.tensor(0).unbind(a.optInt64(1).value_or(0)));
}

Napi::Value Gather(const Napi::CallbackInfo& info) {  // (t, dim, index)
  Args a(info);
  return Wrap(a.env(), at::gather(a.tensor(0), a.int64(1), a.tensor(2)));
}

// scatter(t, dim, index, src | value, inplace): src a tensor, or a number for the value form.
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  int64_t dim = a.int64(1);
  const at::Tensor& index = a.tensor(2);
  bool inplace = a.boolean(4, false);
  if (IsHandle(a.env(), a[3])) {
    if (inplace) return t.scatter_(dim, index, a.tensor(3)), a.env().Undefined();
    return Wrap(a.env(), t.scatter(dim, index, a.tensor(3)));
  }
  if (inplace) return t.scatter_(dim, index, a.scalar(3)), a.env().Undefined();
  return Wrap(a.env(), t.scatter(dim, index, a.scalar(3)));
}

Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {  // (t, dim, index, src)
  Args a(info);
  return Wrap(a.env(), a.tensor(0).scatter_add(a.int64(1), a.tensor(2), a.tensor(3)));
}

Napi::Value Where(const Napi::CallbackInfo& info) {  // (condition, a, b): a and b may be numbers
  Args a(info);
  return Wrap(a.env(), at::where(a.tensor(0), a.operand(1), a.operand(2)));
}

Napi::Value MaskedFill(const Napi::CallbackInfo& info) {  // (t, mask, value, inplace)
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  const at::Tensor& mask = a.tensor(1);
  bool inplace = a.boolean(3, false);
  auto fill = [&](const auto& value) {
    return inplace ? (t.masked_fill_(mask, value), a.env().Undefined()) : Wrap(a.env(), t.masked_fill(mask, value));
  };
  // A number takes masked_fill(Scalar), as in Python (its range is checked; grad_fn MaskedFillBackward0).
  return IsHandle(a.env(), a[2]) ? fill(a.tensor(2)) : fill(a.scalar(2));
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
  for (size_t i = 0; i < strides.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(a.env(), static_cast<double>(strides[i])));
  return out;
}

}  // namespace

void RegisterShape(Napi::Env env, Napi::Object exports) {
  Export<ViewDtype>(env, exports, "viewDtype");
#define TN_REGISTER(aten, js) Export<Shape_##js>(env, exports, #js);
  TN_SHAPE_ARG(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(aten, js) Export<NoArg_##js>(env, exports, #js);
  TN_NO_ARG(TN_REGISTER)
#undef TN_REGISTER
  Export<Transpose>(env, exports, "transpose");
  Export<Squeeze>(env, exports, "squeeze");
  Export<Unsqueeze>(env, exports, "unsqueeze");
  Export<Flatten>(env, exports, "flatten");
  Export<ExpandAs>(env, exports, "expandAs");
  Export<Narrow>(env, exports, "narrow");
  Export<Select>(env, exports, "select");
  Export<Cat>(env, exports, "cat");
  Export<Stack>(env, exports, "stack");
  Export<Split>(env, exports, "split");
  Export<Chunk>(env, exports, "chunk");
  Export<Unbind>(env, exports, "unbind");
  Export<Gather>(env, exports, "gather");
  Export<Scatter>(env, exports, "scatter");
  Export<ScatterAdd>(env, exports, "scatterAdd");
  Export<Where>(env, exports, "where");
  Export<MaskedFill>(env, exports, "maskedFill");
  Export<To>(env, exports, "to");
  Export<IsContiguous>(env, exports, "isContiguous");
  Export<ToMemoryFormat>(env, exports, "toMemoryFormat");
  Export<SetData>(env, exports, "setData");
  Export<IsPinned>(env, exports, "isPinned");
  Export<Stride>(env, exports, "stride");
}

}  // namespace tn
