// Mixed precision: autocast state (what Python's torch.autocast context manager sets) and the two ops
// GradScaler is built on, so loss scaling is PyTorch's own arithmetic.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

at::DeviceType AutocastDevice(const Args& a, size_t i) {
  std::string d = a.string(i);
  if (d == "cpu") return at::kCPU;
  if (d == "cuda") return at::kCUDA;
  a.fail(i, "'cpu' or 'cuda'");
}

// autocastEnter(deviceType, enabled, dtype) -> [previousEnabled, previousDtypeCode]
Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  Args a(info);
  at::DeviceType device = AutocastDevice(a, 0);
  bool enabled = a.boolean(1);
  at::ScalarType dtype = a.dtype(2);
  Napi::Array previous = Napi::Array::New(a.env(), 2);
  previous.Set(0u, Napi::Boolean::New(a.env(), at::autocast::is_autocast_enabled(device)));
  previous.Set(1u, Napi::Number::New(a.env(), static_cast<double>(at::autocast::get_autocast_dtype(device))));
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::increment_nesting();
  return previous;
}

// autocastExit(deviceType, previousEnabled, previousDtypeCode): as Python's __exit__, the cast cache is
// cleared when the outermost autocast ends.
Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  Args a(info);
  at::DeviceType device = AutocastDevice(a, 0);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device, a.boolean(1));
  at::autocast::set_autocast_dtype(device, a.dtype(2));
  return a.env().Undefined();
}

Napi::Value IsAutocastEnabled(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(a.env(), at::autocast::is_autocast_enabled(AutocastDevice(a, 0)));
}

// ampUnscale(grads, foundInf, invScale): grads *= invScale in place; foundInf set to 1 if any is inf/nan.
Napi::Value AmpUnscale(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Tensor> grads = a.tensorList(0);
  at::Tensor found = a.tensor(1);
  at::_amp_foreach_non_finite_check_and_unscale_(grads, found, a.tensor(2));
  return a.env().Undefined();
}

// ampUpdateScale(scale, growthTracker, foundInf, growthFactor, backoffFactor, growthInterval)
Napi::Value AmpUpdateScale(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor scale = a.tensor(0);
  at::Tensor tracker = a.tensor(1);
  at::_amp_update_scale_(scale, tracker, a.tensor(2), a.number(3), a.number(4), a.int64(5));
  return a.env().Undefined();
}

}  // namespace

void RegisterAmp(Napi::Env env, Napi::Object exports) {
  Export<AutocastEnter>(env, exports, "autocastEnter");
  Export<AutocastExit>(env, exports, "autocastExit");
  Export<IsAutocastEnabled>(env, exports, "isAutocastEnabled");
  Export<AmpUnscale>(env, exports, "ampUnscale");
  Export<AmpUpdateScale>(env, exports, "ampUpdateScale");
}

}  // namespace tn
