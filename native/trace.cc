// torch.jit.trace for torchnode's own Modules. The TypeScript module tree is mirrored by a TorchScript
// module tree holding the very same tensors (parameters, buffers), then the JS forward runs once under
// LibTorch's tracer, which records every ATen op into a graph; reads of the shared tensors become
// attribute reads of the module. The result is a real TorchScript module: it runs here (ScriptModule),
// saves with torch.jit.save, and Python's torch.jit.load runs it.
//
//   jitTrace(spec, inputs, fn, strict, simple) -> module handle   (simple: run the graph as recorded)
//     spec   {name, training, params: [[name, t]], buffers: [[name, t]], attrs: [[name, t]],
//             children: [[name, spec]]}   (attrs: tensors that are not state, e.g. non-persistent buffers)
//     fn     (inputHandles) => output: runs the JS forward; the output is a tensor or (nested) arrays of them
//   jitTracePushScope(name) / jitTracePopScope()
//     lib/nn/module.ts brackets each submodule call with these while tracing, as Python's
//     Module._slow_forward does, so every submodule gets its own forward method in the result.
#include <ATen/ATen.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "handle.h"
#include "jit.h"

namespace tn {
namespace {

namespace tracer = torch::jit::tracer;
using c10::IValue;

// TorchScript class names are identifiers; a JS class name may hold '$' or be empty.
std::string ClassName(const std::string& js) {
  std::string out;
  for (char c : js) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "Module" + out;
  return out;
}

// Calls f(name, value) for each [name, value] pair of spec[key].
template <typename F>
void ForEachPair(Napi::Object spec, const char* key, F f) {
  Napi::Value v = spec.Get(key);
  if (!v.IsArray()) return;
  Napi::Array pairs = v.As<Napi::Array>();
  for (uint32_t k = 0; k < pairs.Length(); ++k) {
    Napi::Array kv = pairs.Get(k).As<Napi::Array>();
    f(kv.Get(0u).As<Napi::String>().Utf8Value(), kv.Get(1u));
  }
}

torch::jit::Module Build(Napi::Env env, Napi::Object spec, const std::shared_ptr<torch::jit::CompilationUnit>& cu, int depth) {
  if (depth > 200) ThrowRangeError(env, "jit.trace: the module tree is nested more than 200 levels deep");
  std::string cls = ClassName(spec.Get("name").As<Napi::String>().Utf8Value());
  // Each instance gets its own class (mangled when the name repeats): tracing adds methods per instance.
  torch::jit::Module m(c10::QualifiedName("__torch__.torchnode." + cls), cu, /*shouldMangle=*/true);
  m.register_attribute("training", c10::BoolType::get(), spec.Get("training").ToBoolean().Value());
  auto tensor = [&](const std::string& name, Napi::Value v) { return Unwrap(env, v, name.c_str()); };
  ForEachPair(spec, "params", [&](const std::string& n, Napi::Value v) { m.register_parameter(n, tensor(n, v), false); });
  ForEachPair(spec, "buffers", [&](const std::string& n, Napi::Value v) { m.register_buffer(n, tensor(n, v)); });
  ForEachPair(spec, "attrs", [&](const std::string& n, Napi::Value v) { m.register_attribute(n, c10::TensorType::get(), tensor(n, v)); });
  ForEachPair(spec, "children", [&](const std::string& n, Napi::Value v) {
    if (!v.IsObject()) ThrowTypeError(env, "jit.trace: child '" + n + "' is not a module description");
    m.register_module(n, Build(env, v.As<Napi::Object>(), cu, depth + 1));
  });
  return m;
}

// The traced function's result: tensors, and arrays of them as tuples (what Python's tracer returns).
IValue TraceOutput(Napi::Env env, Napi::Value v, int depth = 0) {
  if (depth > 64) ThrowRangeError(env, "jit.trace: the result is nested more than 64 levels deep");
  if (v.IsArray()) {
    Napi::Array arr = v.As<Napi::Array>();
    std::vector<IValue> items;
    for (uint32_t k = 0; k < arr.Length(); ++k) items.push_back(TraceOutput(env, arr.Get(k), depth + 1));
    return c10::ivalue::Tuple::create(std::move(items));
  }
  return ToIValue(env, v, nullptr, "the traced forward's result");
}

Napi::Value JitTrace(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Env env = a.env();
  if (!a[0].IsObject()) a.fail(0, "a module description");
  std::vector<at::Tensor> inputs = a.tensorList(1);
  if (!a[2].IsFunction()) a.fail(2, "a function");
  Napi::Function fn = a[2].As<Napi::Function>();
  bool strict = a.boolean(3, true);
  bool simple = a.boolean(4, false);
  if (tracer::isTracing()) ThrowTorch(env, ErrorKind::Torch, "jit.trace: a trace is already running (traces cannot be nested)");

  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module root = Build(env, a[0].As<Napi::Object>(), cu, 0);
  torch::jit::Stack stack(inputs.begin(), inputs.end());
  auto traced = [&](torch::jit::Stack in) -> torch::jit::Stack {
    Napi::Array handles = Napi::Array::New(env, in.size());
    for (size_t k = 0; k < in.size(); ++k) handles.Set(static_cast<uint32_t>(k), Wrap(env, in[k].toTensor()));
    // A JS exception leaves as Napi::Error; tracer::trace abandons the trace on its way out.
    Napi::Value out = fn.Call({handles});
    return {TraceOutput(env, out)};
  };
  auto noNames = [](const torch::autograd::Variable&) { return std::string(); };
  auto result = tracer::trace(std::move(stack), traced, noNames, strict, /*force_outplace=*/false, &root);
  auto method = cu->create_function(c10::QualifiedName(*root.type()->name(), "forward"), result.first->graph);
  root.type()->addMethod(method);
  // A traced training step runs as recorded: no profiling, no fusion, no symbolic autodiff, so its
  // gradients come from the same autograd formulas as the eager step's.
  if (simple) torch::jit::toGraphFunction(*method)._set_initial_executor_execution_mode(torch::jit::ExecutorExecutionMode::SIMPLE);
  return WrapModule(env, root);
}

Napi::Value JitTracePushScope(const Napi::CallbackInfo& info) {
  Args a(info);
  std::string name = a.string(0);
  if (const auto& state = tracer::getTracingState()) state->graph->push_scope(name);
  return a.env().Undefined();
}

Napi::Value JitTracePopScope(const Napi::CallbackInfo& info) {
  if (const auto& state = tracer::getTracingState()) state->graph->pop_scope();
  return info.Env().Undefined();
}

}  // namespace

void RegisterTrace(Napi::Env env, Napi::Object exports) {
  Export<JitTrace>(env, exports, "jitTrace");
  Export<JitTracePushScope>(env, exports, "jitTracePushScope");
  Export<JitTracePopScope>(env, exports, "jitTracePopScope");
}

}  // namespace tn
