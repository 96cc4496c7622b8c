// Optimizer steps as LibTorch ops (foreach where LibTorch has them), mirroring torch/optim's
// single-tensor SGD and Adam step for step, so parameters equal Python's to the bit. The scalar math
// (bias corrections) is done here in C++ with the same libm calls CPython makes.
#include <ATen/ATen.h>
#include <ATen/native/ForeachUtils.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "options.h"

namespace tn {
namespace {

// An array of tensor handles, where null/undefined entries become undefined tensors.
std::vector<at::Tensor> OptionalTensorList(const Args& a, size_t i) {
  if (!a[i].IsArray()) a.fail(i, "an array of Tensors or nulls");
  Napi::Array arr = a[i].As<Napi::Array>();
  std::vector<at::Tensor> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNull() && !v.IsUndefined()) out[k] = Unwrap(a.env(), v, "optimizer state tensor");
  }
  return out;
}

// How a step runs, as torch.optim's foreach and fused options choose (the caller applies PyTorch's
// default: foreach when every parameter is on CUDA, else one parameter at a time).
enum class Impl { Single, Foreach, Fused };

Impl KernelOption(const Options& o) {
  std::string name = o.string("kernel");
  if (name == "single") return Impl::Single;
  if (name == "foreach") return Impl::Foreach;
  if (name == "fused") return Impl::Fused;
  o.fail("kernel", "'single', 'foreach' or 'fused'");
}

// The indices of the parameters that share a device and dtype: a fused kernel takes one such set at a
// time, as torch.optim groups them (_group_tensors_by_device_and_dtype).
std::vector<std::vector<size_t>> ByDeviceAndDtype(const std::vector<at::Tensor>& params, const std::vector<size_t>& among) {
  std::vector<std::pair<std::pair<c10::Device, at::ScalarType>, std::vector<size_t>>> groups;
  for (size_t i : among) {
    auto key = std::make_pair(params[i].device(), params[i].scalar_type());
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end())
      groups.push_back({key, {i}});
    else
      it->second.push_back(i);
  }
  std::vector<std::vector<size_t>> out;
  for (auto& g : groups) out.push_back(std::move(g.second));
  return out;
}

// Runs a step's update as its impl says: one parameter at a time, or the foreach or fused form.
template <typename S>
void RunKernel(S& s, void (*one)(S&, size_t), void (*foreach)(S&), void (*fused)(S&)) {
  switch (s.impl) {
    case Impl::Fused: fused(s); break;
    case Impl::Foreach:
      foreach (s)
        ;
      break;
    case Impl::Single:
      for (size_t i = 0; i < s.params.size(); ++i) one(s, i);
      break;
  }
}

std::vector<at::Tensor> Pick(const std::vector<at::Tensor>& v, const std::vector<size_t>& indices) {
  std::vector<at::Tensor> out;
  if (v.empty()) return out;  // amsgrad's list, when off
  out.reserve(indices.size());
  for (size_t i : indices) out.push_back(v[i]);
  return out;
}

// sgdStep(params, grads, momentumBuffers (null where none yet), options: SgdOptions)
//   -> the momentum buffers this step made (null where one existed)
// With lrTensor (a 0-d tensor on the parameters' device) the learning rate is read from it when the step
// runs, so a step captured in a CUDA graph follows later lr changes.
struct SgdOptions {
  double lr, momentum, dampening, weightDecay;
  bool nesterov, maximize;
  at::Tensor lrTensor;
  Impl impl;
};

SgdOptions ReadSgdOptions(const Args& a, size_t i) {
  Options o(a, i, "sgdStep", {"lr", "momentum", "dampening", "weightDecay", "nesterov", "maximize", "lrTensor", "kernel"});
  return {o.number("lr"),        o.number("momentum"),  o.number("dampening"),   o.number("weightDecay"),
          o.boolean("nesterov"), o.boolean("maximize"), o.optTensor("lrTensor"), KernelOption(o)};
}

// The options plus the tensors (the step functions read both as s.<field>).
struct SgdStepArgs : SgdOptions {
  std::vector<at::Tensor> params, grads, bufs;
};

SgdStepArgs ReadSgd(const Args& a) {
  SgdStepArgs s{ReadSgdOptions(a, 3), a.tensorList(0), a.tensorList(1), OptionalTensorList(a, 2)};
  TORCH_CHECK_VALUE(s.params.size() == s.grads.size() && s.params.size() == s.bufs.size(), "sgdStep: list lengths differ");
  return s;
}

// One parameter's update: torch.optim.SGD's single-tensor form, which PyTorch uses for CPU tensors
// (each parameter's passes run while it is still in cache).
void SgdOne(SgdStepArgs& s, size_t i) {
  at::Tensor& param = s.params[i];
  at::Tensor& buf = s.bufs[i];
  at::Tensor g = s.maximize ? s.grads[i].neg() : s.grads[i];
  if (s.weightDecay != 0) g = g.add(param, s.weightDecay);
  if (s.momentum != 0) {
    if (!buf.defined())
      buf = g.detach().clone();
    else
      buf.mul_(s.momentum).add_(g, 1 - s.dampening);
    g = s.nesterov ? g.add(buf, s.momentum) : buf;
  }
  if (s.lrTensor.defined())
    param.sub_(g * s.lrTensor);
  else
    param.add_(g, -s.lr);
}

// The same update over all parameters with LibTorch's _foreach kernels (PyTorch's default on CUDA).
void SgdForeach(SgdStepArgs& s) {
  auto& bufs = s.bufs;
  std::vector<at::Tensor> g = s.maximize ? at::_foreach_neg(s.grads) : s.grads;
  if (s.weightDecay != 0) g = at::_foreach_add(g, s.params, s.weightDecay);
  if (s.momentum != 0) {
    if (std::all_of(bufs.begin(), bufs.end(), [](const at::Tensor& b) { return b.defined(); })) {
      at::_foreach_mul_(bufs, s.momentum);
      at::_foreach_add_(bufs, g, 1 - s.dampening);
    } else {
      for (size_t i = 0; i < bufs.size(); ++i) {
        if (!bufs[i].defined())
          bufs[i] = g[i].detach().clone();
        else
          bufs[i].mul_(s.momentum).add_(g[i], 1 - s.dampening);
      }
    }
    g = s.nesterov ? at::_foreach_add(g, bufs, s.momentum) : bufs;
  }
  if (s.lrTensor.defined()) {
    at::_foreach_sub_(s.params, at::_foreach_mul(g, s.lrTensor));
  } else {
    at::_foreach_add_(s.params, g, -s.lr);
  }
}

// fused=True: LibTorch's _fused_sgd_, one kernel per device and dtype. Its first step makes every
// momentum buffer; a parameter that gets its first gradient later is updated on its own (PyTorch's fused
// path has no way to take it).
void SgdFused(SgdStepArgs& s) {
  bool withMomentum = s.momentum != 0;
  bool firstStep = withMomentum && std::none_of(s.bufs.begin(), s.bufs.end(), [](const at::Tensor& b) { return b.defined(); });
  std::vector<size_t> fused;
  for (size_t i = 0; i < s.params.size(); ++i) {
    if (withMomentum && !firstStep && !s.bufs[i].defined()) {
      SgdOne(s, i);
      continue;
    }
    if (firstStep) s.bufs[i] = at::empty_like(s.grads[i]);
    fused.push_back(i);
  }
  for (const auto& idx : ByDeviceAndDtype(s.params, fused)) {
    auto params = Pick(s.params, idx), grads = Pick(s.grads, idx);
    auto bufs = withMomentum ? Pick(s.bufs, idx) : std::vector<at::Tensor>{};
    if (s.lrTensor.defined()) {
      at::_fused_sgd_(params, grads, bufs, s.weightDecay, s.momentum, s.lrTensor.to(params[0].device()), s.dampening, s.nesterov,
                      s.maximize, firstStep);
    } else {
      at::_fused_sgd_(params, grads, bufs, s.weightDecay, s.momentum, s.lr, s.dampening, s.nesterov, s.maximize, firstStep);
    }
  }
}

std::vector<at::Tensor> Sgd(SgdStepArgs& s) {
  c10::AutoGradMode noGrad(false);
  auto& bufs = s.bufs;
  std::vector<bool> had(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) had[i] = bufs[i].defined();
  RunKernel(s, SgdOne, SgdForeach, SgdFused);
  // Only the buffers made by this step go back (the others the caller holds already): null elsewhere.
  std::vector<at::Tensor> made(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (!had[i]) made[i] = bufs[i];
  }
  return made;
}

// adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs (amsgrad, else empty), steps (0-d float
//          tensors, incremented here), options: AdamOptions)
// capturable: the steps live on the parameters' device and the bias corrections are computed there, with
// no host sync, so the step can be captured in a CUDA graph; lrTensor (capturable or fused only), as for
// SGD, lets a captured step follow later lr changes. decoupled: AdamW's weight decay.
struct AdamOptions {
  double lr, beta1, beta2, eps, weightDecay;
  bool amsgrad, maximize, decoupled;
  Impl impl;
  bool capturable;
  at::Tensor lrTensor;
};

AdamOptions ReadAdamOptions(const Args& a, size_t i) {
  Options o(
      a, i, "adamStep",
      {"lr", "beta1", "beta2", "eps", "weightDecay", "amsgrad", "maximize", "decoupledWeightDecay", "kernel", "capturable", "lrTensor"});
  return {o.number("lr"),          o.number("beta1"),       o.number("beta2"),      o.number("eps"),
          o.number("weightDecay"), o.boolean("amsgrad"),    o.boolean("maximize"),  o.boolean("decoupledWeightDecay"),
          KernelOption(o),         o.boolean("capturable"), o.optTensor("lrTensor")};
}

struct AdamStepArgs : AdamOptions {
  std::vector<at::Tensor> params, grads, expAvgs, expAvgSqs, maxSqs, steps;
};

AdamStepArgs ReadAdam(const Args& a) {
  AdamStepArgs s{ReadAdamOptions(a, 6), a.tensorList(0), a.tensorList(1), a.tensorList(2),
                 a.tensorList(3),       a.tensorList(4), a.tensorList(5)};
  size_t n = s.params.size();
  TORCH_CHECK_VALUE(s.grads.size() == n && s.expAvgs.size() == n && s.expAvgSqs.size() == n && s.steps.size() == n &&
                        (!s.amsgrad || s.maxSqs.size() == n),
                    "adamStep: list lengths differ");
  TORCH_CHECK_VALUE(!s.lrTensor.defined() || s.capturable || s.impl == Impl::Fused, "adamStep: a tensor lr needs capturable or fused");
  return s;
}

// torch.optim.Adam's single-tensor form, one parameter.
void AdamOne(AdamStepArgs& s, size_t i) {
  at::Tensor param = s.params[i];
  at::Tensor grad = s.maximize ? s.grads[i].neg() : s.grads[i];
  s.steps[i].add_(1);
  if (s.weightDecay != 0) {
    if (!s.decoupled)
      grad = grad.add(param, s.weightDecay);
    else if (s.lrTensor.defined())
      param.mul_(at::rsub(s.lrTensor * s.weightDecay, 1));
    else
      param.mul_(1 - s.lr * s.weightDecay);
  }
  s.expAvgs[i].lerp_(grad, 1 - s.beta1);
  s.expAvgSqs[i].mul_(s.beta2).addcmul_(grad, grad, 1 - s.beta2);
  if (s.capturable) {
    // Python's tensor arithmetic spelled out: `1 - b ** step` is rsub(pow(b, step), 1); `x / t` is t.reciprocal() * x.
    at::Tensor biasCorrection1 = at::rsub(at::pow(s.beta1, s.steps[i]), 1);
    at::Tensor biasCorrection2 = at::rsub(at::pow(s.beta2, s.steps[i]), 1);
    at::Tensor stepSizeNeg = (s.lrTensor.defined() ? s.lrTensor / biasCorrection1 : biasCorrection1.reciprocal() * s.lr).neg();
    at::Tensor scale = biasCorrection2.sqrt() * stepSizeNeg;
    at::Tensor sq = s.expAvgSqs[i];
    if (s.amsgrad) {
      s.maxSqs[i].copy_(at::maximum(s.maxSqs[i], sq));
      sq = s.maxSqs[i];
    }
    at::Tensor denom = (sq.sqrt() / scale).add_(stepSizeNeg.reciprocal() * s.eps);
    param.addcdiv_(s.expAvgs[i], denom);
    return;
  }
  double step = s.steps[i].item<double>();
  double biasCorrection1 = 1 - std::pow(s.beta1, step);
  double biasCorrection2 = 1 - std::pow(s.beta2, step);
  double stepSize = s.lr / biasCorrection1;
  double biasCorrection2Sqrt = std::pow(biasCorrection2, 0.5);
  at::Tensor denom;
  if (s.amsgrad) {
    at::maximum_out(s.maxSqs[i], s.maxSqs[i], s.expAvgSqs[i]);
    denom = (s.maxSqs[i].sqrt() / biasCorrection2Sqrt).add_(s.eps);
  } else {
    denom = (s.expAvgSqs[i].sqrt() / biasCorrection2Sqrt).add_(s.eps);
  }
  param.addcdiv_(s.expAvgs[i], denom, -stepSize);
}

// torch.optim.Adam's multi-tensor form: the same update as _foreach kernels over every parameter.
void AdamForeach(AdamStepArgs& s) {
  std::vector<at::Tensor> grads = s.maximize ? at::_foreach_neg(s.grads) : s.grads;
  at::_foreach_add_(s.steps, 1);
  if (s.weightDecay != 0) {
    if (!s.decoupled)
      grads = at::_foreach_add(grads, s.params, s.weightDecay);
    else if (s.lrTensor.defined())
      at::_foreach_mul_(s.params, at::rsub(s.lrTensor * s.weightDecay, 1));
    else
      at::_foreach_mul_(s.params, 1 - s.lr * s.weightDecay);
  }
  at::_foreach_lerp_(s.expAvgs, grads, 1 - s.beta1);
  at::_foreach_mul_(s.expAvgSqs, s.beta2);
  at::_foreach_addcmul_(s.expAvgSqs, grads, grads, 1 - s.beta2);
  grads.clear();
  std::vector<at::Tensor> denom;
  if (s.amsgrad) {
    at::_foreach_maximum_(s.maxSqs, s.expAvgSqs);
    denom = at::_foreach_sqrt(s.maxSqs);
  } else {
    denom = at::_foreach_sqrt(s.expAvgSqs);
  }
  if (s.capturable) {
    // On the device: stepSize = -lr / (1 - beta1^t) (kept negated until the end), sqrt(1 - beta2^t).
    std::vector<at::Tensor> stepSize = at::_foreach_pow(s.beta1, s.steps);
    std::vector<at::Tensor> biasCorrection2 = at::_foreach_pow(s.beta2, s.steps);
    at::_foreach_sub_(stepSize, 1);
    at::_foreach_sub_(biasCorrection2, 1);
    at::_foreach_neg_(biasCorrection2);
    if (s.lrTensor.defined())
      at::_foreach_div_(stepSize, s.lrTensor);
    else
      at::_foreach_div_(stepSize, s.lr);
    at::_foreach_reciprocal_(stepSize);
    at::_foreach_sqrt_(biasCorrection2);
    at::_foreach_div_(denom, biasCorrection2);
    at::_foreach_add_(denom, s.eps);
    at::_foreach_div_(denom, stepSize);
    at::_foreach_addcdiv_(s.params, s.expAvgs, denom);
    return;
  }
  std::vector<at::Scalar> biasCorrection2Sqrt, stepSize;
  for (const at::Tensor& t : s.steps) {
    double step = t.item<double>();
    stepSize.push_back(s.lr / (1 - std::pow(s.beta1, step)) * -1);
    biasCorrection2Sqrt.push_back(std::pow(1 - std::pow(s.beta2, step), 0.5));
  }
  at::_foreach_div_(denom, biasCorrection2Sqrt);
  at::_foreach_add_(denom, s.eps);
  at::_foreach_addcdiv_(s.params, s.expAvgs, denom, stepSize);
}

// fused=True: LibTorch's _fused_adam_ (_fused_adamw_ for decoupled weight decay), one kernel per device
// and dtype; the steps are on the parameters' device.
void AdamFused(AdamStepArgs& s) {
  std::vector<size_t> all(s.params.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  for (const auto& idx : ByDeviceAndDtype(s.params, all)) {
    auto params = Pick(s.params, idx), grads = Pick(s.grads, idx), expAvgs = Pick(s.expAvgs, idx);
    auto expAvgSqs = Pick(s.expAvgSqs, idx), maxSqs = Pick(s.maxSqs, idx), steps = Pick(s.steps, idx);
    at::_foreach_add_(steps, 1);
    // _fused_adamw_ takes the same arguments as _fused_adam_; the lr comes as a double or a tensor.
    if (s.lrTensor.defined()) {
      auto op = s.decoupled ? &at::_ops::_fused_adamw__tensor_lr::call : &at::_ops::_fused_adam__tensor_lr::call;
      op(params, grads, expAvgs, expAvgSqs, maxSqs, steps, s.lrTensor.to(params[0].device()), s.beta1, s.beta2, s.weightDecay, s.eps,
         s.amsgrad, s.maximize, std::nullopt, std::nullopt);
    } else {
      auto op = s.decoupled ? &at::_ops::_fused_adamw_::call : &at::_ops::_fused_adam_::call;
      op(params, grads, expAvgs, expAvgSqs, maxSqs, steps, s.lr, s.beta1, s.beta2, s.weightDecay, s.eps, s.amsgrad, s.maximize,
         std::nullopt, std::nullopt);
    }
  }
}

std::vector<at::Tensor> Adam(AdamStepArgs& s) {
  c10::AutoGradMode noGrad(false);
  if (s.params.empty()) return {};
  RunKernel(s, AdamOne, AdamForeach, AdamFused);
  return {};
}

// A step on a worker thread: the arguments were read on the JS thread; the result tensors come back as
// handles. The caller leaves the parameters alone until the promise settles.
template <typename S>
class StepWorker final : public PromiseWorker {
 public:
  StepWorker(Napi::Env env, S args, std::vector<at::Tensor> (*step)(S&))
      : PromiseWorker(env, "torchnode.optim.step", RunOn::ComputeThread), args_(std::move(args)), step_(step) {}

 private:
  void Run() override { out_ = step_(args_); }
  Napi::Value Result(Napi::Env env) override { return WrapList(env, out_); }
  S args_;
  std::vector<at::Tensor> (*step_)(S&);
  std::vector<at::Tensor> out_;
};

template <typename S, S (*Read)(const Args&), std::vector<at::Tensor> (*Step)(S&)>
Napi::Value RunStep(const Napi::CallbackInfo& info) {
  Args a(info);
  S s = Read(a);
  return WrapList(a.env(), Step(s));
}

template <typename S, S (*Read)(const Args&), std::vector<at::Tensor> (*Step)(S&)>
Napi::Value RunStepAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new StepWorker<S>(a.env(), Read(a), Step);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// Python's math.cos and float ** (the C library's cos and pow), for the lr schedules: V8's own
// Math.cos and ** differ from them in the last bit for some arguments.
Napi::Value LibmCos(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), std::cos(a.number(0)));
}

Napi::Value LibmPow(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(a.env(), std::pow(a.number(0), a.number(1)));
}

// foreachGroups(tensors): indices of the tensors grouped by (device, dtype), groups in the order
// ATen's own grouping iterates them (an unordered_map): Python's torch.nn.utils and torch.optim group
// with it, and the order of the groups decides the order norms are summed in.
Napi::Value ForeachGroups(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Tensor> tensors = a.tensorList(0);
  if (tensors.empty()) return Napi::Array::New(a.env());
  std::vector<std::optional<at::Tensor>> list(tensors.begin(), tensors.end());
  auto groups = at::native::_group_tensors_by_first_tensors_device_and_dtype({list}, /*with_indices=*/true);
  Napi::Array out = Napi::Array::New(a.env(), groups.size());
  uint32_t g = 0;
  for (const auto& entry : groups) {
    const auto& indices = entry.second.second;
    Napi::Array group = Napi::Array::New(a.env(), indices.size());
    for (size_t k = 0; k < indices.size(); ++k) group.Set(static_cast<uint32_t>(k), static_cast<double>(indices[k]));
    out.Set(g++, group);
  }
  return out;
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  Export<LibmCos>(env, exports, "libmCos");
  Export<LibmPow>(env, exports, "libmPow");
  Export<RunStep<SgdStepArgs, ReadSgd, Sgd>>(env, exports, "sgdStep");
  Export<RunStepAsync<SgdStepArgs, ReadSgd, Sgd>>(env, exports, "sgdStepAsync");
  Export<RunStep<AdamStepArgs, ReadAdam, Adam>>(env, exports, "adamStep");
  Export<RunStepAsync<AdamStepArgs, ReadAdam, Adam>>(env, exports, "adamStepAsync");
  Export<ForeachGroups>(env, exports, "foreachGroups");
}

}  // namespace tn
