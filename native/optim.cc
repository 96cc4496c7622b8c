// Optimizer steps as LibTorch ops (foreach where LibTorch has them), mirroring torch/optim's
// single-tensor SGD and Adam step for step, so parameters equal Python's to the bit. The scalar math
// (bias corrections) is done here in C++ with the same libm calls CPython makes.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

#include "args.h"
#include "async.h"
#include "errors.h"

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

// sgdStep(params, grads, momentumBuffers (null where none yet), lr, momentum, dampening, weightDecay,
//         nesterov, maximize, lrTensor?) -> the momentum buffers this step made (null where one existed)
// With lrTensor (a 0-d tensor on the parameters' device) the learning rate is read from it when the step
// runs, so a step captured in a CUDA graph follows later lr changes.
struct SgdStepArgs {
  std::vector<at::Tensor> params, grads, bufs;
  double lr, momentum, dampening, weightDecay;
  bool nesterov, maximize;
  at::Tensor lrTensor;
};

SgdStepArgs ReadSgd(const Args& a) {
  SgdStepArgs s{a.tensorList(0), a.tensorList(1), OptionalTensorList(a, 2), a.number(3), a.number(4), a.number(5), a.number(6),
                a.boolean(7), a.boolean(8), a.optTensor(9).value_or(at::Tensor())};
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
    if (!buf.defined()) buf = g.detach().clone();
    else buf.mul_(s.momentum).add_(g, 1 - s.dampening);
    g = s.nesterov ? g.add(buf, s.momentum) : buf;
  }
  if (s.lrTensor.defined()) param.sub_(g * s.lrTensor);
  else param.add_(g, -s.lr);
}

// The same update over all parameters with LibTorch's _foreach kernels (PyTorch's default on CUDA), once
// every parameter has its momentum buffer.
void SgdForeach(SgdStepArgs& s) {
  auto& bufs = s.bufs;
  std::vector<at::Tensor> g = s.maximize ? at::_foreach_neg(s.grads) : s.grads;
  if (s.weightDecay != 0) g = at::_foreach_add(g, s.params, s.weightDecay);
  if (s.momentum != 0) {
    at::_foreach_mul_(bufs, s.momentum);
    at::_foreach_add_(bufs, g, 1 - s.dampening);
    g = s.nesterov ? at::_foreach_add(g, bufs, s.momentum) : bufs;
  }
  if (s.lrTensor.defined()) {
    at::_foreach_sub_(s.params, at::_foreach_mul(g, s.lrTensor));
  } else {
    at::_foreach_add_(s.params, g, -s.lr);
  }
}

std::vector<at::Tensor> Sgd(SgdStepArgs& s) {
  c10::AutoGradMode noGrad(false);
  auto& bufs = s.bufs;
  std::vector<bool> had(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) had[i] = bufs[i].defined();
  bool allBuffers = s.momentum == 0 || std::all_of(bufs.begin(), bufs.end(), [](const at::Tensor& b) { return b.defined(); });
  if (!s.params.empty() && s.params[0].is_cuda() && allBuffers) {
    SgdForeach(s);
  } else {
    for (size_t i = 0; i < s.params.size(); ++i) SgdOne(s, i);
  }
  // Only the buffers made by this step go back (the others the caller holds already): null elsewhere.
  std::vector<at::Tensor> made(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (!had[i]) made[i] = bufs[i];
  }
  return made;
}

// adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs (amsgrad, else empty), steps (0-d float
//          tensors, incremented here), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled)
struct AdamStepArgs {
  std::vector<at::Tensor> params, grads, expAvgs, expAvgSqs, maxSqs, steps;
  double lr, beta1, beta2, eps, weightDecay;
  bool amsgrad, maximize, decoupled;
};

AdamStepArgs ReadAdam(const Args& a) {
  AdamStepArgs s{a.tensorList(0), a.tensorList(1), a.tensorList(2), a.tensorList(3), a.tensorList(4), a.tensorList(5),
                 a.number(6), a.number(7), a.number(8), a.number(9), a.number(10), a.boolean(11), a.boolean(12), a.boolean(13)};
  size_t n = s.params.size();
  TORCH_CHECK_VALUE(s.grads.size() == n && s.expAvgs.size() == n && s.expAvgSqs.size() == n && s.steps.size() == n &&
                        (!s.amsgrad || s.maxSqs.size() == n), "adamStep: list lengths differ");
  return s;
}

std::vector<at::Tensor> Adam(AdamStepArgs& s) {
  c10::AutoGradMode noGrad(false);
  for (size_t i = 0; i < s.params.size(); ++i) {
    at::Tensor param = s.params[i];
    at::Tensor grad = s.maximize ? s.grads[i].neg() : s.grads[i];
    s.steps[i].add_(1);
    if (s.weightDecay != 0) {
      if (s.decoupled) param.mul_(1 - s.lr * s.weightDecay);
      else grad = grad.add(param, s.weightDecay);
    }
    s.expAvgs[i].lerp_(grad, 1 - s.beta1);
    s.expAvgSqs[i].mul_(s.beta2).addcmul_(grad, grad, 1 - s.beta2);
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
  return {};
}

// A step on a worker thread: the arguments were read on the JS thread; the result tensors come back as
// handles. The caller leaves the parameters alone until the promise settles.
template <typename S>
class StepWorker final : public PromiseWorker {
 public:
  StepWorker(Napi::Env env, S args, std::vector<at::Tensor> (*step)(S&)) : PromiseWorker(env, "torchnode.optim.step", RunOn::ComputeThread), args_(std::move(args)), step_(step) {}

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

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  Export<RunStep<SgdStepArgs, ReadSgd, Sgd>>(env, exports, "sgdStep");
  Export<RunStepAsync<SgdStepArgs, ReadSgd, Sgd>>(env, exports, "sgdStepAsync");
  Export<RunStep<AdamStepArgs, ReadAdam, Adam>>(env, exports, "adamStep");
  Export<RunStepAsync<AdamStepArgs, ReadAdam, Adam>>(env, exports, "adamStepAsync");
}

}  // namespace tn
