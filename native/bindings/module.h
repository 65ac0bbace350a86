// Each binding file registers its functions on the addon's exports.
#pragma once

#include <napi.h>

namespace healbert::js {

void register_runtime(Napi::Env env, Napi::Object exports);
void register_model(Napi::Env env, Napi::Object exports);
void register_measure(Napi::Env env, Napi::Object exports);

}  // namespace healbert::js
