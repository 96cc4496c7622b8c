// Reading JS arguments into LibTorch types. The TS layer validates first and names arguments for
// users; these checks are the backstop, so a malformed call is a thrown error, never an abort.
#pragma once
#include <napi.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Scalar.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <vector>

#include "handle.h"

namespace tn {

class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info), env_(info.Env()) {}
  Napi::Env env() const { return env_; }
  size_t size() const { return info_.Length(); }
  Napi::Value operator[](size_t i) const { return info_[i]; }
  bool missing(size_t i) const { return i >= info_.Length() || info_[i].IsUndefined() || info_[i].IsNull(); }

  const at::Tensor& tensor(size_t i) const;
  std::optional<at::Tensor> optTensor(size_t i) const;
  // A tensor, or a number/boolean as a wrapped-number 0-d tensor (what Python's arg parser does, so
  // type promotion is PyTorch's: int_tensor + 2 stays int64, int_tensor + 2.5 becomes float).
  at::Tensor operand(size_t i) const;
  // Two operands; a number beside a float32/float64 tensor becomes a wrapped number of that dtype,
  // which is what TensorIterator would cast it to anyway (it saves a per-op cast from double).
  std::pair<at::Tensor, at::Tensor> operands(size_t i, size_t j) const;
  // operand(j) typed like tensor t (same rule), for in-place ops.
  at::Tensor operandLike(size_t j, const at::Tensor& t) const;
  std::vector<at::Tensor> tensorList(size_t i) const;
  at::Scalar scalar(size_t i) const;
  std::optional<at::Scalar> optScalar(size_t i) const;
  int64_t int64(size_t i) const;
  std::optional<int64_t> optInt64(size_t i) const;
  double number(size_t i) const;
  std::optional<double> optNumber(size_t i) const;
  bool boolean(size_t i, std::optional<bool> fallback = std::nullopt) const;
  std::string string(size_t i) const;
  std::vector<int64_t> intList(size_t i) const;
  std::optional<std::vector<int64_t>> optIntList(size_t i) const;
  at::ScalarType dtype(size_t i) const;
  std::optional<at::ScalarType> optDtype(size_t i) const;
  c10::Device device(size_t i) const;
  std::optional<c10::Device> optDevice(size_t i) const;

  [[noreturn]] void fail(size_t i, const std::string& expected) const;

 private:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
};

// Whether a double lies in int64's range [-2^63, 2^63), where casting it to int64_t is defined.
inline bool InInt64Range(double d) { return d >= -0x1p63 && d < 0x1p63; }
// JS's Number.MAX_SAFE_INTEGER: ints beyond it are BigInts in JS, as a double would round them.
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

at::Scalar ToScalar(Napi::Env env, Napi::Value v, const char* what);
at::Tensor WrappedNumber(const at::Scalar& s);
// A number beside tensor t: a wrapped number of t's dtype when t is float32/float64 (what TensorIterator
// would cast it to anyway, minus the per-op cast), else WrappedNumber(s).
at::Tensor WrappedNumberLike(const at::Scalar& s, const at::Tensor& t);
// The JS name of a dtype ('float32', ...), as lib/dtype.ts names them.
const char* DtypeName(at::ScalarType t);

}  // namespace tn
