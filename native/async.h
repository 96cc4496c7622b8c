// Promise-returning work off the JS thread, shared by the native files with async forms (serialize,
// jit): Execute touches no JS value; a C++ failure is kept as text and rejects as a TorchError.
#pragma once
#include <napi.h>
#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/ThreadLocalState.h>
#include <c10/core/StreamGuard.h>
#include <c10/util/Exception.h>

#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "addon.h"
#include "compute_thread.h"

namespace tn {

// The message of a caught exception, without LibTorch's C++ backtrace.
inline std::string MessageOf(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::bad_alloc&) {
    return "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown C++ exception";
  }
}

// A TorchError value (lib/errors.ts) to reject a Promise with.
inline Napi::Value MakeTorchError(Napi::Env env, const std::string& message) {
  Napi::FunctionReference& cls = GetAddon(env).errorClasses[static_cast<size_t>(ErrorKind::Torch)];
  if (cls.IsEmpty()) return Napi::Error::New(env, message).Value();
  return cls.New({Napi::String::New(env, message)});
}

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
      error_ = MessageOf(std::current_exception());
      failed_ = true;
    }
  }
  // Runs on a worker thread: LibTorch and file work only.
  virtual void Run() = 0;
  // Runs on the JS thread after Run succeeded: makes the resolved value.
  virtual Napi::Value Result(Napi::Env env) = 0;
  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failed_) {
      deferred_.Reject(MakeTorchError(env, error_));
      return;
    }
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(MakeTorchError(env, MessageOf(std::current_exception())));
    }
  }
  void OnError(const Napi::Error& e) final { deferred_.Reject(MakeTorchError(Env(), e.Message())); }

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
  std::string error_;
  bool failed_ = false;
};

}  // namespace tn
