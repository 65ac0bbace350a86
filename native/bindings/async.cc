#include "bindings/async.h"

#include <memory>
#include <utility>

#include "bindings/engine_thread.h"

namespace healbert::js {

namespace {

struct Pending {
  Napi::Promise::Deferred deferred;
  std::vector<Napi::ObjectReference> refs;
  Work work;
  Converter converter;
  CapturedError failure;
  bool ok = false;
};

// Runs on the JS thread once the work is done: settles the promise and drops the references.
void settle(Napi::Env env, Napi::Function, void*, Pending* pending) {
  if (env == nullptr) return;  // shutting down: JS handles cannot be released any more, so leak them
  std::unique_ptr<Pending> owned(pending);
  Napi::HandleScope scope(env);
  if (!owned->ok) {
    owned->deferred.Reject(make_error(env, owned->failure).Value());
    return;
  }
  try {
    owned->deferred.Resolve(owned->converter ? owned->converter(env) : env.Undefined());
  } catch (const Napi::Error& e) {
    owned->deferred.Reject(e.Value());
  } catch (...) {
    owned->deferred.Reject(make_error(env, capture_current_exception()).Value());
  }
}

using Completion = Napi::TypedThreadSafeFunction<void, Pending, settle>;

}  // namespace

Napi::Promise run_async(Napi::Env env, const std::vector<Napi::Value>& keep_alive, Work work) {
  auto pending =
      std::make_unique<Pending>(Pending{Napi::Promise::Deferred::New(env), {}, std::move(work), {}, {}, false});
  for (const auto& value : keep_alive) {
    if (value.IsObject()) pending->refs.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }
  Napi::Promise promise = pending->deferred.Promise();
  // One thread-safe function per call: it keeps the event loop alive until the promise settles.
  Completion completion = Completion::New(env, "healbert", 0, 1);
  Pending* raw = pending.release();
  post_to_engine_thread([completion, raw]() mutable {
    try {
      raw->converter = raw->work();
      raw->ok = true;
    } catch (...) {
      raw->failure = capture_current_exception();
    }
    raw->work = nullptr;  // release captured inputs on this thread, before the JS thread settles
    // If the environment is gone, `raw` holds JS handles that only the JS thread may release: leak it.
    completion.BlockingCall(raw);
    completion.Release();
  });
  return promise;
}

}  // namespace healbert::js
