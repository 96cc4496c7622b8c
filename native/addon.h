// Per-environment state of the addon (Node-API instance data): one per main thread, worker thread or
// Electron context, never a C++ static, so the addon is context-aware.
#pragma once
#include <napi.h>

#include <array>
#include <cstdint>
#include <memory>
#include <thread>

namespace tn {

class HandleTable;
class ComputeThread;
struct CollectorLink;
CollectorLink* NewCollectorLink(HandleTable* table);  // collector.cc
void DetachCollectorLink(CollectorLink* link);

// The JS error classes (lib/errors.ts) the native side throws; registered once by lib/native.ts.
enum class ErrorKind { Torch, Index, Value, Type, NotImplemented, OutOfMemory, Count };

struct Addon {
  Addon();
  ~Addon();
  // The tensor handles of this environment (handle.h): O(1) acquire and release, and torch.memory()
  // can walk what is alive.
  std::unique_ptr<HandleTable> handles;
  // What the finalizers of collected Tensors reach (collector.cc); it may outlive this Addon.
  CollectorLink* collector;
  std::thread::id thread = std::this_thread::get_id();
  std::array<Napi::FunctionReference, static_cast<size_t>(ErrorKind::Count)> errorClasses;
  // Started by the first compute job off the JS thread (async.h); shared with the jobs in flight, so it
  // outlives whichever of them and this environment ends last.
  std::shared_ptr<ComputeThread> compute;
};

inline Addon& GetAddon(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

// Each native/*.cc that exports functions has one of these; addon.cc calls them all.
void RegisterTensor(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterDispatch(Napi::Env env, Napi::Object exports);
void RegisterShape(Napi::Env env, Napi::Object exports);
void RegisterIndexing(Napi::Env env, Napi::Object exports);
void RegisterAutograd(Napi::Env env, Napi::Object exports);
void RegisterAutogradGraph(Napi::Env env, Napi::Object exports);
void RegisterAoti(Napi::Env env, Napi::Object exports);
void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterCpuCache(Napi::Env env, Napi::Object exports);
void RegisterCollector(Napi::Env env, Napi::Object exports);
void RegisterNn(Napi::Env env, Napi::Object exports);
void RegisterInit(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterData(Napi::Env env, Napi::Object exports);
void RegisterSerialize(Napi::Env env, Napi::Object exports);
void RegisterAmp(Napi::Env env, Napi::Object exports);
void RegisterJit(Napi::Env env, Napi::Object exports);
void RegisterTrace(Napi::Env env, Napi::Object exports);
void RegisterCuda(Napi::Env env, Napi::Object exports);
void RegisterDistributed(Napi::Env env, Napi::Object exports);
void RegisterDdp(Napi::Env env, Napi::Object exports);
#ifdef TORCHNODE_CUDA
void RegisterCudaDevice(Napi::Env env, Napi::Object exports);  // native/cuda/: CUDA LibTorch only
void RegisterCudaGraph(Napi::Env env, Napi::Object exports);
#endif

}  // namespace tn
