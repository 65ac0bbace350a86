// Errors raised by the engine. Each carries a stable code that the binding layer hands to JavaScript
// as `error.code`; messages are for humans and may change, codes may not.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace healbert {

// The stable codes. Keep in sync with src/errors.ts (ErrorCode).
namespace code {
inline constexpr const char* kArgument = "ERR_ARGUMENT";      // a value the caller passed is invalid
inline constexpr const char* kShape = "ERR_SHAPE";            // tensor shapes or lengths do not fit
inline constexpr const char* kTorch = "ERR_TORCH";            // libtorch raised (c10::Error)
inline constexpr const char* kOutOfMemory = "ERR_OOM";        // host or device memory exhausted
inline constexpr const char* kBusy = "ERR_BUSY";              // the object is in use by another call
inline constexpr const char* kDisposed = "ERR_DISPOSED";      // the object was disposed
inline constexpr const char* kCheckpoint = "ERR_CHECKPOINT";  // a checkpoint file is unreadable or inconsistent
inline constexpr const char* kDevice = "ERR_DEVICE";          // the device does not exist or is unusable
inline constexpr const char* kIo = "ERR_IO";                  // reading or writing a file failed
inline constexpr const char* kInternal = "ERR_INTERNAL";      // a bug in healbert
}  // namespace code

class Error : public std::runtime_error {
 public:
  Error(const char* code, const std::string& message) : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// Builds a message from streamable parts: fail(code::kShape, "expected ", n, " got ", m).
template <typename... Parts>
[[noreturn]] void fail(const char* code, const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  throw Error(code, out.str());
}

}  // namespace healbert

// HB_CHECK(cond, code, parts...): throws healbert::Error(code, parts...) when cond is false.
#define HB_CHECK(cond, code, ...)                     \
  do {                                                \
    if (!(cond)) ::healbert::fail(code, __VA_ARGS__); \
  } while (0)
