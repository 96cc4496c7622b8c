// torch.nn.init through LibTorch's own torch::nn::init, so fans, gains and the random draws are
// PyTorch's (the same generator calls in the same order as Python's init functions).
#include <torch/nn/init.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

namespace init = torch::nn::init;

init::NonlinearityType Nonlinearity(const Args& a, size_t i) {
  std::string n = a.missing(i) ? "leaky_relu" : a.string(i);
  if (n == "linear") return torch::kLinear;
  if (n == "conv1d") return torch::kConv1D;
  if (n == "conv2d") return torch::kConv2D;
  if (n == "conv3d") return torch::kConv3D;
  if (n == "conv_transpose1d") return torch::kConvTranspose1D;
  if (n == "conv_transpose2d") return torch::kConvTranspose2D;
  if (n == "conv_transpose3d") return torch::kConvTranspose3D;
  if (n == "sigmoid") return torch::kSigmoid;
  if (n == "tanh") return torch::kTanh;
  if (n == "relu") return torch::kReLU;
  if (n == "leaky_relu") return torch::kLeakyReLU;
  ThrowRangeError(a.env(), "unsupported nonlinearity '" + n + "'");
}

init::FanModeType FanMode(const Args& a, size_t i) {
  std::string m = a.missing(i) ? "fan_in" : a.string(i);
  if (m == "fan_in") return torch::kFanIn;
  if (m == "fan_out") return torch::kFanOut;
  ThrowRangeError(a.env(), "mode must be 'fan_in' or 'fan_out' (got '" + m + "')");
}

// Each fills the tensor in place (no gradient recorded) and returns nothing.
#define TN_KAIMING(X) X(kaiming_uniform_, initKaimingUniform_) X(kaiming_normal_, initKaimingNormal_)
#define TN_DEFINE(fn, js)                                                                  \
  Napi::Value Init_##js(const Napi::CallbackInfo& info) { /* (t, a, mode, nonlinearity) */ \
    Args a(info);                                                                          \
    init::fn(a.tensor(0), a.optNumber(1).value_or(0), FanMode(a, 2), Nonlinearity(a, 3));  \
    return a.env().Undefined();                                                            \
  }
TN_KAIMING(TN_DEFINE)
#undef TN_DEFINE

#define TN_XAVIER(X) X(xavier_uniform_, initXavierUniform_) X(xavier_normal_, initXavierNormal_)
#define TN_DEFINE(fn, js)                                                 \
  Napi::Value Init_##js(const Napi::CallbackInfo& info) { /* (t, gain) */ \
    Args a(info);                                                         \
    init::fn(a.tensor(0), a.optNumber(1).value_or(1.0));                  \
    return a.env().Undefined();                                           \
  }
TN_XAVIER(TN_DEFINE)
#undef TN_DEFINE

Napi::Value InitUniform_(const Napi::CallbackInfo& info) {  // (t, a, b)
  Args a(info);
  init::uniform_(a.tensor(0), a.number(1), a.number(2));
  return a.env().Undefined();
}

Napi::Value InitNormal_(const Napi::CallbackInfo& info) {  // (t, mean, std)
  Args a(info);
  init::normal_(a.tensor(0), a.number(1), a.number(2));
  return a.env().Undefined();
}

Napi::Value InitConstant_(const Napi::CallbackInfo& info) {  // (t, value)
  Args a(info);
  init::constant_(a.tensor(0), a.scalar(1));
  return a.env().Undefined();
}

Napi::Value CalculateGain(const Napi::CallbackInfo& info) {  // (nonlinearity, param?)
  Args a(info);
  return Napi::Number::New(a.env(), init::calculate_gain(Nonlinearity(a, 0), a.optNumber(1).value_or(0.01)));
}

Napi::Value FanInAndFanOut(const Napi::CallbackInfo& info) {  // (t) -> [fanIn, fanOut]
  Args a(info);
  auto [fanIn, fanOut] = init::_calculate_fan_in_and_fan_out(a.tensor(0));
  Napi::Array out = Napi::Array::New(a.env(), 2);
  out.Set(0u, Napi::Number::New(a.env(), static_cast<double>(fanIn)));
  out.Set(1u, Napi::Number::New(a.env(), static_cast<double>(fanOut)));
  return out;
}

}  // namespace

void RegisterInit(Napi::Env env, Napi::Object exports) {
#define TN_REGISTER(fn, js) Export<Init_##js>(env, exports, #js);
  TN_KAIMING(TN_REGISTER)
  TN_XAVIER(TN_REGISTER)
#undef TN_REGISTER
  Export<InitUniform_>(env, exports, "initUniform_");
  Export<InitNormal_>(env, exports, "initNormal_");
  Export<InitConstant_>(env, exports, "initConstant_");
  Export<CalculateGain>(env, exports, "calculateGain");
  Export<FanInAndFanOut>(env, exports, "fanInAndFanOut");
}

}  // namespace tn
