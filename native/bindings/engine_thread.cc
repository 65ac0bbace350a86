#include "bindings/engine_thread.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace healbert::js {

namespace {

class EngineThread {
 public:
  EngineThread() : thread_([this] { loop(); }) { thread_.detach(); }

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
