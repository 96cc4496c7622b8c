// TorchScript (torch.jit): loading a scripted or traced module saved by Python's torch.jit.save, calling
// its methods with JS values, reading its parameters, buffers and children, and saving it again.
//
//   jitLoad(path, device?) / jitLoadAsync(path, device?)     a module handle (a type-tagged External)
//   jitRun(m, name, args) / jitRunAsync(m, name, args)       calls method `name`; JS values <-> IValues
//   jitMethodNames(m), jitHasMethod(m, name)
//   jitNamedParameters(m, recurse), jitNamedBuffers(m, recurse), jitNamedChildren(m), jitStateDict(m)
//   jitTrain(m, mode), jitIsTraining(m), jitTo(m, device), jitSave(m, tmp, path), jitDispose(m)
//
// JS -> IValue: a tensor handle -> Tensor; number -> int or float (what the method's schema asks for,
// else int when integral); bigint -> int; boolean -> bool; string -> str; null/undefined -> None;
// array -> Tuple where the schema wants a tuple, else List (element type from the schema, else
// inferred); plain object -> Dict[str, V]. LibTorch's own schema check then names any mismatch.
// IValue -> JS: the same way back; tuples and lists become arrays, dicts with str keys plain objects.
// The async forms convert arguments on the JS thread, run in Execute (never touching JS values there,
// with the caller's grad mode), and wrap the results in OnOK.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "files.h"
#include "handle.h"
#include "jit.h"
#include "tagged_external.h"

namespace tn {
namespace {

using c10::IValue;
using c10::TypePtr;

struct JitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- the module handle ----

struct ModuleBox {
  std::optional<torch::jit::Module> module;  // empty once disposed
};
const TaggedExternal<ModuleBox> kModules{0x6a69746d6f64756cULL};

}  // namespace

Napi::Value WrapModule(Napi::Env env, torch::jit::Module m) { return kModules.Make(env, new ModuleBox{std::move(m)}); }

namespace {
ModuleBox* BoxArg(const Args& a, size_t i) { return &kModules.Unwrap(a, i, "a ScriptModule handle"); }

}  // namespace

torch::jit::Module& ModuleArg(const Args& a, size_t i) {
  ModuleBox* box = BoxArg(a, i);
  if (!box->module) ThrowTorch(a.env(), ErrorKind::Torch, "this ScriptModule was disposed; it can no longer be used");
  return *box->module;
}

namespace {

// ---- loading ----

torch::jit::Module LoadImpl(const std::string& path, const std::optional<c10::Device>& device) {
  auto adapter = OpenForReading<JitError>(path);
  size_t fileSize = adapter->size();
  if (fileSize == 0) throw JitError("the file is empty (not a TorchScript file)");
  unsigned char head[4] = {0, 0, 0, 0};
  size_t got = adapter->read(0, head, 4, "");
  if (got < 4 || !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)) {
    throw JitError("not a TorchScript file (torch.jit.save writes a zip archive; this one does not start with a zip header)");
  }
  // Look inside first: a torch.save file is a zip too, and deserves a message that says so.
  std::vector<std::string> names;
  try {
    caffe2::serialize::PyTorchStreamReader reader(adapter);
    names = reader.getAllRecords();
  } catch (...) {
    throw JitError("not a valid TorchScript file (corrupt or truncated zip archive): " + CaptureCurrent().message);
  }
  bool hasData = false, hasCode = false, hasConstants = false;
  for (const auto& n : names) {
    if (n == "data.pkl") hasData = true;
    if (n == "constants.pkl") hasConstants = true;
    if (n.rfind("code/", 0) == 0) hasCode = true;
  }
  if (!hasCode || !hasConstants) {
    if (hasData)
      throw JitError("not a TorchScript file: this is a torch.save file (it has data.pkl but no code/); load it with torch.load");
    throw JitError("not a TorchScript file: the archive has no code/ or constants.pkl");
  }
  if (!hasData) throw JitError("not a valid TorchScript file: the archive has no data.pkl");
  try {
    return torch::jit::load(std::static_pointer_cast<caffe2::serialize::ReadAdapterInterface>(adapter), device, /*load_debug_files=*/false);
  } catch (...) {
    throw JitError("not a valid TorchScript file (corrupt or unsupported): " + CaptureCurrent().message);
  }
}

std::optional<c10::Device> DeviceArg(const Args& a, size_t i) {
  if (a.missing(i)) return std::nullopt;
  return a.device(i);
}

Napi::Value JitLoad(const Napi::CallbackInfo& info) {
  Args a(info);
  std::string path = a.string(0);
  auto device = DeviceArg(a, 1);
  try {
    return WrapModule(a.env(), LoadImpl(path, device));
  } catch (const JitError& e) {
    ThrowTorch(a.env(), ErrorKind::Torch, e.what());
  }
}

class LoadWorker final : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, std::optional<c10::Device> device)
      : PromiseWorker(env, "torchnode.jit.load"), path_(std::move(path)), device_(device) {}

 private:
  void Run() override { module_ = LoadImpl(path_, device_); }
  Napi::Value Result(Napi::Env env) override { return WrapModule(env, std::move(*module_)); }
  std::string path_;
  std::optional<c10::Device> device_;
  std::optional<torch::jit::Module> module_;
};

Napi::Value JitLoadAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new LoadWorker(a.env(), a.string(0), DeviceArg(a, 1));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---- JS -> IValue ----

[[noreturn]] void Unsupported(Napi::Env env, const std::string& where, const std::string& what) {
  ThrowTypeError(env, where + ": cannot pass " + what +
                          " to TorchScript (tensors, numbers, booleans, strings, null, arrays and plain objects can be passed)");
}

// The type a value gives a list or dict element when the schema says nothing (tensors unshaped).
TypePtr ElementTypeOf(const IValue& v) {
  if (v.isTensor()) return c10::TensorType::get();
  return c10::unshapedType(v.type());
}

TypePtr Unify(const std::vector<IValue>& items) {
  TypePtr t;
  for (const auto& v : items) {
    TypePtr e = ElementTypeOf(v);
    if (!t) {
      t = e;
      continue;
    }
    auto u = c10::unifyTypes(t, e);
    if (!u) return c10::AnyType::get();
    t = *u;
  }
  return t ? t : c10::TensorType::get();  // an empty list with no hint: List[Tensor], TorchScript's default
}

// Strips Optional[T] to T (null is handled before a hint is consulted).
TypePtr Unwrapped(TypePtr hint) {
  if (hint && hint->kind() == c10::TypeKind::OptionalType) return hint->expectRef<c10::OptionalType>().getElementType();
  return hint;
}

}  // namespace

IValue ToIValue(Napi::Env env, Napi::Value v, TypePtr hint, const std::string& where, int depth) {
  if (depth > 64) ThrowRangeError(env, where + ": nested more than 64 levels deep");
  if (v.IsUndefined() || v.IsNull()) return IValue();
  hint = Unwrapped(hint);
  c10::TypeKind hk = hint ? hint->kind() : c10::TypeKind::AnyType;
  if (v.IsBoolean()) return IValue(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    bool integral = std::isfinite(d) && d == std::trunc(d) && std::fabs(d) <= 9007199254740992.0;
    if (hk == c10::TypeKind::FloatType || hk == c10::TypeKind::ComplexType) return IValue(d);
    if (integral) return IValue(static_cast<int64_t>(d));
    return IValue(d);
  }
  if (IsTensorHandle(env, v)) return IValue(Unwrap(env, v, where.c_str()));
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) ThrowRangeError(env, where + ": a bigint outside int64's range");
    return IValue(x);
  }
  if (v.IsString()) return IValue(v.As<Napi::String>().Utf8Value());
  if (v.IsArray()) {
    Napi::Array arr = v.As<Napi::Array>();
    uint32_t n = arr.Length();
    if (hk == c10::TypeKind::TupleType) {
      const auto& elems = hint->expectRef<c10::TupleType>().elements();
      std::vector<IValue> items;
      items.reserve(n);
      for (uint32_t k = 0; k < n; ++k) {
        items.push_back(ToIValue(env, arr.Get(k), k < elems.size() ? elems[k] : nullptr, where + "[" + std::to_string(k) + "]", depth + 1));
      }
      return c10::ivalue::Tuple::create(std::move(items));
    }
    TypePtr elemHint = hk == c10::TypeKind::ListType ? hint->expectRef<c10::ListType>().getElementType() : nullptr;
    std::vector<IValue> items;
    items.reserve(n);
    for (uint32_t k = 0; k < n; ++k) items.push_back(ToIValue(env, arr.Get(k), elemHint, where + "[" + std::to_string(k) + "]", depth + 1));
    TypePtr elem = elemHint;
    if (elem) {
      for (const auto& x : items) {
        if (!x.type()->isSubtypeOf(*elem)) {
          elem = nullptr;  // not what the schema wants: build what it is, and let the schema check name it
          break;
        }
      }
    }
    if (!elem) elem = Unify(items);
    c10::impl::GenericList list(elem);
    list.reserve(n);
    for (auto& x : items) list.push_back(std::move(x));
    return IValue(std::move(list));
  }
  if (v.IsObject()) {
    if (v.IsFunction() || v.IsExternal() || v.IsTypedArray() || v.IsArrayBuffer() || v.IsPromise()) Unsupported(env, where, "this value");
    Napi::Object obj = v.As<Napi::Object>();
    TypePtr valueHint;
    if (hk == c10::TypeKind::DictType) valueHint = hint->expectRef<c10::DictType>().getValueType();
    Napi::Array keys = obj.GetPropertyNames();
    std::vector<std::string> names;
    std::vector<IValue> values;
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      std::string key = keys.Get(k).ToString().Utf8Value();
      names.push_back(key);
      values.push_back(ToIValue(env, obj.Get(key), valueHint, where + "." + key, depth + 1));
    }
    TypePtr value = valueHint;
    if (value) {
      for (const auto& x : values) {
        if (!x.type()->isSubtypeOf(*value)) {
          value = nullptr;
          break;
        }
      }
    }
    if (!value) value = Unify(values);
    c10::impl::GenericDict dict(c10::StringType::get(), value);
    for (size_t k = 0; k < names.size(); ++k) dict.insert_or_assign(IValue(names[k]), std::move(values[k]));
    return IValue(std::move(dict));
  }
  Unsupported(env, where, "a symbol");
}

namespace {

struct Prepared {
  torch::jit::Module module;
  std::string name;
  std::vector<IValue> stack;  // the arguments, self not included
};

Prepared Prepare(const Args& a) {
  torch::jit::Module& m = ModuleArg(a, 0);
  std::string name = a.string(1);
  auto method = m.find_method(name);
  if (!method) {
    std::string known;
    for (const auto& me : m.get_methods()) known += (known.empty() ? "" : ", ") + me.name();
    ThrowTorch(a.env(), ErrorKind::Torch,
               "the ScriptModule has no method '" + name + "' (its methods: " + (known.empty() ? "none" : known) + ")");
  }
  const auto& schema = method->function().getSchema();
  const auto& params = schema.arguments();
  if (!a[2].IsArray()) a.fail(2, "an array of arguments");
  Napi::Array args = a[2].As<Napi::Array>();
  Prepared p{m, name, {}};
  p.stack.reserve(args.Length());
  for (uint32_t k = 0; k < args.Length(); ++k) {
    size_t s = k + 1;  // params[0] is self
    TypePtr hint = s < params.size() ? params[s].type() : nullptr;
    std::string where = s < params.size() ? "argument '" + params[s].name() + "'" : "argument " + std::to_string(k);
    p.stack.push_back(ToIValue(a.env(), args.Get(k), hint, where));
  }
  return p;
}

}  // namespace

// ---- IValue -> JS ----

namespace {
// Throws (as FromIValue would) before anything is wrapped: a handle made for part of a result that then
// fails to convert would have no owner (handles have no finalizer of their own).
void CheckConvertible(Napi::Env env, const IValue& v, int depth) {
  if (depth > 64) ThrowTorch(env, ErrorKind::Torch, "a TorchScript result nested more than 64 levels deep");
  if (v.isNone() || v.isTensor() || v.isBool() || v.isInt() || v.isDouble() || v.isString() || v.isDevice()) return;
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) CheckConvertible(env, e, depth + 1);
    return;
  }
  if (v.isList()) {
    for (const auto& e : v.toListRef()) CheckConvertible(env, e, depth + 1);
    return;
  }
  if (v.isGenericDict()) {
    for (const auto& e : v.toGenericDict()) {
      CheckConvertible(env, e.key(), depth + 1);
      CheckConvertible(env, e.value(), depth + 1);
    }
    return;
  }
  if (v.isObject() && v.toObjectRef().type()->is_module()) return;
  ThrowTorch(env, ErrorKind::Torch, "cannot return a TorchScript value of type " + v.type()->repr_str() + " to JavaScript");
}
}  // namespace

Napi::Value FromIValue(Napi::Env env, const IValue& v, int depth) {
  if (depth == 0) CheckConvertible(env, v, 0);
  if (v.isNone()) return env.Null();
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) {  // a BigInt beyond 2^53, where a number would round it (as torch.load does)
    int64_t i = v.toInt();
    if (i > kMaxSafeInteger || i < -kMaxSafeInteger) return Napi::BigInt::New(env, i);
    return Napi::Number::New(env, static_cast<double>(i));
  }
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isDevice()) return Napi::String::New(env, v.toDevice().str());
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    Napi::Array out = Napi::Array::New(env, elems.size());
    for (size_t k = 0; k < elems.size(); ++k) out.Set(static_cast<uint32_t>(k), FromIValue(env, elems[k], depth + 1));
    return out;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t k = 0; k < list.size(); ++k) out.Set(static_cast<uint32_t>(k), FromIValue(env, list[k], depth + 1));
    return out;
  }
  if (v.isGenericDict()) {
    // {__dict: [[key, value], ...], strKeys}: lib/jit.ts makes a plain object (str keys) or a Map of it.
    auto dict = v.toGenericDict();
    Napi::Array pairs = Napi::Array::New(env, dict.size());
    uint32_t k = 0;
    for (const auto& e : dict) {
      Napi::Array kv = Napi::Array::New(env, 2);
      kv.Set(0u, FromIValue(env, e.key(), depth + 1));
      kv.Set(1u, FromIValue(env, e.value(), depth + 1));
      pairs.Set(k++, kv);
    }
    Napi::Object marker = Napi::Object::New(env);
    marker.Set("__dict", pairs);
    marker.Set("strKeys", dict.keyType()->kind() == c10::TypeKind::StringType);
    return marker;
  }
  if (v.isObject() && v.toObjectRef().type()->is_module()) {
    Napi::Object marker = Napi::Object::New(env);
    marker.Set("__module", WrapModule(env, torch::jit::Module(v.toObject())));
    return marker;
  }
  ThrowTorch(env, ErrorKind::Torch, "cannot return a TorchScript value of type " + v.type()->repr_str() + " to JavaScript");
}

namespace {

Napi::Value JitRun(const Napi::CallbackInfo& info) {
  Args a(info);
  Prepared p = Prepare(a);
  IValue out = p.module.get_method(p.name)(std::move(p.stack));
  return FromIValue(a.env(), out);
}

// With `backward`, the worker also runs backward from the method's first result (the loss of a traced
// training step), so a whole forward + backward leaves the JS thread; results come back detached.
class RunWorker final : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, Prepared p, bool backward)
      : PromiseWorker(env, "torchnode.jit.forward", RunOn::ComputeThread), p_(std::move(p)), backward_(backward) {}

 private:
  void Run() override {
    c10::AutoGradMode mode(c10::GradMode::is_enabled() || backward_);  // the caller's grad mode (PromiseWorker)
    out_ = p_.module.get_method(p_.name)(std::move(p_.stack));
    if (!backward_) return;
    std::vector<IValue> items = out_.isTuple() ? out_.toTupleRef().elements().vec() : std::vector<IValue>{out_};
    if (items.empty() || !items[0].isTensor()) throw std::runtime_error("backward: the method's first result is not a tensor");
    torch::autograd::backward({items[0].toTensor()});
    for (auto& v : items) {
      if (v.isTensor()) v = v.toTensor().detach();
    }
    out_ = out_.isTuple() ? IValue(c10::ivalue::Tuple::create(std::move(items))) : items[0];
  }
  Napi::Value Result(Napi::Env env) override { return FromIValue(env, out_); }
  Prepared p_;
  bool backward_;
  IValue out_;
};

// jitRunAsync(m, name, args, backward?)
Napi::Value JitRunAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  bool backward = a.boolean(3, false);
  auto* w = new RunWorker(a.env(), Prepare(a), backward);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---- state ----

Napi::Value JitMethodNames(const Napi::CallbackInfo& info) {
  Args a(info);
  auto methods = ModuleArg(a, 0).get_methods();
  Napi::Array out = Napi::Array::New(a.env(), methods.size());
  for (size_t k = 0; k < methods.size(); ++k) out.Set(static_cast<uint32_t>(k), methods[k].name());
  return out;
}

Napi::Value Pair(Napi::Env env, const std::string& name, Napi::Value v) {
  Napi::Array kv = Napi::Array::New(env, 2);
  kv.Set(0u, name);
  kv.Set(1u, v);
  return kv;
}

// [name, value] pairs of one of a module's named lists, each value wrapped by `wrap`.
template <typename List, typename WrapFn>
Napi::Value NamedPairs(Napi::Env env, const List& list, WrapFn wrap) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t k = 0;
  for (const auto& item : list) out.Set(k++, Pair(env, item.name, wrap(env, item.value)));
  return out;
}
const auto kWrapTensor = [](Napi::Env env, const at::Tensor& t) { return Wrap(env, t); };

Napi::Value JitNamedParameters(const Napi::CallbackInfo& info) {
  Args a(info);
  return NamedPairs(a.env(), ModuleArg(a, 0).named_parameters(a.boolean(1, true)), kWrapTensor);
}

Napi::Value JitNamedBuffers(const Napi::CallbackInfo& info) {
  Args a(info);
  return NamedPairs(a.env(), ModuleArg(a, 0).named_buffers(a.boolean(1, true)), kWrapTensor);
}

Napi::Value JitNamedChildren(const Napi::CallbackInfo& info) {
  Args a(info);
  return NamedPairs(a.env(), ModuleArg(a, 0).named_children(), WrapModule);
}

// Python's state_dict order: each module's parameters, then its buffers, then its children's.
void CollectState(Napi::Env env, const torch::jit::Module& m, const std::string& prefix, Napi::Array& out, uint32_t& k) {
  for (const auto& p : m.named_parameters(false)) out.Set(k++, Pair(env, prefix + p.name, Wrap(env, p.value.detach())));
  for (const auto& b : m.named_buffers(false)) out.Set(k++, Pair(env, prefix + b.name, Wrap(env, b.value.detach())));
  for (const auto& c : m.named_children()) CollectState(env, c.value, prefix + c.name + ".", out, k);
}

Napi::Value JitStateDict(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Array out = Napi::Array::New(a.env());
  uint32_t k = 0;
  CollectState(a.env(), ModuleArg(a, 0), "", out, k);
  return out;
}

Napi::Value JitTrain(const Napi::CallbackInfo& info) {
  Args a(info);
  ModuleArg(a, 0).train(a.boolean(1, true));
  return a.env().Undefined();
}

Napi::Value JitIsTraining(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), ModuleArg(a, 0).is_training());
}

Napi::Value JitTo(const Napi::CallbackInfo& info) {
  Args a(info);
  ModuleArg(a, 0).to(a.device(1));
  return a.env().Undefined();
}

// jitSave(m, tmpPath, path): writes tmpPath, fsyncs it and renames it over path.
Napi::Value JitSave(const Napi::CallbackInfo& info) {
  Args a(info);
  torch::jit::Module& m = ModuleArg(a, 0);
  std::string tmp = a.string(1), path = a.string(2);
  try {
    m.save(tmp);
    int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw JitError("cannot reopen the temporary file: " + ErrnoText(errno));
    int r = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (r != 0) throw JitError("fsync failed: " + ErrnoText(e));
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw JitError("cannot rename the temporary file into place: " + ErrnoText(errno));
  } catch (...) {
    std::string why = CaptureCurrent().message;
    ::unlink(tmp.c_str());
    ThrowTorch(a.env(), ErrorKind::Torch, why);
  }
  return a.env().Undefined();
}

Napi::Value JitDispose(const Napi::CallbackInfo& info) {
  Args a(info);
  ModuleBox* box = BoxArg(a, 0);
  bool was = box->module.has_value();
  box->module.reset();
  return Napi::Boolean::New(a.env(), was);
}

}  // namespace

void RegisterJit(Napi::Env env, Napi::Object exports) {
  Export<JitLoad>(env, exports, "jitLoad");
  Export<JitLoadAsync>(env, exports, "jitLoadAsync");
  Export<JitRun>(env, exports, "jitRun");
  Export<JitRunAsync>(env, exports, "jitRunAsync");
  Export<JitMethodNames>(env, exports, "jitMethodNames");
  Export<JitNamedParameters>(env, exports, "jitNamedParameters");
  Export<JitNamedBuffers>(env, exports, "jitNamedBuffers");
  Export<JitNamedChildren>(env, exports, "jitNamedChildren");
  Export<JitStateDict>(env, exports, "jitStateDict");
  Export<JitTrain>(env, exports, "jitTrain");
  Export<JitIsTraining>(env, exports, "jitIsTraining");
  Export<JitTo>(env, exports, "jitTo");
  Export<JitSave>(env, exports, "jitSave");
  Export<JitDispose>(env, exports, "jitDispose");
}

}  // namespace tn
