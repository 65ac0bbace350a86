// How freed host memory is handled. libtorch allocates CPU tensors with malloc; glibc serves every block
// above 32 MiB (and, as its threshold adapts, many smaller ones) with a fresh mmap and returns it on free,
// so each training step and evaluation batch maps its large activations and gradients anew and the kernel
// zero-fills every page on first touch. perf on a bf16 bert-base evaluation (64 x 128, 2 cores) put 16-20%
// of the samples in page faults; keeping freed memory in the heap for reuse took the batch from 5.1 to 4.0 s
// and a training step (8 x 128) from 1.55 to 1.49 s. The price: the process keeps its peak heap instead of
// handing freed memory back to the system.
#pragma once

#include <string>

namespace healbert {

// Keeps freed memory for reuse (glibc: no mmap for large blocks, no trimming of the heap's top) unless the
// user configured glibc's malloc through its environment (MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES) or `keep` is false. Returns what it did, for engine info: "kept"
// (freed memory stays in the process), "system" (glibc's defaults or the user's settings) or "unsupported"
// (not glibc).
std::string configure_host_allocator(bool keep);

// What configure_host_allocator decided ("system" before it runs).
const std::string& host_allocator_mode();

}  // namespace healbert
