// Promise-returning native calls. The work runs on libuv's thread pool, never on the JS thread; the
// conversion of its result to JS values runs back on the JS thread.
//
//   return js::run_async(env, {owner}, [=]() -> js::Converter {
//     torch::NoGradGuard guard;          // guards are thread-local: create them here, inside the work
//     auto result = engine_call(...);
//     return [result](Napi::Env env) { return to_js(env, result); };
//   });
#pragma once

#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "bindings/js_errors.h"

namespace healbert::js {

using Converter = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<Converter()>;

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // `keep_alive`: JS objects (the owning wrapper, input buffers) referenced until the work settles, so
  // the garbage collector cannot free what the worker thread is reading.
  PromiseWorker(Napi::Env env, const std::vector<Napi::Value>& keep_alive, Work work)
      : Napi::AsyncWorker(env, "healbert"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {
    for (const auto& value : keep_alive) {
      if (value.IsObject()) refs_.push_back(Napi::Persistent(value.As<Napi::Object>()));
    }
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      converter_ = work_();
    } catch (...) {
      failure_ = capture_current_exception();
      SetError(failure_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(converter_ ? converter_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(make_error(env, capture_current_exception()).Value());
    }
  }

  void OnError(const Napi::Error&) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    deferred_.Reject(make_error(env, failure_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Converter converter_;
  CapturedError failure_;
  std::vector<Napi::ObjectReference> refs_;
};

inline Napi::Promise run_async(Napi::Env env, const std::vector<Napi::Value>& keep_alive, Work work) {
  auto* worker = new PromiseWorker(env, keep_alive, std::move(work));  // owned by libuv; deletes itself
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace healbert::js
