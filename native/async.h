// Promise-returning work off the JS thread, shared by the native files with async forms (serialize,
// jit, optim, data, ...): Execute touches no JS value; a C++ failure is kept as a Failure (errors.h) and
// rejects with the TorchError class the synchronous form would throw (a CUDA out-of-memory in stepAsync
// is a TorchOutOfMemoryError, as in step).
#pragma once
#include <napi.h>
#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/ThreadLocalState.h>
#include <c10/core/StreamGuard.h>

#include <memory>
#include <optional>

#include "addon.h"
#include "compute_thread.h"
#include "errors.h"

namespace tn {

// Where a worker's Run() goes: libuv's pool (file I/O, waits on other processes), or the environment's
// compute thread (compute_thread.h), for LibTorch compute that repeats, such as training steps.
enum class RunOn { Pool, ComputeThread };

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, RunOn where = RunOn::Pool)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), callerStream_(CurrentCudaStream()) {
    if (where == RunOn::ComputeThread) {
      std::shared_ptr<ComputeThread>& compute = GetAddon(env).compute;
      if (!compute) compute = std::make_shared<ComputeThread>();
      compute_ = compute;
      ReleaseOpenMpTeam();
    }
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() final {
    // Run() sees what LibTorch keeps per thread (grad mode, autocast, ...) and the current CUDA stream
    // as the JS thread had them when the call was made, whichever thread it runs on.
    auto runAsCaller = [this] {
      at::ThreadLocalStateGuard tls(callerState_);
      std::optional<c10::StreamGuard> stream;
      if (callerStream_) stream.emplace(*callerStream_);
      Run();
    };
    try {
      if (compute_) {
        compute_->RunAndWait(runAsCaller);
      } else {
        runAsCaller();
      }
    } catch (...) {
      failure_ = CaptureCurrent();
    }
  }
  // Runs on a worker thread: LibTorch and file work only.
  virtual void Run() = 0;
  // Runs on the JS thread after Run succeeded: makes the resolved value.
  virtual Napi::Value Result(Napi::Env env) = 0;
  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failure_) {
      deferred_.Reject(ErrorValue(env, *failure_));
      return;
    }
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(ErrorValue(env, CaptureCurrent()));
    }
  }
  // Only a SetError string gets here: no kind to keep.
  void OnError(const Napi::Error& e) final { deferred_.Reject(ErrorValue(Env(), Failure{ErrorKind::Torch, e.Message()})); }

 private:
  // The current CUDA stream (and so device), where CUDA is present.
  static std::optional<c10::Stream> CurrentCudaStream() {
    if (!at::hasCUDA()) return std::nullopt;
    return at::accelerator::getCurrentStream(at::accelerator::getDeviceIndex());
  }

  Napi::Promise::Deferred deferred_;
  at::ThreadLocalState callerState_;
  std::optional<c10::Stream> callerStream_;
  std::shared_ptr<ComputeThread> compute_;
  std::optional<Failure> failure_;  // set when Run threw
};

}  // namespace tn
