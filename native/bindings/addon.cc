// The addon's entry point: the only place that knows every binding file.
#include <napi.h>

#include <cstdlib>
#include <cstring>

#include "bindings/module.h"
#include "engine/allocator.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Freed tensor memory stays in the process for reuse (engine/allocator.h), unless
  // HEALBERT_HOST_MEMORY=release asks for glibc's default of handing large blocks back.
  const char* host_memory = std::getenv("HEALBERT_HOST_MEMORY");
  healbert::configure_host_allocator(host_memory == nullptr || std::strcmp(host_memory, "release") != 0);
  healbert::js::register_runtime(env, exports);
  healbert::js::register_model(env, exports);
  healbert::js::register_measure(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(healbert, Init)
