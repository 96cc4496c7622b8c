// Placeholder: filled in by the serialize work (see lib/serialize).
#include "args.h"
#include "errors.h"

namespace tn {

void RegisterSerialize(Napi::Env env, Napi::Object exports) {}

}  // namespace tn
