#include "engine/allocator.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace healbert {

namespace {
std::string mode = "system";
}

std::string configure_host_allocator(bool keep) {
#if defined(__GLIBC__)
  const bool user_configured = std::getenv("MALLOC_MMAP_MAX_") != nullptr ||
                               std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
                               std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr ||
                               std::getenv("MALLOC_ARENA_MAX") != nullptr || std::getenv("GLIBC_TUNABLES") != nullptr;
  if (keep && !user_configured && mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
      mallopt(M_ARENA_MAX, 1) == 1) {
    // M_TRIM_THRESHOLD: an int; 1 GiB of free space at the heap's top before any is returned.
    mode = "kept";
  } else {
    mode = "system";
  }
#else
  (void)keep;
  mode = "unsupported";
#endif
  return mode;
}

const std::string& host_allocator_mode() { return mode; }

}  // namespace healbert
