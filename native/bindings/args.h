// Reading arguments from JS with errors that say which argument was wrong. The TypeScript layer validates
// options first (DESIGN.md: JS validates, C++ trusts one pre-validated object); these checks are the
// backstop that keeps a careless direct call from crashing the process.
#pragma once

#include <napi.h>

#include <string>

#include "bindings/js_errors.h"
#include "engine/errors.h"

namespace healbert::js {

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw_error(info.Env(), code::kArgument, std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

inline int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw_error(info.Env(), code::kArgument, std::string(what) + " must be a number");
  const double value = info[i].As<Napi::Number>().DoubleValue();
  if (value != static_cast<double>(static_cast<int64_t>(value)))
    throw_error(info.Env(), code::kArgument, std::string(what) + " must be an integer");
  return static_cast<int64_t>(value);
}

}  // namespace healbert::js
