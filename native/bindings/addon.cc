// The addon's entry point: the only place that knows every binding file.
#include <napi.h>

#include "bindings/module.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  healbert::js::register_runtime(env, exports);
  healbert::js::register_model(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(healbert, Init)
