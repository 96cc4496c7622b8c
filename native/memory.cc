// torch.memory(): what the live JS handles of this environment hold, per device. Storages shared by
// several handles (views, a handle and its .to() of the same device) are counted once.
#include <ATen/core/Tensor.h>

#include <map>
#include <unordered_set>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReleaseCollected(env);  // what the collector took is not alive any more
  Addon& addon = GetAddon(env);
  struct Usage {
    int64_t tensors = 0;
    int64_t bytes = 0;
  };
  std::map<std::string, Usage> perDevice;
  std::unordered_set<const void*> seen;
  addon.handles->ForEachLive([&](TensorBox& b) {
    const at::Tensor& t = b.tensor;
    Usage& u = perDevice[t.device().str()];
    ++u.tensors;
    if (!t.has_storage()) return;
    const void* storage = t.storage().unsafeGetStorageImpl();
    if (seen.insert(storage).second) u.bytes += static_cast<int64_t>(t.storage().nbytes());
  });
  Napi::Object devices = Napi::Object::New(env);
  for (const auto& [name, u] : perDevice) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("tensors", Napi::Number::New(env, static_cast<double>(u.tensors)));
    o.Set("bytes", Napi::Number::New(env, static_cast<double>(u.bytes)));
    devices.Set(name, o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("handles", Napi::Number::New(env, static_cast<double>(addon.handles->live())));
  out.Set("devices", devices);
  return out;
}

Napi::Value LiveHandles(const Napi::CallbackInfo& info) {
  ReleaseCollected(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(GetAddon(info.Env()).handles->live()));
}

}  // namespace

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  Export<Memory>(env, exports, "memory");
  Export<LiveHandles>(env, exports, "liveHandles");
}

}  // namespace tn
