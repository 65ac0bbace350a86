// Promise-returning native calls. The work runs on the engine thread (engine_thread.h), never on the JS
// thread; the conversion of its result to JS values runs back on the JS thread.
//
//   return js::run_async(env, {owner}, [=]() -> js::Converter {
//     torch::NoGradGuard guard;          // guards are thread-local: create them here, inside the work
//     auto result = engine_call(...);
//     return [result](Napi::Env env) { return to_js(env, result); };
//   });
#pragma once

#include <napi.h>

#include <functional>
#include <vector>

#include "bindings/js_errors.h"

namespace healbert::js {

using Converter = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<Converter()>;

// `keep_alive`: JS objects (the owning wrapper, input buffers) referenced until the work settles, so the
// garbage collector cannot free what the engine thread is reading.
Napi::Promise run_async(Napi::Env env, const std::vector<Napi::Value>& keep_alive, Work work);

}  // namespace healbert::js
