// Math ops: pointwise (unary, binary with broadcasting and number operands), reductions, softmax,
// sort/topk, clamp, in-place forms. Ops of one signature come from one table.
#include <ATen/ATen.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value Undefined(const Args& a) { return a.env().Undefined(); }

// (t) -> new tensor: at::aten(t).
#define TN_UNARY(X)                                                                                   \
  X(neg, neg) X(abs, abs) X(exp, exp) X(log, log) X(log2, log2) X(log10, log10) X(log1p, log1p)      \
  X(expm1, expm1) X(sqrt, sqrt) X(rsqrt, rsqrt) X(sin, sin) X(cos, cos) X(tan, tan) X(asin, asin)    \
  X(acos, acos) X(atan, atan) X(sinh, sinh) X(cosh, cosh) X(tanh, tanh) X(sigmoid, sigmoid)          \
  X(relu, relu) X(floor, floor) X(ceil, ceil) X(round, round) X(trunc, trunc) X(frac, frac)          \
  X(sign, sign) X(reciprocal, reciprocal) X(square, square) X(erf, erf) X(logical_not, logicalNot)   \
  X(isnan, isnan) X(isinf, isinf) X(isfinite, isfinite) X(bitwise_not, bitwiseNot)  \
  X(hardsigmoid, hardsigmoid) X(hardswish, hardswish) X(silu, silu) X(mish, mish) X(selu, selu) X(relu6, relu6)
#define TN_DEFINE(aten, js) \
  Napi::Value Unary_##js(const Napi::CallbackInfo& info) { Args a(info); return Wrap(a.env(), at::aten(a.tensor(0))); }
TN_UNARY(TN_DEFINE)
#undef TN_DEFINE

// (t) -> t, in place: t.aten_().
#define TN_UNARY_INPLACE(X)                                                                           \
  X(neg_, neg_) X(abs_, abs_) X(exp_, exp_) X(log_, log_) X(sqrt_, sqrt_) X(rsqrt_, rsqrt_)           \
  X(sin_, sin_) X(cos_, cos_) X(tanh_, tanh_) X(sigmoid_, sigmoid_) X(relu_, relu_) X(floor_, floor_) \
  X(ceil_, ceil_) X(round_, round_) X(trunc_, trunc_) X(sign_, sign_) X(reciprocal_, reciprocal_)     \
  X(zero_, zero_)
#define TN_DEFINE(aten, js) \
  Napi::Value Inplace_##js(const Napi::CallbackInfo& info) { Args a(info); a.tensor(0).aten(); return Undefined(a); }
TN_UNARY_INPLACE(TN_DEFINE)
#undef TN_DEFINE

// (a, b) -> new tensor, with broadcasting; either side may be a number.
#define TN_BINARY(X)                                                                                       \
  X(mul, mul) X(eq, eq) X(ne, ne) X(lt, lt) X(le, le) X(gt, gt) X(ge, ge)                      \
  X(logical_and, logicalAnd) X(logical_or, logicalOr) X(logical_xor, logicalXor) X(maximum, maximum)     \
  X(minimum, minimum) X(atan2, atan2) X(bitwise_and, bitwiseAnd)    \
  X(bitwise_or, bitwiseOr) X(bitwise_xor, bitwiseXor) X(matmul, matmul) X(mm, mm) X(bmm, bmm)           \
  X(dot, dot) X(outer, outer)
#define TN_DEFINE(aten, js)                                 \
  Napi::Value Binary_##js(const Napi::CallbackInfo& info) { \
    Args a(info);                                           \
    auto [x, y] = a.operands(0, 1);                         \
    return Wrap(a.env(), at::aten(x, y));                   \
  }
TN_BINARY(TN_DEFINE)
#undef TN_DEFINE

// (t, b) -> t, in place.
#define TN_BINARY_INPLACE(X) X(mul_, mul_) \
  X(copy_, copy_) X(logical_and_, logicalAnd_) X(logical_or_, logicalOr_)
#define TN_DEFINE(aten, js) \
  Napi::Value Inplace_##js(const Napi::CallbackInfo& info) {                                          \
    Args a(info);                                                                                     \
    const at::Tensor& t = a.tensor(0);                                                                \
    t.aten(a.operandLike(1, t));                                                                      \
    return Undefined(a);                                                                              \
  }
TN_BINARY_INPLACE(TN_DEFINE)
#undef TN_DEFINE

// (a, b) with ATen overloads for a number exponent/divisor, which Python's binding picks for a number:
// pow(Tensor, Scalar) is exactly rounded for 2, -1, 0.5… and refuses negative integer powers of integers.
#define TN_SCALAR_BINARY(X) X(pow) X(remainder) X(fmod)
#define TN_DEFINE(op)                                                                          \
  Napi::Value Scalar_##op(const Napi::CallbackInfo& info) {                                    \
    Args a(info);                                                                              \
    if (!IsHandle(a.env(), a[1])) return Wrap(a.env(), at::op(a.tensor(0), a.scalar(1)));      \
    auto [x, y] = a.operands(0, 1);                                                            \
    return Wrap(a.env(), at::op(x, y));                                                        \
  }                                                                                            \
  Napi::Value Scalar_##op##_(const Napi::CallbackInfo& info) {                                 \
    Args a(info);                                                                              \
    const at::Tensor& t = a.tensor(0);                                                         \
    if (IsHandle(a.env(), a[1])) t.op##_(a.operandLike(1, t));                                 \
    else t.op##_(a.scalar(1));                                                                 \
    return Undefined(a);                                                                       \
  }
TN_SCALAR_BINARY(TN_DEFINE)
#undef TN_DEFINE

// add/sub take alpha: (a, b, alpha?) and their in-place forms (t, b, alpha?).
#define TN_ALPHA(X) X(add) X(sub)
#define TN_DEFINE(op)                                                                          \
  Napi::Value Alpha_##op(const Napi::CallbackInfo& info) {                                     \
    Args a(info);                                                                              \
    auto [x, y] = a.operands(0, 1);                                                            \
    return Wrap(a.env(), at::op(x, y, a.optScalar(2).value_or(1)));                            \
  }                                                                                            \
  Napi::Value Alpha_##op##_(const Napi::CallbackInfo& info) {                                  \
    Args a(info);                                                                              \
    const at::Tensor& t = a.tensor(0);                                                         \
    t.op##_(a.operandLike(1, t), a.optScalar(2).value_or(1));                                  \
    return Undefined(a);                                                                       \
  }
TN_ALPHA(TN_DEFINE)
#undef TN_DEFINE

std::optional<c10::string_view> RoundingMode(const Args& a, size_t i, std::string& holder) {
  if (a.missing(i)) return std::nullopt;
  holder = a.string(i);
  return c10::string_view(holder);
}

// Integer division of the type's minimum by -1 overflows and traps the CPU (SIGFPE): PyTorch itself
// dies there. Checked only for int32/int64 'trunc' division on the CPU, the one path that reaches a
// trapping hardware divide (narrower types are divided as int; a GPU does not trap, and the check's item()
// would sync and break graph capture). Compared in the result type, where the division happens.
void CheckIntegerDivision(const at::Tensor& x, const at::Tensor& y, const std::optional<c10::string_view>& mode) {
  if (!mode || *mode != "trunc" || !x.is_cpu() || !y.is_cpu()) return;
  at::ScalarType t = at::result_type(x, y);
  if (t != at::kInt && t != at::kLong) return;
  at::Scalar minimum = t == at::kInt ? at::Scalar(int64_t{std::numeric_limits<int32_t>::min()})
                                     : at::Scalar(std::numeric_limits<int64_t>::min());
  bool overflow = at::logical_and(x.to(t).eq(minimum), y.to(t).eq(-1)).any().item<bool>();
  TORCH_CHECK_VALUE(!overflow, "integer division overflow: the minimum ", t, " divided by -1 has no ", t, " result");
}

Napi::Value Div(const Napi::CallbackInfo& info) {  // (a, b, roundingMode?)
  Args a(info);
  std::string holder;
  auto mode = RoundingMode(a, 2, holder);
  auto [x, y] = a.operands(0, 1);
  CheckIntegerDivision(x, y, mode);
  return Wrap(a.env(), mode ? at::div(x, y, mode) : at::div(x, y));  // Python's overload for each
}

Napi::Value Div_(const Napi::CallbackInfo& info) {  // (t, b, roundingMode?)
  Args a(info);
  std::string holder;
  auto mode = RoundingMode(a, 2, holder);
  const at::Tensor& t = a.tensor(0);
  at::Tensor y = a.operandLike(1, t);
  CheckIntegerDivision(t, y, mode);
  if (mode) t.div_(y, mode);
  else t.div_(y);
  return Undefined(a);
}

// clamp(t, min?, max?): number bounds or tensor bounds.
Napi::Value Clamp(const Napi::CallbackInfo& info) {
  Args a(info);
  if (IsHandle(a.env(), a[1]) || IsHandle(a.env(), a[2])) {
    return Wrap(a.env(), at::clamp(a.tensor(0), a.optTensor(1), a.optTensor(2)));
  }
  return Wrap(a.env(), at::clamp(a.tensor(0), a.optScalar(1), a.optScalar(2)));
}

Napi::Value Clamp_(const Napi::CallbackInfo& info) {
  Args a(info);
  if (IsHandle(a.env(), a[1]) || IsHandle(a.env(), a[2])) {
    a.tensor(0).clamp_(a.optTensor(1), a.optTensor(2));
  } else {
    a.tensor(0).clamp_(a.optScalar(1), a.optScalar(2));
  }
  return Undefined(a);
}

Napi::Value Fill_(const Napi::CallbackInfo& info) {  // (t, value: number | 0-d tensor)
  Args a(info);
  // fill_(Scalar) refuses a number the dtype cannot hold, as Python's does; fill_(Tensor) would wrap it.
  if (IsHandle(a.env(), a[1])) a.tensor(0).fill_(a.tensor(1));
  else a.tensor(0).fill_(a.scalar(1));
  return Undefined(a);
}

Napi::Value Normal_(const Napi::CallbackInfo& info) {  // (t, mean, std)
  Args a(info);
  a.tensor(0).normal_(a.number(1), a.number(2));
  return Undefined(a);
}

Napi::Value Uniform_(const Napi::CallbackInfo& info) {  // (t, from, to)
  Args a(info);
  a.tensor(0).uniform_(a.number(1), a.number(2));
  return Undefined(a);
}

// ---- reductions ----

// (t, dims?, keepdim, dtype?): the whole tensor when dims is missing, through the overload Python's x.sum()
// takes (its grad_fn is SumBackward0).
#define TN_DIMS_REDUCTIONS(X) \
  X(sum, sum, at::sum(t, dtype)) X(mean, mean, at::mean(t, dtype)) X(nansum, nansum, at::nansum(t, std::nullopt, false, dtype))
#define TN_DEFINE(aten, js, whole)                                                 \
  Napi::Value Reduce_##js(const Napi::CallbackInfo& info) {                        \
    Args a(info);                                                                  \
    const at::Tensor& t = a.tensor(0);                                             \
    auto dims = a.optIntList(1);                                                   \
    bool keep = a.boolean(2, false);                                               \
    auto dtype = a.optDtype(3);                                                    \
    if (!dims && !keep) return Wrap(a.env(), whole);                               \
    at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : std::nullopt; \
    return Wrap(a.env(), at::aten(t, dimRef, keep, dtype));                        \
  }
TN_DIMS_REDUCTIONS(TN_DEFINE)
#undef TN_DEFINE

Napi::Value Prod(const Napi::CallbackInfo& info) {  // (t, dim?, keepdim, dtype?)
  Args a(info);
  auto dim = a.optInt64(1);
  auto dtype = a.optDtype(3);
  if (!dim) return Wrap(a.env(), at::prod(a.tensor(0), dtype));
  return Wrap(a.env(), at::prod(a.tensor(0), *dim, a.boolean(2, false), dtype));
}

// var/std: (t, dims?, correction?, keepdim)
#define TN_STAT_REDUCTIONS(X) X(var) X(std)
#define TN_DEFINE(op)                                                                          \
  Napi::Value Reduce_##op(const Napi::CallbackInfo& info) {                                    \
    Args a(info);                                                                              \
    auto dims = a.optIntList(1);                                                               \
    at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : std::nullopt;     \
    return Wrap(a.env(), at::op(a.tensor(0), dimRef, a.optScalar(2), a.boolean(3, false)));    \
  }
TN_STAT_REDUCTIONS(TN_DEFINE)
#undef TN_DEFINE

// max/min: (t) -> value; (t, dim, keepdim) -> [values, indices].
#define TN_EXTREMA(X) X(max) X(min)
#define TN_DEFINE(op)                                                                  \
  Napi::Value Reduce_##op(const Napi::CallbackInfo& info) {                            \
    Args a(info);                                                                      \
    if (a.missing(1)) return Wrap(a.env(), at::op(a.tensor(0)));                       \
    auto r = at::op(a.tensor(0), a.int64(1), a.boolean(2, false));                     \
    return WrapList(a.env(), {std::get<0>(r), std::get<1>(r)});                        \
  }
TN_EXTREMA(TN_DEFINE)
#undef TN_DEFINE

// argmax/argmin: (t, dim?, keepdim).
#define TN_DIM_REDUCTIONS(X) X(argmax) X(argmin)
#define TN_DEFINE(op)                                         \
  Napi::Value Reduce_##op(const Napi::CallbackInfo& info) {   \
    Args a(info);                                             \
    return Wrap(a.env(), at::op(a.tensor(0), a.optInt64(1), a.boolean(2, false))); \
  }
TN_DIM_REDUCTIONS(TN_DEFINE)
#undef TN_DEFINE

// all/any: (t, dims?, keepdim): every element through the overload Python's x.all() takes; dims a list.
#define TN_BOOL_REDUCTIONS(X) X(all) X(any)
#define TN_DEFINE(op)                                                                      \
  Napi::Value Reduce_##op(const Napi::CallbackInfo& info) {                                \
    Args a(info);                                                                          \
    const at::Tensor& t = a.tensor(0);                                                     \
    auto dims = a.optIntList(1);                                                           \
    bool keep = a.boolean(2, false);                                                       \
    if (!dims) return Wrap(a.env(), keep ? at::op(t, at::OptionalIntArrayRef(), true) : at::op(t)); \
    if (dims->size() == 1) return Wrap(a.env(), at::op(t, (*dims)[0], keep));              \
    return Wrap(a.env(), at::op(t, at::OptionalIntArrayRef(*dims), keep));                 \
  }
TN_BOOL_REDUCTIONS(TN_DEFINE)
#undef TN_DEFINE

Napi::Value Norm(const Napi::CallbackInfo& info) {  // (t, p?, dims?, keepdim)
  Args a(info);
  // Python's Tensor.norm is torch.linalg.vector_norm for strided tensors.
  at::Scalar p = a.optScalar(1).value_or(2.0);
  auto dims = a.optIntList(2);
  at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : std::nullopt;
  return Wrap(a.env(), at::linalg_vector_norm(a.tensor(0), p, dimRef, a.boolean(3, false)));
}

Napi::Value Logsumexp(const Napi::CallbackInfo& info) {  // (t, dims, keepdim)
  Args a(info);
  return Wrap(a.env(), at::logsumexp(a.tensor(0), a.intList(1), a.boolean(2, false)));
}

#define TN_SOFTMAX(X) X(softmax, softmax) X(log_softmax, logSoftmax)
#define TN_DEFINE(aten, js)                                                                \
  Napi::Value Softmax_##js(const Napi::CallbackInfo& info) {                               \
    Args a(info);                                                                          \
    return Wrap(a.env(), at::aten(a.tensor(0), a.int64(1), a.optDtype(2)));                \
  }
TN_SOFTMAX(TN_DEFINE)
#undef TN_DEFINE

Napi::Value Sort(const Napi::CallbackInfo& info) {  // (t, dim, descending, stable) -> [values, indices]
  Args a(info);
  // The stable overload only when asked for, as Python's binding chooses (grad_fn SortBackward0 or 1).
  auto r = a.boolean(3, false) ? at::sort(a.tensor(0), true, a.int64(1), a.boolean(2, false))
                               : at::sort(a.tensor(0), a.int64(1), a.boolean(2, false));
  return WrapList(a.env(), {std::get<0>(r), std::get<1>(r)});
}

Napi::Value Argsort(const Napi::CallbackInfo& info) {  // (t, dim, descending, stable)
  Args a(info);
  return Wrap(a.env(), at::argsort(a.tensor(0), a.boolean(3, false), a.int64(1), a.boolean(2, false)));
}

Napi::Value Topk(const Napi::CallbackInfo& info) {  // (t, k, dim, largest, sorted) -> [values, indices]
  Args a(info);
  auto r = at::topk(a.tensor(0), a.int64(1), a.int64(2), a.boolean(3, true), a.boolean(4, true));
  return WrapList(a.env(), {std::get<0>(r), std::get<1>(r)});
}

Napi::Value Allclose(const Napi::CallbackInfo& info) {  // (a, b, rtol, atol, equalNan)
  Args a(info);
  bool r = at::allclose(a.tensor(0), a.tensor(1), a.number(2), a.number(3), a.boolean(4, false));
  return Napi::Boolean::New(a.env(), r);
}

Napi::Value Equal(const Napi::CallbackInfo& info) {  // (a, b): same size and elements
  Args a(info);
  return Napi::Boolean::New(a.env(), at::equal(a.tensor(0), a.tensor(1)));
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
#define TN_REGISTER(aten, js) Export<Unary_##js>(env, exports, #js);
  TN_UNARY(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(aten, js) Export<Inplace_##js>(env, exports, #js);
  TN_UNARY_INPLACE(TN_REGISTER)
  TN_BINARY_INPLACE(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(aten, js) Export<Binary_##js>(env, exports, #js);
  TN_BINARY(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(op) Export<Alpha_##op>(env, exports, #op); Export<Alpha_##op##_>(env, exports, #op "_");
  TN_ALPHA(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(op) Export<Scalar_##op>(env, exports, #op); Export<Scalar_##op##_>(env, exports, #op "_");
  TN_SCALAR_BINARY(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(aten, js, ...) Export<Reduce_##js>(env, exports, #js);
  TN_DIMS_REDUCTIONS(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(op, ...) Export<Reduce_##op>(env, exports, #op);
  TN_STAT_REDUCTIONS(TN_REGISTER)
  TN_EXTREMA(TN_REGISTER)
  TN_DIM_REDUCTIONS(TN_REGISTER)
  TN_BOOL_REDUCTIONS(TN_REGISTER)
#undef TN_REGISTER
#define TN_REGISTER(aten, js) Export<Softmax_##js>(env, exports, #js);
  TN_SOFTMAX(TN_REGISTER)
#undef TN_REGISTER
  Export<Div>(env, exports, "div");
  Export<Div_>(env, exports, "div_");
  Export<Clamp>(env, exports, "clamp");
  Export<Clamp_>(env, exports, "clamp_");
  Export<Fill_>(env, exports, "fill_");
  Export<Normal_>(env, exports, "normal_");
  Export<Uniform_>(env, exports, "uniform_");
  Export<Prod>(env, exports, "prod");
  Export<Norm>(env, exports, "norm");
  Export<Logsumexp>(env, exports, "logsumexp");
  Export<Sort>(env, exports, "sort");
  Export<Argsort>(env, exports, "argsort");
  Export<Topk>(env, exports, "topk");
  Export<Allclose>(env, exports, "allclose");
  Export<Equal>(env, exports, "equal");
}

}  // namespace tn
