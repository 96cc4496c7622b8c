// torch.distributed's native side, shared by distributed.cc (process groups and collectives), ddp.cc
// (DistributedDataParallel on c10d's Reducer) and the files that construct c10d backends:
// distributed_gloo.cc, and cuda/distributed_nccl.cc in CUDA builds that found nccl.h.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

#include "args.h"

namespace tn {

// c10d::ProcessGroupGloo with PyTorch's default devices: the interfaces in GLOO_SOCKET_IFNAME, else the
// address this host's name resolves to (else loopback).
c10::intrusive_ptr<c10d::Backend> MakeGlooBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout);
#ifdef TORCHNODE_NCCL
// c10d::ProcessGroupNCCL with default options.
c10::intrusive_ptr<c10d::Backend> MakeNcclBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout);
#endif

// The process group of argument i: a TypeError if it is not a group handle, a TorchError once destroyed.
c10::intrusive_ptr<c10d::ProcessGroup> GroupArg(const Args& a, size_t i);

}  // namespace tn
