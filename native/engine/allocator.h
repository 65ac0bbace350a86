// How freed host memory is handled. libtorch allocates CPU tensors with malloc; glibc serves every block
// above 32 MiB (and, as its threshold adapts, many smaller ones) with a fresh mmap and returns it on free,
// so each training step and evaluation batch maps its large activations and gradients anew and the kernel
// zero-fills every page on first touch. perf on a bf16 bert-base evaluation (64 x 128, 2 cores) put 16-20%
// of the samples in page faults; keeping freed memory in the heap for reuse took the batch from 5.1 to 4.0 s
// and a training step (8 x 128) from 1.55 to 1.49 s. The price: the process keeps its peak heap instead of
// handing freed memory back to the system.
//
// It also keeps one malloc arena (M_ARENA_MAX 1). The engine thread's own arena grows in separately mapped
// heaps of at most 64 MiB, which glibc unmaps as they empty, so in about half of the processes blocks kept
// being mapped and zero-filled anew despite the settings above: the tiny test sweep's calibration took
// 1.0-1.4 s instead of 0.3 s, with twice the page faults. With one arena, 10 of 10 processes ran it in
// 0.31-0.36 s. On the 2-core AMD EPYC (Zen 5, Debian's libtorch 1.13), a mini-BERT fleet of 4 trains a
// 16 x 64 step in 0.37 s instead of 0.72 s (bf16) and 0.92 s instead of 1.25 s (float32); a 4 x 256 MLM
// step (64 x 128, float32) takes 2.9 s instead of 5.2 s.
#pragma once

#include <string>

namespace healbert {

// Keeps freed memory for reuse (glibc: no mmap for large blocks, no trimming of the heap's top, one arena)
// unless the user configured glibc's malloc through its environment (MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_MMAP_THRESHOLD_, MALLOC_ARENA_MAX, GLIBC_TUNABLES) or `keep` is false. Returns what it did, for engine info:
// "kept" (freed memory stays in the process), "system" (glibc's defaults or the user's settings) or "unsupported" (not
// glibc).
std::string configure_host_allocator(bool keep);

// What configure_host_allocator decided ("system" before it runs).
const std::string& host_allocator_mode();

}  // namespace healbert
