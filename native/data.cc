// Placeholder: filled in by the data work (see lib/data).
#include "args.h"
#include "errors.h"

namespace tn {

void RegisterData(Napi::Env env, Napi::Object exports) {}

}  // namespace tn
