// Autograd: requires_grad, .grad, grad_fn, backward, torch.autograd.grad, grad mode.
#include <ATen/core/Tensor.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), a.tensor(0).requires_grad());
}

Napi::Value RequiresGrad_(const Napi::CallbackInfo& info) {  // (t, flag)
  Args a(info);
  a.tensor(0).requires_grad_(a.boolean(1, true));
  return a.env().Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), a.tensor(0).grad());
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {  // (t, grad | null)
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  if (a.missing(1)) {
    t.mutable_grad().reset();
  } else {
    const at::Tensor& g = a.tensor(1);
    TORCH_CHECK_VALUE(g.sizes() == t.sizes(), "assigned grad has shape ", g.sizes(), " but the tensor has shape ", t.sizes());
    TORCH_CHECK_TYPE(g.scalar_type() == t.scalar_type(), "assigned grad has dtype ", g.scalar_type(), " but the tensor has ",
                     t.scalar_type());
    TORCH_CHECK_VALUE(g.device() == t.device(), "assigned grad is on ", g.device(), " but the tensor is on ", t.device());
    t.mutable_grad() = g;
  }
  return a.env().Undefined();
}

Napi::Value GradFn(const Napi::CallbackInfo& info) {  // name of the node that made t, or null
  Args a(info);
  const auto& fn = a.tensor(0).grad_fn();
  if (!fn) return a.env().Null();
  return Napi::String::New(a.env(), fn->name());
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), a.tensor(0).is_leaf());
}

Napi::Value RetainsGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), a.tensor(0).retains_grad());
}

// Which output of its grad_fn the tensor is (0 for a leaf or a single output).
Napi::Value OutputNr(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), static_cast<double>(a.tensor(0).output_nr()));
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  a.tensor(0).retain_grad();
  return a.env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {  // (t, gradient?, retainGraph?, createGraph)
  Args a(info);
  std::optional<bool> retain;
  if (!a.missing(2)) retain = a.boolean(2);
  a.tensor(0).backward(a.optTensor(1).value_or(at::Tensor()), retain, a.boolean(3, false));
  return a.env().Undefined();
}

// grad(outputs, inputs, gradOutputs?, retainGraph?, createGraph, allowUnused) -> (Tensor | null)[]
Napi::Value AutogradGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Tensor> outputs = a.tensorList(0);
  std::vector<at::Tensor> inputs = a.tensorList(1);
  std::vector<at::Tensor> gradOutputs;
  if (!a.missing(2)) {
    Napi::Array arr = a[2].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); ++k) {
      Napi::Value v = arr.Get(k);
      gradOutputs.push_back(v.IsNull() || v.IsUndefined() ? at::Tensor() : Unwrap(a.env(), v, "gradOutputs element"));
    }
  }
  std::optional<bool> retain;
  if (!a.missing(3)) retain = a.boolean(3);
  auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, a.boolean(4, false), a.boolean(5, false));
  return WrapList(a.env(), grads);  // an unused input's undefined gradient becomes null
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {  // (enabled) -> previous
  Args a(info);
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(a.boolean(0));
  return Napi::Boolean::New(a.env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled()); }

}  // namespace

void RegisterAutograd(Napi::Env env, Napi::Object exports) {
  Export<RequiresGrad>(env, exports, "requiresGrad");
  Export<RequiresGrad_>(env, exports, "requiresGrad_");
  Export<Grad>(env, exports, "grad");
  Export<SetGrad>(env, exports, "setGrad");
  Export<GradFn>(env, exports, "gradFn");
  Export<IsLeaf>(env, exports, "isLeaf");
  Export<RetainGrad>(env, exports, "retainGrad");
  Export<RetainsGrad>(env, exports, "retainsGrad");
  Export<OutputNr>(env, exports, "outputNr");
  Export<Backward>(env, exports, "backward");
  Export<AutogradGrad>(env, exports, "autogradGrad");
  Export<SetGradEnabled>(env, exports, "setGradEnabled");
  Export<IsGradEnabled>(env, exports, "isGradEnabled");
}

}  // namespace tn
