// Optimizer steps as LibTorch ops (foreach where LibTorch has them), mirroring torch/optim's
// single-tensor SGD and Adam step for step, so parameters equal Python's to the bit. The scalar math
// (bias corrections) is done here in C++ with the same libm calls CPython makes.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "args.h"
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
//         nesterov, maximize) -> the momentum buffers after the step (new ones where there were none)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Tensor> params = a.tensorList(0);
  std::vector<at::Tensor> grads = a.tensorList(1);
  std::vector<at::Tensor> bufs = OptionalTensorList(a, 2);
  double lr = a.number(3), momentum = a.number(4), dampening = a.number(5), weightDecay = a.number(6);
  bool nesterov = a.boolean(7), maximize = a.boolean(8);
  TORCH_CHECK_VALUE(params.size() == grads.size() && params.size() == bufs.size(), "sgdStep: list lengths differ");
  c10::AutoGradMode noGrad(false);
  std::vector<at::Tensor> g = maximize ? at::_foreach_neg(grads) : grads;
  if (weightDecay != 0) g = at::_foreach_add(g, params, weightDecay);
  if (momentum != 0) {
    bool allBuffers = std::all_of(bufs.begin(), bufs.end(), [](const at::Tensor& b) { return b.defined(); });
    if (allBuffers) {
      at::_foreach_mul_(bufs, momentum);
      at::_foreach_add_(bufs, g, 1 - dampening);
    } else {
      for (size_t i = 0; i < bufs.size(); ++i) {
        if (!bufs[i].defined()) bufs[i] = g[i].detach().clone();
        else bufs[i].mul_(momentum).add_(g[i], 1 - dampening);
      }
    }
    g = nesterov ? at::_foreach_add(g, bufs, momentum) : bufs;
  }
  at::_foreach_add_(params, g, -lr);
  return WrapList(a.env(), bufs);
}

// adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs (amsgrad, else empty), steps (0-d float
//          tensors, incremented here), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Tensor> params = a.tensorList(0), grads = a.tensorList(1), expAvgs = a.tensorList(2),
                          expAvgSqs = a.tensorList(3), maxSqs = a.tensorList(4), steps = a.tensorList(5);
  double lr = a.number(6), beta1 = a.number(7), beta2 = a.number(8), eps = a.number(9), weightDecay = a.number(10);
  bool amsgrad = a.boolean(11), maximize = a.boolean(12), decoupled = a.boolean(13);
  size_t n = params.size();
  TORCH_CHECK_VALUE(grads.size() == n && expAvgs.size() == n && expAvgSqs.size() == n && steps.size() == n &&
                        (!amsgrad || maxSqs.size() == n), "adamStep: list lengths differ");
  c10::AutoGradMode noGrad(false);
  for (size_t i = 0; i < n; ++i) {
    at::Tensor param = params[i];
    at::Tensor grad = maximize ? grads[i].neg() : grads[i];
    steps[i].add_(1);
    if (weightDecay != 0) {
      if (decoupled) param.mul_(1 - lr * weightDecay);
      else grad = grad.add(param, weightDecay);
    }
    expAvgs[i].lerp_(grad, 1 - beta1);
    expAvgSqs[i].mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    double step = steps[i].item<double>();
    double biasCorrection1 = 1 - std::pow(beta1, step);
    double biasCorrection2 = 1 - std::pow(beta2, step);
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = std::pow(biasCorrection2, 0.5);
    at::Tensor denom;
    if (amsgrad) {
      at::maximum_out(maxSqs[i], maxSqs[i], expAvgSqs[i]);
      denom = (maxSqs[i].sqrt() / biasCorrection2Sqrt).add_(eps);
    } else {
      denom = (expAvgSqs[i].sqrt() / biasCorrection2Sqrt).add_(eps);
    }
    param.addcdiv_(expAvgs[i], denom, -stepSize);
  }
  return a.env().Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  Export<SgdStep>(env, exports, "sgdStep");
  Export<AdamStep>(env, exports, "adamStep");
}

}  // namespace tn
