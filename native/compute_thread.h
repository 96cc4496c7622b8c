// The thread that runs an environment's LibTorch compute off the JS thread (the jit forward/backward of
// an off-thread training step, the optimizer's stepAsync). libuv's pool would hand successive steps to
// different threads, each growing an OpenMP team of its own; once libgomp manages more threads than
// there are cores it lets idle team threads sleep at once, and every parallel op then pays a wake-up
// (a traced seResNet18 step: 40 ms on the JS thread, 65 ms on pool threads). One thread keeps one team.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tn {

class ComputeThread {
 public:
  ComputeThread();
  // Finishes what was queued, then joins.
  ~ComputeThread();
  ComputeThread(const ComputeThread&) = delete;
  ComputeThread& operator=(const ComputeThread&) = delete;

  // Runs `job` on the compute thread and waits for it (called from a libuv pool thread, which then only
  // waits); what `job` throws is rethrown here.
  void RunAndWait(const std::function<void()>& job);

 private:
  struct Task;
  void Loop();
  static constexpr std::chrono::milliseconds kIdleRelease{100};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Hands the calling thread's OpenMP team back (libgomp's omp_pause_resource_all), so that the JS
// thread's idle team does not count against the compute thread's while a step runs. A no-op with
// another OpenMP runtime or where the thread has no team; the next parallel op here starts a new one.
void ReleaseOpenMpTeam();

}  // namespace tn
