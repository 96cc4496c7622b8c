// torch.nn.functional: convolution, batch norm, linear, pooling, dropout, activations with options,
// losses, einsum. One native call each; the nn modules in lib/nn/ are thin layers over these.
#include <ATen/ATen.h>
#include <ATen/core/Reduction.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

// Losses take reduction as at::Reduction codes: 0 'none', 1 'mean', 2 'sum' (lib/nn/functional.ts maps them).
int64_t ReductionArg(const Args& a, size_t i) {
  int64_t r = a.int64(i);
  if (r < 0 || r > 2) a.fail(i, "a reduction code (0 none, 1 mean, 2 sum)");
  return r;
}

// conv2d(input, weight, bias?, stride[2], padding[2] | 'same' | 'valid', dilation[2], groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Args a(info);
  if (a[4].IsString()) {
    std::string padding = a.string(4);
    if (padding != "same" && padding != "valid") a.fail(4, "padding 'same', 'valid' or sizes");
    return Wrap(a.env(), at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.intList(3), padding, a.intList(5), a.int64(6)));
  }
  return Wrap(a.env(), at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.intList(3), a.intList(4), a.intList(5), a.int64(6)));
}

// batchNorm(input, runningMean?, runningVar?, weight?, bias?, training, momentum, eps): in training the
// running stats are updated in place with momentum, as F.batch_norm does.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), at::batch_norm(a.tensor(0), a.optTensor(3), a.optTensor(4), a.optTensor(1), a.optTensor(2), a.boolean(5),
                                      a.number(6), a.number(7), /*cudnn_enabled=*/true));
}

Napi::Value Linear(const Napi::CallbackInfo& info) {  // (input, weight, bias?)
  Args a(info);
  return Wrap(a.env(), at::linear(a.tensor(0), a.tensor(1), a.optTensor(2)));
}

// maxPool2d(input, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), at::max_pool2d(a.tensor(0), a.intList(1), a.intList(2), a.intList(3), a.intList(4), a.boolean(5, false)));
}

// avgPool2d(input, kernel[2], stride[2], padding[2], ceilMode, countIncludePad, divisorOverride?)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), at::avg_pool2d(a.tensor(0), a.intList(1), a.intList(2), a.intList(3), a.boolean(4, false), a.boolean(5, true),
                                      a.optInt64(6)));
}

#define TN_ADAPTIVE(X) \
  X(adaptive_avg_pool1d, adaptiveAvgPool1d) X(adaptive_avg_pool2d, adaptiveAvgPool2d) X(adaptive_avg_pool3d, adaptiveAvgPool3d)
#define TN_DEFINE(aten, js)                                    \
  Napi::Value Pool_##js(const Napi::CallbackInfo& info) {      \
    Args a(info);                                              \
    return Wrap(a.env(), at::aten(a.tensor(0), a.intList(1))); \
  }
TN_ADAPTIVE(TN_DEFINE)
#undef TN_DEFINE

Napi::Value AdaptiveMaxPool2d(const Napi::CallbackInfo& info) {  // (input, outputSize[2]) -> values
  Args a(info);
  return Wrap(a.env(), std::get<0>(at::adaptive_max_pool2d(a.tensor(0), a.intList(1))));
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {  // (input, p, training, inplace)
  Args a(info);
  double p = a.number(1);
  if (!(p >= 0 && p <= 1)) ThrowRangeError(a.env(), "dropout probability has to be between 0 and 1, but got " + std::to_string(p));
  if (a.boolean(3, false)) {
    at::Tensor t = a.tensor(0);
    at::dropout_(t, p, a.boolean(2));
    return a.env().Undefined();
  }
  return Wrap(a.env(), at::dropout(a.tensor(0), p, a.boolean(2)));
}

Napi::Value Gelu(const Napi::CallbackInfo& info) {  // (input, approximate 'none' | 'tanh')
  Args a(info);
  std::string approx = a.missing(1) ? "none" : a.string(1);
  return Wrap(a.env(), at::gelu(a.tensor(0), approx));
}

Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {  // (input, negativeSlope)
  Args a(info);
  return Wrap(a.env(), at::leaky_relu(a.tensor(0), a.number(1)));
}

Napi::Value Elu(const Napi::CallbackInfo& info) {  // (input, alpha)
  Args a(info);
  return Wrap(a.env(), at::elu(a.tensor(0), a.number(1)));
}

Napi::Value Softplus(const Napi::CallbackInfo& info) {  // (input, beta, threshold)
  Args a(info);
  return Wrap(a.env(), at::softplus(a.tensor(0), a.number(1), a.number(2)));
}

Napi::Value Hardtanh(const Napi::CallbackInfo& info) {  // (input, min, max)
  Args a(info);
  return Wrap(a.env(), at::hardtanh(a.tensor(0), a.number(1), a.number(2)));
}

// crossEntropy(input, target, weight?, reduction, ignoreIndex, labelSmoothing): class indices or
// class probabilities as target, as F.cross_entropy.
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info);
  return Wrap(a.env(), at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), ReductionArg(a, 3), a.int64(4), a.number(5)));
}

Napi::Value NllLoss(const Napi::CallbackInfo& info) {  // (input, target, weight?, reduction, ignoreIndex)
  Args a(info);
  return Wrap(a.env(), at::nll_loss_nd(a.tensor(0), a.tensor(1), a.optTensor(2), ReductionArg(a, 3), a.int64(4)));
}

// (input, target, reduction) losses.
#define TN_DEFINE(aten, js)                                                                \
  Napi::Value Loss_##js(const Napi::CallbackInfo& info) { /* (input, target, reduction) */ \
    Args a(info);                                                                          \
    return Wrap(a.env(), at::aten(a.tensor(0), a.tensor(1), ReductionArg(a, 2)));          \
  }
TN_DEFINE(mse_loss, mseLoss)
TN_DEFINE(l1_loss, l1Loss)
#undef TN_DEFINE

Napi::Value SmoothL1Loss(const Napi::CallbackInfo& info) {  // (input, target, reduction, beta)
  Args a(info);
  return Wrap(a.env(), at::smooth_l1_loss(a.tensor(0), a.tensor(1), ReductionArg(a, 2), a.number(3)));
}

Napi::Value BinaryCrossEntropy(const Napi::CallbackInfo& info) {  // (input, target, weight?, reduction)
  Args a(info);
  return Wrap(a.env(), at::binary_cross_entropy(a.tensor(0), a.tensor(1), a.optTensor(2), ReductionArg(a, 3)));
}

Napi::Value BinaryCrossEntropyWithLogits(const Napi::CallbackInfo& info) {  // (input, target, weight?, posWeight?, reduction)
  Args a(info);
  return Wrap(a.env(), at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), a.optTensor(2), a.optTensor(3), ReductionArg(a, 4)));
}

Napi::Value Einsum(const Napi::CallbackInfo& info) {  // (equation, tensors)
  Args a(info);
  return Wrap(a.env(), at::einsum(a.string(0), a.tensorList(1)));
}

Napi::Value Pad(const Napi::CallbackInfo& info) {  // (input, pad[], mode, value?)
  Args a(info);
  return Wrap(a.env(), at::pad(a.tensor(0), a.intList(1), a.string(2), a.optNumber(3)));
}

// (input, size[2], mode 'nearest' | 'bilinear', alignCorners, antialias): F.interpolate to a size;
// antialias is torchvision's Resize (on uint8 too, as its tensor path).
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  Args a(info);
  std::string mode = a.string(2);
  if (mode == "nearest") return Wrap(a.env(), at::upsample_nearest2d(a.tensor(0), a.intList(1)));
  if (mode == "bilinear" && a.boolean(4, false))
    return Wrap(a.env(), at::_upsample_bilinear2d_aa(a.tensor(0), a.intList(1), a.boolean(3, false)));
  if (mode == "bilinear") return Wrap(a.env(), at::upsample_bilinear2d(a.tensor(0), a.intList(1), a.boolean(3, false)));
  a.fail(2, "'nearest' or 'bilinear'");
}

}  // namespace

void RegisterNn(Napi::Env env, Napi::Object exports) {
  Export<Conv2d>(env, exports, "conv2d");
  Export<BatchNorm>(env, exports, "batchNorm");
  Export<Linear>(env, exports, "linear");
  Export<MaxPool2d>(env, exports, "maxPool2d");
  Export<AvgPool2d>(env, exports, "avgPool2d");
#define TN_REGISTER(aten, js) Export<Pool_##js>(env, exports, #js);
  TN_ADAPTIVE(TN_REGISTER)
#undef TN_REGISTER
  Export<AdaptiveMaxPool2d>(env, exports, "adaptiveMaxPool2d");
  Export<Dropout>(env, exports, "dropout");
  Export<Gelu>(env, exports, "gelu");
  Export<LeakyRelu>(env, exports, "leakyRelu");
  Export<Elu>(env, exports, "elu");
  Export<Softplus>(env, exports, "softplus");
  Export<Hardtanh>(env, exports, "hardtanh");
  Export<CrossEntropy>(env, exports, "crossEntropy");
  Export<NllLoss>(env, exports, "nllLoss");
  Export<Loss_mseLoss>(env, exports, "mseLoss");
  Export<Loss_l1Loss>(env, exports, "l1Loss");
  Export<SmoothL1Loss>(env, exports, "smoothL1Loss");
  Export<BinaryCrossEntropy>(env, exports, "binaryCrossEntropy");
  Export<BinaryCrossEntropyWithLogits>(env, exports, "binaryCrossEntropyWithLogits");
  Export<Einsum>(env, exports, "einsum");
  Export<Pad>(env, exports, "pad");
  Export<Interpolate>(env, exports, "interpolate");
}

}  // namespace tn
