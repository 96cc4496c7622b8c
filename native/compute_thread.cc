// See compute_thread.h.
#include "compute_thread.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <exception>

namespace tn {

struct ComputeThread::Task {
  const std::function<void()>* job;
  std::exception_ptr error;
  bool done = false;
  std::condition_variable finished;
};

ComputeThread::ComputeThread() : thread_([this] { Loop(); }) {}

ComputeThread::~ComputeThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ComputeThread::RunAndWait(const std::function<void()>& job) {
  Task task{&job};
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(&task);
  wake_.notify_one();
  task.finished.wait(lock, [&] { return task.done; });
  if (task.error) std::rethrow_exception(task.error);
}

void ComputeThread::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  bool holdsTeam = false;
  const auto hasWork = [this] { return stopping_ || !queue_.empty(); };
  for (;;) {
    // Idle for a while (a training loop's steps come back to back): hand the OpenMP team back, so that
    // ops on the JS thread after training run at full speed again.
    if (holdsTeam && !wake_.wait_for(lock, kIdleRelease, hasWork)) {
      lock.unlock();
      ReleaseOpenMpTeam();
      lock.lock();
      holdsTeam = false;
    }
    wake_.wait(lock, hasWork);
    if (queue_.empty()) return;  // stopping, and nothing left: every waiter has its answer
    holdsTeam = true;
    Task* task = queue_.front();
    queue_.pop_front();
    lock.unlock();
    try {
      at::init_num_threads();  // torch.setNumThreads() from the JS thread applies here too
      (*task->job)();
    } catch (...) {
      task->error = std::current_exception();
    }
    lock.lock();
    task->done = true;
    task->finished.notify_one();
  }
}

void ReleaseOpenMpTeam() {
  using PauseAll = int (*)(int);
  // GNU libgomp only (LibTorch's on Linux): its hard pause frees just the calling thread's team, where
  // LLVM's libomp (which exports __kmpc_fork_call) shuts its whole runtime down.
  static const PauseAll pause =
      dlsym(RTLD_DEFAULT, "__kmpc_fork_call") ? nullptr : reinterpret_cast<PauseAll>(dlsym(RTLD_DEFAULT, "omp_pause_resource_all"));
  constexpr int kOmpPauseHard = 2;  // omp_pause_hard: the team's threads exit
  if (pause) pause(kOmpPauseHard);
}

}  // namespace tn
