// Every ATen operator through LibTorch's own dispatcher: the generated surface (lib/generated/) names an
// operator once; opFind looks it up in the running LibTorch and returns an id, opCall converts each JS
// argument by the type *this* LibTorch's schema gives it, calls the operator boxed (autograd, autocast
// and the device kernels all apply, as for a direct at:: call) and converts what it returns.
//
// Why boxed: one path serves ~2,500 overloads across LibTorch 2.9–2.14 with no generated C++ to compile,
// and an operator that this LibTorch lacks is a null id, never a build failure. Arguments are matched by
// name: the JS side passes them in the order of the schema it was generated from (PyTorch 2.13's), and
// where this LibTorch's operator orders, adds or lacks arguments, opFind maps one onto the other. Measured on LibTorch
// 2.13 (1-element add): a direct at::add 469 ns, this path's callBoxed 533 ns.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "ops.h"

namespace tn {
namespace {

// Operator handles are process-wide (the dispatcher is one per process), so the table is too: ids mean
// the same in every environment (worker thread). Slots never move; a slot is written once, before the
// count that publishes it.
constexpr uint32_t kMaxOps = 1 << 14;
constexpr bool kRemainderTraps = TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 13;

// How the arguments the JS side passes (named by the generated schema) land on this LibTorch's operator.
struct ArgMap {
  std::vector<std::string> names;  // the names the JS side passes arguments by, in its order
  std::vector<int> from;           // for each of this operator's arguments, its JS position (-1: its default);
                                   // empty when both orders are the same
  std::vector<size_t> absent;      // JS positions whose name this operator lacks: refused if given
};

struct OpTable {
  std::unique_ptr<std::optional<c10::OperatorHandle>[]> slots { new std::optional<c10::OperatorHandle>[ kMaxOps ] };
  std::unique_ptr<ArgMap[]> args{new ArgMap[kMaxOps]};
  // For div/divide with a rounding mode: the argument index of rounding_mode (the overflow guard,
  // ops.h), else -1.
  std::unique_ptr<int[]> roundingMode{new int[kMaxOps]};
  // pdist: its backward over an empty input segfaults in LibTorch 2.13 (Python dies the same way).
  std::unique_ptr<bool[]> pdist{new bool[kMaxOps]};
  // remainder/fmod of integers: the minimum modulo -1 traps the CPU before LibTorch 2.13 (SIGFPE: the
  // process dies); 2.13 gives 0, as Python does. Refused there, as trunc division's overflow is.
  std::unique_ptr<bool[]> remainderTraps{new bool[kMaxOps]};
  std::atomic<uint32_t> count{0};
  std::mutex adding;
};
OpTable& Ops() {
  static OpTable* table = new OpTable();  // never destroyed: finalizers may still call after exit starts
  return *table;
}

uint32_t IdOf(Napi::Env env, Napi::Value id) {
  uint32_t i = id.IsNumber() ? id.As<Napi::Number>().Uint32Value() : kMaxOps;
  if (i >= Ops().count.load(std::memory_order_acquire)) ThrowTypeError(env, "opCall: not an operator id from opFind");
  return i;
}

int RoundingModeArg(const c10::FunctionSchema& schema) {
  const std::string& name = schema.name();
  if (name != "aten::div" && name != "aten::div_" && name != "aten::divide" && name != "aten::divide_") return -1;
  const auto& params = schema.arguments();
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].name() == "rounding_mode") return static_cast<int>(i);
  }
  return -1;
}

// ---- JS → IValue, by the schema's type ----

int64_t IntOf(Napi::Env env, Napi::Value v, const std::string& name) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d == std::trunc(d) && InInt64Range(d)) return static_cast<int64_t>(d);
  } else if (v.IsBigInt()) {
    bool lossless = false;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return x;
  } else if (v.IsBoolean()) {
    return v.As<Napi::Boolean>().Value();  // Python's bool is an int
  }
  ThrowTypeError(env, name + " must be an integer within int64");
}

template <typename T, typename F>
c10::List<T> ListOf(Napi::Env env, Napi::Value v, const std::string& name, F&& item) {
  c10::List<T> list;
  if (!v.IsArray()) {
    list.push_back(item(v, name));  // a lone value (lib/dispatch.ts repeats one for int[N] as Python does)
    return list;
  }
  Napi::Array a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  list.reserve(n);
  for (uint32_t i = 0; i < n; ++i) list.push_back(item(a.Get(i), name + "[" + std::to_string(i) + "]"));
  return list;
}

at::Tensor TensorOf(Napi::Env env, Napi::Value v, const std::string& name) {
  if (IsHandle(env, v)) return Unwrap(env, v, name.c_str());
  return WrappedNumber(ToScalar(env, v, name.c_str()));  // a number where Python allows one as a tensor
}

c10::IValue ToIValue(Napi::Env env, Napi::Value v, const c10::TypePtr& type, const std::string& name) {
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsUndefined() || v.IsNull()) return c10::IValue();
      return ToIValue(env, v, type->castRaw<c10::OptionalType>()->getElementType(), name);
    case c10::TypeKind::TensorType: return TensorOf(env, v, name);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: return IntOf(env, v, name);
    case c10::TypeKind::FloatType:
    case c10::TypeKind::SymFloatType:
      if (!v.IsNumber()) ThrowTypeError(env, name + " must be a number");
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::BoolType:
    case c10::TypeKind::SymBoolType:
      if (!v.IsBoolean()) ThrowTypeError(env, name + " must be a boolean");
      return v.As<Napi::Boolean>().Value();
    case c10::TypeKind::NumberType: return ToScalar(env, v, name.c_str());
    case c10::TypeKind::StringType:
      if (!v.IsString()) ThrowTypeError(env, name + " must be a string");
      return v.As<Napi::String>().Utf8Value();
    case c10::TypeKind::ScalarTypeType:    // the dtype code (lib/dtype.ts checks the name)
    case c10::TypeKind::LayoutType:        // their codes (lib/dispatch.ts maps the names; a schema may
    case c10::TypeKind::MemoryFormatType:  // also call these int, as it does ScalarType)
      return IntOf(env, v, name);
    case c10::TypeKind::StreamObjType: {  // [id, deviceIndex] of a CUDA stream (lib/cuda.ts's Stream)
      if (!v.IsArray() || v.As<Napi::Array>().Length() != 2) ThrowTypeError(env, name + " must be a torch.cuda.Stream");
      Napi::Array s = v.As<Napi::Array>();
      return c10::Stream::unpack3(IntOf(env, s.Get(0u), name + ".id"),
                                  static_cast<c10::DeviceIndex>(IntOf(env, s.Get(1u), name + ".deviceIndex")), c10::DeviceType::CUDA);
    }
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) ThrowTypeError(env, name + " must be a device string such as 'cpu' or 'cuda:0'");
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::ListType: {
      const c10::TypePtr& item = type->castRaw<c10::ListType>()->getElementType();
      switch (item->kind()) {
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType:
          return ListOf<int64_t>(env, v, name, [&](Napi::Value x, const std::string& n) { return IntOf(env, x, n); });
        case c10::TypeKind::FloatType:
          return ListOf<double>(env, v, name, [&](Napi::Value x, const std::string& n) {
            if (!x.IsNumber()) ThrowTypeError(env, n + " must be a number");
            return x.As<Napi::Number>().DoubleValue();
          });
        case c10::TypeKind::BoolType:
          return ListOf<bool>(env, v, name, [&](Napi::Value x, const std::string& n) {
            if (!x.IsBoolean()) ThrowTypeError(env, n + " must be a boolean");
            return x.As<Napi::Boolean>().Value();
          });
        case c10::TypeKind::TensorType:
          return ListOf<at::Tensor>(env, v, name, [&](Napi::Value x, const std::string& n) { return Unwrap(env, x, n.c_str()); });
        case c10::TypeKind::OptionalType:
          return ListOf<std::optional<at::Tensor>>(env, v, name, [&](Napi::Value x, const std::string& n) -> std::optional<at::Tensor> {
            if (x.IsUndefined() || x.IsNull()) return std::nullopt;
            return Unwrap(env, x, n.c_str());
          });
        default: break;
      }
      break;
    }
    default: break;
  }
  ThrowTypeError(env, name + ": torchnode cannot pass a value of type " + type->str());
}

// ---- IValue → JS ----

Napi::Value ToJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) {
    int64_t x = v.toInt();
    if (x >= -kMaxSafeInteger && x <= kMaxSafeInteger) return Napi::Number::New(env, static_cast<double>(x));
    return Napi::BigInt::New(env, x);
  }
  if (v.isUnsigned()) return Napi::BigInt::New(env, v.toUInt());  // a uint64 above int64's range
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isSymInt() || v.isSymFloat() || v.isSymBool()) return ToJs(env, c10::IValue(v.toSymInt().guard_int(__FILE__, __LINE__)));
  if (v.isScalar()) {
    at::Scalar s = v.toScalar();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    if (s.isIntegral(false)) return ToJs(env, s.isUnsigned() ? c10::IValue(s.toUInt64()) : c10::IValue(s.toLong()));
    return Napi::Number::New(env, s.toDouble());
  }
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) return WrapList(env, v.toTensorVector());
  if (v.isList() || v.isTuple()) {
    std::vector<c10::IValue> items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    Napi::Array out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), ToJs(env, items[i]));
    return out;
  }
  ThrowTypeError(env, "torchnode cannot return a value of type " + v.tagKind());
}

ArgMap MapArguments(const c10::FunctionSchema& schema, std::vector<std::string> names) {
  const auto& params = schema.arguments();
  ArgMap map;
  std::vector<std::string> own;
  for (const auto& p : params) own.push_back(p.name());
  if (names.empty() || names == own) {
    map.names = std::move(own);
    return map;
  }
  map.names = std::move(names);
  for (const auto& p : params) {
    auto at = std::find(map.names.begin(), map.names.end(), p.name());
    map.from.push_back(at == map.names.end() ? -1 : static_cast<int>(at - map.names.begin()));
  }
  for (size_t j = 0; j < map.names.size(); ++j) {
    if (std::find(own.begin(), own.end(), map.names[j]) == own.end()) map.absent.push_back(j);
  }
  return map;
}

// opFind(name, overload, argNames?): the id of operator aten::name.overload in this LibTorch, or null if it
// has none. argNames: the names opCall's arguments come by (default: this LibTorch's own order).
Napi::Value OpFind(const Napi::CallbackInfo& info) {
  Args a(info);
  std::string name = a.string(0), overload = a.missing(1) ? "" : a.string(1);
  std::vector<std::string> names;
  if (!a.missing(2)) {
    if (!info[2].IsArray()) ThrowTypeError(a.env(), "opFind: argNames must be an array of strings");
    Napi::Array list = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      if (!list.Get(i).IsString()) ThrowTypeError(a.env(), "opFind: argNames must be an array of strings");
      names.push_back(list.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op) return a.env().Null();
  ArgMap map = MapArguments(op->schema(), std::move(names));
  OpTable& ops = Ops();
  std::lock_guard<std::mutex> lock(ops.adding);
  uint32_t n = ops.count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < n; ++i) {
    if (*ops.slots[i] == *op && ops.args[i].names == map.names) return Napi::Number::New(a.env(), i);
  }
  if (n == kMaxOps) ThrowTorch(a.env(), ErrorKind::Torch, "opFind: the operator table is full");
  ops.slots[n] = *op;
  ops.args[n] = std::move(map);
  ops.roundingMode[n] = RoundingModeArg(op->schema());
  ops.pdist[n] = op->schema().name() == "aten::pdist";
  const std::string& opName = op->schema().name();
  ops.remainderTraps[n] =
      kRemainderTraps && (opName == "aten::remainder" || opName == "aten::remainder_" || opName == "aten::fmod" || opName == "aten::fmod_");
  ops.count.store(n + 1, std::memory_order_release);
  return Napi::Number::New(a.env(), n);
}

// opCall(id, ...args): args in opFind's argNames order (keyword-only ones included), undefined for a default.
// One result comes back as itself, several as an array; a result that is an argument written in place
// (Tensor(a!)) comes back undefined: the caller returns its own object for it.
Napi::Value OpCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = IdOf(env, info[0]);
  const c10::OperatorHandle& op = *Ops().slots[id];
  const c10::FunctionSchema& schema = op.schema();
  const std::vector<c10::Argument>& params = schema.arguments();
  const ArgMap& map = Ops().args[id];
  size_t given = info.Length() - 1;
  if (given > map.names.size()) ThrowTypeError(env, schema.name() + " takes " + std::to_string(map.names.size()) + " arguments");
  for (size_t j : map.absent) {
    if (j < given && !info[j + 1].IsUndefined()) {
      ThrowTypeError(env, schema.name() + "(): argument '" + map.names[j] + "' is not in this LibTorch's operator (" + schema.name() +
                              (schema.overload_name().empty() ? "" : "." + schema.overload_name()) + ")");
    }
  }
  // The JS value for this operator's argument i.
  auto argument = [&](size_t i) -> Napi::Value {
    size_t j = map.from.empty() ? i : static_cast<size_t>(map.from[i]);  // -1 wraps past `given`
    return j < given ? info[j + 1] : env.Undefined();
  };
  torch::jit::Stack stack;
  stack.reserve(params.size());
  // Numbers passed for Tensor arguments (x.mul(2)): typed like the first real tensor once it is known.
  std::vector<std::pair<size_t, at::Scalar>> numbers;
  const at::Tensor* reference = nullptr;
  for (size_t i = 0; i < params.size(); ++i) {
    const c10::Argument& p = params[i];
    Napi::Value v = argument(i);
    if (p.type()->kind() == c10::TypeKind::TensorType && (v.IsNumber() || v.IsBoolean() || (v.IsBigInt() && !IsHandle(env, v)))) {
      numbers.emplace_back(i, ToScalar(env, v, p.name().c_str()));
      stack.emplace_back();
    } else if (v.IsUndefined()) {
      if (p.default_value())
        stack.push_back(*p.default_value());
      else if (p.type()->kind() == c10::TypeKind::OptionalType)
        stack.emplace_back();
      else
        ThrowTypeError(env, schema.name() + "(): missing argument '" + p.name() + "'");
    } else {
      stack.push_back(ToIValue(env, v, p.type(), p.name()));
      if (!reference && stack.back().isTensor()) reference = &stack.back().toTensor();
    }
  }
  for (auto& [i, s] : numbers) stack[i] = reference ? WrappedNumberLike(s, *reference) : WrappedNumber(s);
  if (int mode = Ops().roundingMode[id]; mode >= 0 && stack[mode].isString()) {
    const c10::IValue& other = stack[1];
    CheckIntegerDivision(stack[0].toTensor(), other.isTensor() ? other.toTensor() : WrappedNumber(other.toScalar()),
                         c10::string_view(stack[mode].toStringRef()));
  }
  if (Ops().remainderTraps[id] && stack.size() >= 2) {
    auto operand = [](const c10::IValue& v) { return v.isTensor() ? v.toTensor() : WrappedNumber(v.toScalar()); };
    CheckIntegerDivision(operand(stack[0]), operand(stack[1]), c10::string_view("trunc"));
  }
  if (Ops().pdist[id] && stack[0].isTensor()) {
    const at::Tensor& x = stack[0].toTensor();
    TORCH_CHECK_VALUE(!(x.requires_grad() && x.dim() > 0 && x.size(0) == 0),
                      "pdist: an input with no rows that requires grad "
                      "is refused: LibTorch's backward for it crashes the process (detach it, or pass at least one row)");
  }
  op.callBoxed(stack);
  const std::vector<c10::Argument>& returns = schema.returns();
  auto result = [&](size_t i) -> Napi::Value {
    const c10::AliasInfo* alias = returns.size() == stack.size() ? returns[i].alias_info() : nullptr;
    if (alias && alias->isWrite()) return env.Undefined();
    return ToJs(env, stack[i]);
  };
  if (stack.size() == 1) return result(0);
  if (stack.empty()) return env.Undefined();
  Napi::Array out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), result(i));
  return out;
}

}  // namespace

void RegisterDispatch(Napi::Env env, Napi::Object exports) {
  Export<OpFind>(env, exports, "opFind");
  Export<OpCall>(env, exports, "opCall");
}

}  // namespace tn
