#include "args.h"

#include <ATen/ScalarOps.h>
#include <c10/util/Exception.h>

#include <cmath>

#include "errors.h"

namespace tn {

void Args::fail(size_t i, const std::string& expected) const {
  ThrowTypeError(env_, "argument " + std::to_string(i) + " must be " + expected);
}

const at::Tensor& Args::tensor(size_t i) const {
  static const std::string names[] = {"argument 0", "argument 1", "argument 2", "argument 3", "argument 4", "argument 5"};
  return Unwrap(env_, i < info_.Length() ? info_[i] : env_.Undefined(), i < 6 ? names[i].c_str() : "argument");
}

std::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (missing(i)) return std::nullopt;
  return tensor(i);
}

at::Tensor WrappedNumber(const at::Scalar& s) {
  at::Tensor t = c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

at::Scalar ToScalar(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    // An integral JS number is a Python int (int64 scalar), as in torch.tensor(); anything else a Python float.
    if (std::isfinite(d) && d == std::trunc(d) && InInt64Range(d)) return at::Scalar(static_cast<int64_t>(d));
    return at::Scalar(d);
  }
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) ThrowRangeError(env, std::string(what) + " does not fit in int64");
    return at::Scalar(x);
  }
  ThrowTypeError(env, std::string(what) + " must be a number or boolean");
}

at::Tensor Args::operand(size_t i) const {
  Napi::Value v = i < info_.Length() ? info_[i] : env_.Undefined();
  if (IsHandle(env_, v)) return tensor(i);
  return WrappedNumber(ToScalar(env_, v, "operand"));
}

at::Tensor WrappedNumberLike(const at::Scalar& s, const at::Tensor& t) {
  at::ScalarType dt = t.scalar_type();
  if (dt != at::kFloat && dt != at::kDouble) return WrappedNumber(s);
  at::Tensor w = at::detail::scalar_tensor_static(s, dt, at::kCPU);
  w.unsafeGetTensorImpl()->set_wrapped_number(true);
  return w;
}

std::pair<at::Tensor, at::Tensor> Args::operands(size_t i, size_t j) const {
  Napi::Value vi = i < info_.Length() ? info_[i] : env_.Undefined();
  Napi::Value vj = j < info_.Length() ? info_[j] : env_.Undefined();
  bool ti = IsHandle(env_, vi), tj = IsHandle(env_, vj);  // a handle, or a number/boolean
  if (ti && !tj) {
    at::Tensor a = tensor(i);
    return {a, WrappedNumberLike(ToScalar(env_, vj, "operand"), a)};
  }
  if (tj && !ti) {
    at::Tensor b = tensor(j);
    return {WrappedNumberLike(ToScalar(env_, vi, "operand"), b), b};
  }
  return {operand(i), operand(j)};
}

at::Tensor Args::operandLike(size_t j, const at::Tensor& t) const {
  Napi::Value v = j < info_.Length() ? info_[j] : env_.Undefined();
  if (IsHandle(env_, v)) return tensor(j);
  return WrappedNumberLike(ToScalar(env_, v, "operand"), t);
}

std::vector<at::Tensor> Args::tensorList(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "an array of Tensors");
  Napi::Array arr = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out.push_back(Unwrap(env_, arr.Get(k), "tensor list element"));
  return out;
}

at::Scalar Args::scalar(size_t i) const {
  if (i >= info_.Length()) fail(i, "a number");
  return ToScalar(env_, info_[i], "scalar");
}

std::optional<at::Scalar> Args::optScalar(size_t i) const {
  if (missing(i)) return std::nullopt;
  return scalar(i);
}

double Args::number(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) fail(i, "a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

std::optional<double> Args::optNumber(size_t i) const {
  if (missing(i)) return std::nullopt;
  return number(i);
}

int64_t Args::int64(size_t i) const {
  double d = number(i);
  if (!std::isfinite(d) || d != std::trunc(d) || !InInt64Range(d)) fail(i, "an integer within int64");
  return static_cast<int64_t>(d);
}

std::optional<int64_t> Args::optInt64(size_t i) const {
  if (missing(i)) return std::nullopt;
  return int64(i);
}

bool Args::boolean(size_t i, std::optional<bool> fallback) const {
  if (missing(i) && fallback) return *fallback;
  if (i >= info_.Length() || !info_[i].IsBoolean()) fail(i, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) fail(i, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::intList(size_t i) const {
  if (i >= info_.Length()) fail(i, "an array of integers");
  if (info_[i].IsNumber()) return {int64(i)};
  if (!info_[i].IsArray()) fail(i, "an array of integers");
  Napi::Array arr = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740992.0) fail(i, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::optional<std::vector<int64_t>> Args::optIntList(size_t i) const {
  if (missing(i)) return std::nullopt;
  return intList(i);
}

// dtypes cross as at::ScalarType codes (lib/dtype.ts holds the same table).
static bool SupportedDtype(int64_t code) {
  switch (static_cast<at::ScalarType>(code)) {
    case at::kByte:
    case at::kChar:
    case at::kShort:
    case at::kInt:
    case at::kLong:
    case at::kHalf:
    case at::kFloat:
    case at::kDouble:
    case at::kBool:
    case at::kBFloat16:
    case at::kComplexFloat:
    case at::kComplexDouble:
    case at::kUInt16:
    case at::kUInt32:
    case at::kUInt64:
    case at::kFloat8_e5m2:
    case at::kFloat8_e4m3fn:
    case at::kFloat8_e5m2fnuz:
    case at::kFloat8_e4m3fnuz:
    case at::kFloat8_e8m0fnu: return true;
    default: return false;
  }
}

at::ScalarType Args::dtype(size_t i) const {
  int64_t code = int64(i);
  if (code < 0 || code > 64 || !SupportedDtype(code)) fail(i, "a supported dtype code");
  return static_cast<at::ScalarType>(code);
}

std::optional<at::ScalarType> Args::optDtype(size_t i) const {
  if (missing(i)) return std::nullopt;
  return dtype(i);
}

c10::Device Args::device(size_t i) const {
  std::string s = string(i);
  try {
    return c10::Device(s);
  } catch (const c10::Error&) {
    ThrowTypeError(env_, "invalid device '" + s + "' (expected 'cpu', 'cuda' or 'cuda:N')");
  }
}

std::optional<c10::Device> Args::optDevice(size_t i) const {
  if (missing(i)) return std::nullopt;
  return device(i);
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kByte: return "uint8";
    case at::kChar: return "int8";
    case at::kShort: return "int16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kHalf: return "float16";
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kBool: return "bool";
    case at::kBFloat16: return "bfloat16";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    case at::kUInt16: return "uint16";
    case at::kUInt32: return "uint32";
    case at::kUInt64: return "uint64";
    case at::kFloat8_e5m2: return "float8_e5m2";
    case at::kFloat8_e4m3fn: return "float8_e4m3fn";
    case at::kFloat8_e5m2fnuz: return "float8_e5m2fnuz";
    case at::kFloat8_e4m3fnuz: return "float8_e4m3fnuz";
    case at::kFloat8_e8m0fnu: return "float8_e8m0fnu";
    default: return c10::toString(t);
  }
}

}  // namespace tn
