// A native object handed to JS as a Node-API External that owns it (its finalizer frees the object when
// the JS value is collected), type-tagged so that one kind of handle is never taken for another: a
// value comes back in only through Unwrap, which checks the tag. One TaggedExternal<T> per kind, e.g.
//
//   const TaggedExternal<GroupBox> kGroups{0x64697374706772ULL};
//   kGroups.Make(env, new GroupBox{...});                 // -> the JS value
//   kGroups.Unwrap(a, 0, "a process group handle");       // -> GroupBox&, or a TypeError naming argument 0
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "args.h"

namespace tn {

template <typename T>
class TaggedExternal {
 public:
  using Finalizer = void (*)(T*);

  // kind: the tag's second half, unique to this kind of handle (the first half, "torchnod", is shared);
  // finalize: what frees the object when its External is collected.
  constexpr explicit TaggedExternal(uint64_t kind, Finalizer finalize = &Delete) : tag_{kTorchnode, kind}, finalize_(finalize) {}

  // A new External owning `object`.
  Napi::External<T> Make(Napi::Env env, T* object) const {
    auto ext = Napi::External<T>::New(env, object, [finalize = finalize_](Napi::Env, T* p) { finalize(p); });
    ext.TypeTag(&tag_);
    return ext;
  }

  // The object of argument i; a.fail(i, what) unless the argument is an External with this tag.
  T& Unwrap(const Args& a, size_t i, const char* what) const {
    Napi::Value v = a[i];
    if (!v.IsExternal() || !v.As<Napi::External<T>>().CheckTypeTag(&tag_)) a.fail(i, what);
    return *v.As<Napi::External<T>>().Data();
  }

 private:
  static constexpr uint64_t kTorchnode = 0x746f7263686e6f64ULL;  // "torchnod"
  static void Delete(T* object) { delete object; }

  napi_type_tag tag_;
  Finalizer finalize_;
};

}  // namespace tn
