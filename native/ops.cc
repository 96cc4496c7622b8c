// The arithmetic the Tensor class keeps by hand (lib/tensor.ts): add/sub with alpha, div with its
// overflow guard, copy_ — typed calls, the fastest path for the ops a training step makes most. Every
// other operator is generated and reaches LibTorch through native/dispatch.cc.
#include <ATen/ATen.h>

#include "args.h"
#include "errors.h"
#include "ops.h"

namespace tn {

// Integer division of the type's minimum by -1 overflows and traps the CPU (SIGFPE): PyTorch itself
// dies there. Checked only for int32/int64 'trunc' division on the CPU, the one path that reaches a
// trapping hardware divide (narrower types are divided as int; a GPU does not trap, and the check's item()
// would sync and break graph capture). Compared in the result type, where the division happens.
void CheckIntegerDivision(const at::Tensor& x, const at::Tensor& y, const std::optional<c10::string_view>& mode) {
  if (!mode || *mode != "trunc" || !x.is_cpu() || !y.is_cpu()) return;
  at::ScalarType t = at::result_type(x, y);
  if (t != at::kInt && t != at::kLong) return;
  at::Scalar minimum =
      t == at::kInt ? at::Scalar(int64_t{std::numeric_limits<int32_t>::min()}) : at::Scalar(std::numeric_limits<int64_t>::min());
  bool overflow = at::logical_and(x.to(t).eq(minimum), y.to(t).eq(-1)).any().item<bool>();
  TORCH_CHECK_VALUE(!overflow, "integer division overflow: the minimum ", t, " divided by -1 has no ", t, " result");
}

namespace {

Napi::Value Undefined(const Args& a) { return a.env().Undefined(); }

// add/sub take alpha: (a, b, alpha?) and their in-place forms (t, b, alpha?).
#define TN_ALPHA(X) X(add) X(sub)
#define TN_DEFINE(op)                                               \
  Napi::Value Alpha_##op(const Napi::CallbackInfo& info) {          \
    Args a(info);                                                   \
    auto [x, y] = a.operands(0, 1);                                 \
    return Wrap(a.env(), at::op(x, y, a.optScalar(2).value_or(1))); \
  }                                                                 \
  Napi::Value Alpha_##op##_(const Napi::CallbackInfo& info) {       \
    Args a(info);                                                   \
    const at::Tensor& t = a.tensor(0);                              \
    t.op##_(a.operandLike(1, t), a.optScalar(2).value_or(1));       \
    return Undefined(a);                                            \
  }
TN_ALPHA(TN_DEFINE)
#undef TN_DEFINE

// copy_(t, src, nonBlocking): src a tensor, or a number written everywhere (typed like t).
Napi::Value Copy_(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  t.copy_(a.operandLike(1, t), a.boolean(2, false));
  return Undefined(a);
}

std::optional<c10::string_view> RoundingMode(const Args& a, size_t i, std::string& holder) {
  if (a.missing(i)) return std::nullopt;
  holder = a.string(i);
  return c10::string_view(holder);
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
  if (mode)
    t.div_(y, mode);
  else
    t.div_(y);
  return Undefined(a);
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
#define TN_REGISTER(op)                  \
  Export<Alpha_##op>(env, exports, #op); \
  Export<Alpha_##op##_>(env, exports, #op "_");
  TN_ALPHA(TN_REGISTER)
#undef TN_REGISTER
  Export<Copy_>(env, exports, "copy_");
  Export<Div>(env, exports, "div");
  Export<Div_>(env, exports, "div_");
}

}  // namespace tn
