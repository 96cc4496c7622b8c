// The addon's entry point: per-environment state, the build's identity, and every native/*.cc's exports.
#include <napi.h>
#include <torch/version.h>  // in every release; newer ones forward it to torch/headeronly/version.h

#include "addon.h"
#include "errors.h"

namespace tn {
namespace {

// setErrorClasses({TorchError, IndexError, ValueError, TypeError, NotImplementedError, OutOfMemoryError})
Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) ThrowTypeError(info.Env(), "setErrorClasses takes an object of classes");
  Napi::Object classes = info[0].As<Napi::Object>();
  static const char* const names[] = {"TorchError", "IndexError", "ValueError", "TypeError", "NotImplementedError", "OutOfMemoryError"};
  Addon& addon = GetAddon(info.Env());
  for (size_t k = 0; k < static_cast<size_t>(ErrorKind::Count); ++k) {
    Napi::Value cls = classes.Get(names[k]);
    if (!cls.IsFunction()) ThrowTypeError(info.Env(), std::string("setErrorClasses: ") + names[k] + " must be a class");
    addon.errorClasses[k] = Napi::Persistent(cls.As<Napi::Function>());
  }
  return info.Env().Undefined();
}

Napi::Object BuildInfo(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("torchVersion",
        std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH));
#ifdef TORCHNODE_CUDA
  o.Set("cuda", true);
#else
  o.Set("cuda", false);
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Addon());
  exports.Set("buildInfo", BuildInfo(env));
  Export<SetErrorClasses>(env, exports, "setErrorClasses");
  RegisterTensor(env, exports);
  RegisterOps(env, exports);
  RegisterDispatch(env, exports);
  RegisterShape(env, exports);
  RegisterIndexing(env, exports);
  RegisterAutograd(env, exports);
  RegisterAutogradGraph(env, exports);
  RegisterAoti(env, exports);
  RegisterMemory(env, exports);
  RegisterCpuCache(env, exports);
  RegisterCollector(env, exports);
  RegisterNn(env, exports);
  RegisterInit(env, exports);
  RegisterOptim(env, exports);
  RegisterData(env, exports);
  RegisterSerialize(env, exports);
  RegisterAmp(env, exports);
  RegisterJit(env, exports);
  RegisterTrace(env, exports);
  RegisterCuda(env, exports);
  RegisterDistributed(env, exports);
  RegisterDdp(env, exports);
#ifdef TORCHNODE_CUDA
  RegisterCudaDevice(env, exports);
  RegisterCudaGraph(env, exports);
#endif
  return exports;
}

}  // namespace
}  // namespace tn

static Napi::Object InitTorchnode(Napi::Env env, Napi::Object exports) { return tn::Init(env, exports); }
NODE_API_MODULE(torchnode, InitTorchnode)
