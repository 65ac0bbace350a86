#include "bindings/engine_thread.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace healbert::js {

namespace {

// Held while an engine job runs, and by fork() from the moment it starts until it returns.
//
// OpenBLAS's pthread build (Debian's libtorch uses it) stops its worker threads in a fork "prepare" handler.
// When the JS thread forks (child_process.spawn) while the engine thread is inside a BLAS call, that call
// waits forever for a worker that is gone: a sweep test hung this way with the engine thread spinning in
// exec_blas_async. Prepare handlers run in reverse order of registration, so this one (registered after
// libopenblas was loaded) runs first: fork waits for the job in flight to end, and no job starts until
// the fork is done. The cost is that spawning a process waits for the current engine call.
std::mutex& fork_guard() {
  static std::mutex* guard = new std::mutex();  // never destroyed: a fork may come during exit
  return *guard;
}

void guard_forks() {
  static const bool registered = [] {
    pthread_atfork([] { fork_guard().lock(); }, [] { fork_guard().unlock(); }, [] { fork_guard().unlock(); });
    return true;
  }();
  (void)registered;
}

class EngineThread {
 public:
  EngineThread() : thread_([this] { loop(); }) {
    guard_forks();
    thread_.detach();
  }

  void post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::thread thread_;

  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::lock_guard<std::mutex> no_fork(fork_guard());
      job();  // jobs catch their own exceptions (see async.h)
    }
  }
};

}  // namespace

void post_to_engine_thread(std::function<void()> job) {
  // Never destroyed: the detached thread may still be running when static destructors would run.
  static EngineThread* engine = new EngineThread();
  engine->post(std::move(job));
}

}  // namespace healbert::js
