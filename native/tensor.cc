// Tensors: creation from JS data, the generators' seed and state, reading (shape, dtype, item, data), dispose.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch_v2.h>
#include <ATen/Parallel.h>
#include <c10/util/Half.h>
#include <c10/util/BFloat16.h>

#include <cstring>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value Finish(const Args& a, at::Tensor t, size_t requiresGradAt) {
  if (a.boolean(requiresGradAt, false)) t.set_requires_grad(true);
  return Wrap(a.env(), std::move(t));
}

// The ScalarType a TypedArray holds.
at::ScalarType TypedArrayType(const Args& a, napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int8_array: return at::kChar;
    case napi_uint8_array:
    case napi_uint8_clamped_array: return at::kByte;
    case napi_int16_array: return at::kShort;
    case napi_int32_array: return at::kInt;
    case napi_bigint64_array: return at::kLong;
    case napi_uint16_array: return at::kUInt16;
    case napi_uint32_array: return at::kUInt32;
    case napi_biguint64_array: return at::kUInt64;
    default: a.fail(0, "a Float32/Float64/Int8/Uint8/Int16/Uint16/Int32/Uint32/BigInt64/BigUint64 TypedArray");
  }
}

// JS numbers into an integer dtype as torch.tensor stores Python values: an integral number is a Python
// int (checked_convert from int64), any other a Python float (from double); out of range is an error,
// by this LibTorch's own rule (2.14 truncates a float before its check, 2.13 does not).
void CheckIntegerValues(const Args& a, const double* values, int64_t n, at::ScalarType dst) {
  // Python's names in its message (torch/csrc/utils/python_scalars.h), not c10's Byte/Char/…
  const char* name = DtypeName(dst);
  auto check = [&](auto zero) {
    using scalar_t = decltype(zero);
    for (int64_t k = 0; k < n; ++k) {
      double d = values[k];
      if (std::isfinite(d) && d == std::trunc(d)) {
        if (!InInt64Range(d)) ThrowTorch(a.env(), ErrorKind::Value, "Overflow when unpacking long long");
        c10::checked_convert<scalar_t, int64_t>(static_cast<int64_t>(d), name);
      } else {
        c10::checked_convert<scalar_t, double>(d, name);
      }
    }
  };
  AT_DISPATCH_V2(dst, "tensor", AT_WRAP([&] { check(scalar_t{}); }), AT_EXPAND(AT_INTEGRAL_TYPES), AT_EXPAND(AT_BAREBONES_UNSIGNED_TYPES));
}

// fromData(typedArray, shape, dtype?, device?, requiresGrad, checked?): copies the JS data into a new
// tensor; `checked`: a Float64Array of JS numbers, range-checked for an integer dtype (torch.tensor's rule).
Napi::Value FromData(const Napi::CallbackInfo& info) {
  Args a(info);
  if (!a[0].IsTypedArray()) a.fail(0, "a TypedArray");
  auto arr = a[0].As<Napi::TypedArray>();
  at::ScalarType src = TypedArrayType(a, arr.TypedArrayType());
  std::vector<int64_t> shape = a.intList(1);
  int64_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0) ThrowRangeError(a.env(), "shape has a negative size");
    numel *= s;
  }
  if (numel != static_cast<int64_t>(arr.ElementLength())) {
    ThrowRangeError(a.env(), "shape holds " + std::to_string(numel) + " elements but the data has " + std::to_string(arr.ElementLength()));
  }
  // The raw data pointer also works for a SharedArrayBuffer-backed array (node-addon-api's
  // ArrayBuffer() refuses those).
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(a.env(), napi_get_typedarray_info(a.env(), arr, nullptr, nullptr, &data, nullptr, nullptr), Napi::Value());
  // from_blob borrows the JS memory only for the copy below; the tensor never keeps it.
  at::Tensor view = at::from_blob(data, shape, at::TensorOptions().dtype(src));
  at::ScalarType dst = a.optDtype(2).value_or(src);
  if (a.boolean(5, false) && src == at::kDouble && at::isIntegralType(dst, /*includeBool=*/false)) {
    CheckIntegerValues(a, static_cast<const double*>(data), numel, dst);
  }
  at::Tensor t = view.to(dst, /*non_blocking=*/false, /*copy=*/true);
  if (auto dev = a.optDevice(3)) t = t.to(*dev);
  return Finish(a, std::move(t), 4);
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Args a(info);
  double seed = a.number(0);
  if (!(seed >= 0) || seed != std::trunc(seed)) ThrowRangeError(a.env(), "seed must be a non-negative integer");
  at::manual_seed(static_cast<uint64_t>(seed));
  return a.env().Undefined();
}

// The CPU generator's state as a uint8 tensor (torch.get_rng_state()), and restoring it: a resumed
// run draws the same numbers as an uninterrupted one.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Wrap(a.env(), gen.get_state());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(a.tensor(0));
  return a.env().Undefined();
}

// Intra-op threads (torch.get_num_threads / set_num_threads): LibTorch's CPU parallelism.
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t n = a.int64(0);
  if (n < 1) ThrowRangeError(a.env(), "setNumThreads: the number of threads must be positive");
  at::set_num_threads(static_cast<int>(n));
  return a.env().Undefined();
}

// ---- reading ----

Napi::Value Shape(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  auto sizes = t.sizes();
  Napi::Array out = Napi::Array::New(a.env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(a.env(), static_cast<double>(sizes[i])));
  return out;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::String::New(a.env(), DtypeName(a.tensor(0).scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  Args a(info);
  c10::Device d = a.tensor(0).device();
  // PyTorch prints a CUDA tensor's device with its index ('cuda:0').
  return Napi::String::New(a.env(), d.str());
}

Napi::Value Ndim(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), static_cast<double>(a.tensor(0).dim()));
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), static_cast<double>(a.tensor(0).numel()));
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Scalar s = a.tensor(0).item();
  if (s.isBoolean()) return Napi::Boolean::New(a.env(), s.toBool());
  // a uint64 above int64's range (Python's int is exact; a JS number rounds, as it does for a large int64)
  if (s.isIntegral(false) && s.isUnsigned()) return Napi::Number::New(a.env(), static_cast<double>(s.toUInt64()));
  if (s.isIntegral(false)) return Napi::Number::New(a.env(), static_cast<double>(s.toLong()));
  return Napi::Number::New(a.env(), s.toDouble());
}

// data(t): a copy of the elements in a new ArrayBuffer that V8 owns (Electron refuses external memory).
// float16, bfloat16 and the float8 kinds come back widened to Float32Array (exactly); bool as Uint8Array.
Napi::Value Data(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0).detach();
  // A gradient may be a ZeroTensor (no memory at all: sgn's backward gives one) or a lazily negated or
  // conjugated view; read the values they stand for.
  t = t._is_zerotensor() ? at::zeros(t.sizes(), t.options()) : t.resolve_conj().resolve_neg();
  if (t.is_complex()) t = at::view_as_real(t);  // complex: (real, imaginary) pairs, interleaved
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16 || at::isFloat8Type(t.scalar_type())) t = t.to(at::kFloat);
  t = t.to(at::kCPU).contiguous();
  napi_typedarray_type type;
  switch (t.scalar_type()) {
    case at::kFloat: type = napi_float32_array; break;
    case at::kDouble: type = napi_float64_array; break;
    case at::kLong: type = napi_bigint64_array; break;
    case at::kInt: type = napi_int32_array; break;
    case at::kShort: type = napi_int16_array; break;
    case at::kUInt64: type = napi_biguint64_array; break;
    case at::kUInt32: type = napi_uint32_array; break;
    case at::kUInt16: type = napi_uint16_array; break;
    case at::kChar: type = napi_int8_array; break;
    case at::kByte:
    case at::kBool: type = napi_uint8_array; break;
    default: ThrowTorch(a.env(), ErrorKind::Type, std::string("data() does not support dtype ") + c10::toString(t.scalar_type()));
  }
  size_t bytes = t.nbytes();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(a.env(), bytes);
  if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  napi_value out;
  NAPI_THROW_IF_FAILED(a.env(), napi_create_typedarray(a.env(), type, t.numel(), buf, 0, &out), Napi::Value());
  return Napi::Value(a.env(), out);
}

Napi::Value DisposeHandle(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), Dispose(a.env(), a[0]));
}

// [t.untyped_storage().data_ptr(), t.data_ptr()] (0s without storage): which memory a tensor uses.
Napi::Value MemoryOf(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  Napi::Array out = Napi::Array::New(a.env(), 2);
  bool has = t.has_storage();
  out.Set(0u, Napi::BigInt::New(a.env(), has ? static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.storage().data())) : 0));
  out.Set(1u, Napi::BigInt::New(a.env(), has ? static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.data_ptr())) : 0));
  return out;
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), BoxOf(a.env(), a[0], "tensor") == nullptr);
}

}  // namespace

void RegisterTensor(Napi::Env env, Napi::Object exports) {
  Export<FromData>(env, exports, "fromData");
  Export<ManualSeed>(env, exports, "manualSeed");
  Export<GetRngState>(env, exports, "getRngState");
  Export<GetNumThreads>(env, exports, "getNumThreads");
  Export<SetNumThreads>(env, exports, "setNumThreads");
  Export<SetRngState>(env, exports, "setRngState");
  Export<Shape>(env, exports, "shape");
  Export<Dtype>(env, exports, "dtype");
  Export<Device>(env, exports, "device");
  Export<Ndim>(env, exports, "ndim");
  Export<Numel>(env, exports, "numel");
  Export<Item>(env, exports, "item");
  Export<Data>(env, exports, "data");
  Export<DisposeHandle>(env, exports, "dispose");
  Export<IsDisposed>(env, exports, "isDisposed");
  Export<MemoryOf>(env, exports, "memoryOf");
}

}  // namespace tn
