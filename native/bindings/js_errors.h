// Turning C++ exceptions into JavaScript errors with a stable `code`. Only the binding layer sees Napi.
#pragma once

#include <napi.h>

#include <string>

namespace healbert::js {

struct CapturedError {
  std::string code;
  std::string message;
};

// Must be called inside a catch block: classifies the exception in flight.
CapturedError capture_current_exception();

// A JS Error with .code set (and a TypeError for ERR_ARGUMENT, the JS convention for bad arguments).
Napi::Error make_error(Napi::Env env, const CapturedError& captured);

// Throws a JS error with a code from a binding function (with C++ exceptions enabled in node-addon-api).
[[noreturn]] void throw_error(Napi::Env env, const char* code, const std::string& message);

// Runs `body` and converts any C++ exception into a thrown JS error. For synchronous entry points.
template <typename Body>
Napi::Value guarded(Napi::Env env, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw make_error(env, capture_current_exception());
  }
}

}  // namespace healbert::js
