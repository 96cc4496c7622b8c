// Tensors the garbage collector takes: a Node-API finalizer on each JS Tensor that no scope owns
// (lib/tensor.ts) notes its handle for release. Built as Node-API's experimental version (CMakeLists.txt),
// Node >= 20.10 runs such finalizers during the collection itself, so a loop that never yields still gets
// its memory back; older Node runs them at the next turn of the event loop, as a FinalizationRegistry
// would. Inside a collection nothing may touch the JS heap, so the finalizer only records the handle;
// the release (at::Tensor reset, slot freed, V8 told) happens at the next Wrap, or in a drain posted for
// just after the collection.
#include <dlfcn.h>

#include "args.h"
#include "errors.h"

namespace tn {

// What a finalizer reaches: the environment's table while the environment lives. It outlives the Addon
// when finalizers are still attached (they run at environment teardown too), and is freed by the last
// of them.
struct CollectorLink {
  HandleTable* table;
  int64_t pending = 0;  // finalizers attached and drains posted, not yet run
  bool drainPosted = false;
};

namespace {

// node_api_post_finalizer (Node >= 20.10, experimental API) runs a callback after the collection, with
// the JS heap usable. Looked up at run time: Node 20.9 lacks it, and runs finalizers deferred anyway.
using PostFinalizer = napi_status (*)(napi_env, napi_finalize, void*, void*);
PostFinalizer FindPostFinalizer() {
  static const PostFinalizer post = reinterpret_cast<PostFinalizer>(dlsym(RTLD_DEFAULT, "node_api_post_finalizer"));
  return post;
}

void Unlink(CollectorLink* link) {
  if (--link->pending == 0 && link->table == nullptr) delete link;
}

void Drain(napi_env env, void* /*data*/, void* hint) {
  auto* link = static_cast<CollectorLink*>(hint);
  link->drainPosted = false;
  if (link->table) ReleaseCollected(Napi::Env(env));
  Unlink(link);
}

void OnCollected(napi_env env, void* data, void* hint) {
  auto* link = static_cast<CollectorLink*>(hint);
  if (link->table) {
    link->table->Collected(reinterpret_cast<uint64_t>(data));
    PostFinalizer post = FindPostFinalizer();
    if (!post) {
      ReleaseCollected(Napi::Env(env));  // no post API: this Node runs finalizers outside the collection
    } else if (!link->drainPosted && post(env, Drain, nullptr, link) == napi_ok) {
      link->drainPosted = true;
      ++link->pending;
    }
  }
  Unlink(link);
}

// attachCollector([tensor0, handle0, tensor1, handle1, …]): release each handle when its Tensor is
// collected. Handles already disposed are skipped.
Napi::Value AttachCollector(const Napi::CallbackInfo& info) {
  Args a(info);
  if (!a[0].IsArray()) a.fail(0, "an array of [Tensor, handle, …]");
  Napi::Array list = a[0].As<Napi::Array>();
  Addon& addon = GetAddon(a.env());
  CollectorLink* link = addon.collector;
  for (uint32_t i = 0; i + 1 < list.Length(); i += 2) {
    Napi::Value owner = list.Get(i);
    uint64_t value;
    if (!BoxOf(a.env(), list.Get(i + 1), "handle", &value) || !owner.IsObject()) continue;
    // Only a non-object fails here, and was skipped above; the rest are attached whatever happens.
    if (napi_add_finalizer(a.env(), owner, reinterpret_cast<void*>(value), OnCollected, link, nullptr) == napi_ok) ++link->pending;
  }
  return a.env().Undefined();
}

Napi::Value ReleaseCollectedNow(const Napi::CallbackInfo& info) {
  ReleaseCollected(info.Env());
  return info.Env().Undefined();
}

}  // namespace

CollectorLink* NewCollectorLink(HandleTable* table) { return new CollectorLink{table}; }

void DetachCollectorLink(CollectorLink* link) {
  link->table = nullptr;
  if (link->pending == 0) delete link;
}

void RegisterCollector(Napi::Env env, Napi::Object exports) {
  Export<AttachCollector>(env, exports, "attachCollector");
  Export<ReleaseCollectedNow>(env, exports, "releaseCollected");
}

}  // namespace tn
