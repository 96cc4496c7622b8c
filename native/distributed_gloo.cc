// The Gloo backend of torch.distributed. This is the one file compiled with USE_C10D_GLOO and the gloo
// headers of native/third_party/gloo (see its README): it only calls what libtorch_cpu exports
// (ProcessGroupGloo's constructor and Options::create_default) and hands the backend back as a
// c10d::Backend, so no gloo type crosses into the rest of the addon.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "distributed.h"

namespace tn {

c10::intrusive_ptr<c10d::Backend> MakeGlooBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create_default(timeout);
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

}  // namespace tn
