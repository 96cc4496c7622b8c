// The NCCL backend of torch.distributed, compiled only against a CUDA LibTorch when CMake found nccl.h
// (see CMakeLists.txt): c10d::ProcessGroupNCCL with default options, handed back as a c10d::Backend.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "../distributed.h"

namespace tn {

c10::intrusive_ptr<c10d::Backend> MakeNcclBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}

}  // namespace tn
