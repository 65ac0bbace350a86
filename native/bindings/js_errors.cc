#include "bindings/js_errors.h"

#include <c10/util/Exception.h>

#include <new>

#include "engine/errors.h"

namespace healbert::js {

CapturedError capture_current_exception() {
  try {
    throw;
  } catch (const healbert::Error& e) {
    return {e.code(), e.what()};
  } catch (const c10::OutOfMemoryError& e) {
    return {code::kOutOfMemory, e.what_without_backtrace()};
  } catch (const c10::Error& e) {
    // what_without_backtrace(): the torch message without the C++ stack that c10 appends.
    return {code::kTorch, e.what_without_backtrace()};
  } catch (const std::bad_alloc&) {
    return {code::kOutOfMemory, "out of host memory (std::bad_alloc)"};
  } catch (const std::exception& e) {
    return {code::kInternal, e.what()};
  } catch (...) {
    return {code::kInternal, "unknown C++ exception"};
  }
}

Napi::Error make_error(Napi::Env env, const CapturedError& captured) {
  Napi::Error error = captured.code == code::kArgument ? Napi::TypeError::New(env, captured.message)
                                                       : Napi::Error::New(env, captured.message);
  error.Set("code", Napi::String::New(env, captured.code));
  return error;
}

void throw_error(Napi::Env env, const char* code, const std::string& message) {
  throw make_error(env, CapturedError{code, message});
}

}  // namespace healbert::js
