// The corruption kernel's body, one Philox counter (four consecutive entries of one tensor) per call: the
// CUDA kernel (native/engine/cuda/corruption_kernel.cu) runs it once per GPU thread, and the host can run the
// very same code in a loop (CorruptionRequest::kernel_on_host), which is how the tests check it against the
// fused CPU pass on machines without a GPU. Plain data and HB_HD functions only: no libtorch, so that nvcc
// compiles it without the torch headers.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/counter_random.h"

namespace healbert::kernel {

// What a method writes into each selected entry (corruption_plan.h's TargetPlan::Fill, in the same order).
enum Fill : int32_t { kNoise, kUniformNoise, kFreshUniform, kFreshNormal, kConstant, kScale, kCopy, kFlip, kNegate };

// One target: a tensor, or a strided part of one (a head's columns, a neuron's column). The part is `runs`
// runs of `length` entries, run r starting at entry offset + r * stride (flat, row-major); a whole tensor is
// one run of numel entries from 0. Entry i keeps its own place in the tensor's streams (counter i / 4, word
// i % 4), so a part gets exactly the numbers it gets when the whole tensor is corrupted.
struct Target {
  float* data = nullptr;          // the tensor's entries, contiguous float32
  const float* source = nullptr;  // kCopy (revert): the snapshot's entries, on the same device
  int64_t numel = 0;              // the whole tensor's
  int64_t offset = 0, length = 0, stride = 0, runs = 1;
  int64_t per_run = 0;           // counters per run: counters_per_run()
  crng::Key values, mask, bits;  // this tensor's streams
  float factor = 0.0f;           // noise scale, bound or std, or scale factor
  float constant = 0.0f;         // kConstant
  int32_t fill = kNoise;
};

// The Philox counters (four entries each) a run of a target touches, at most: a run that starts inside a
// counter spans one more. Runs of a stride that is a multiple of 4 all start at the same place in a counter.
inline int64_t counters_per_run(int64_t offset, int64_t length, int64_t stride, int64_t runs) {
  if (length <= 0) return 0;
  if (runs == 1 || stride % 4 == 0) return (offset % 4 + length + 3) / 4;
  return (length + 6) / 4;
}

struct Params {
  uint64_t mask_cut = crng::kSelectAll;  // an entry is selected when its mask word is below (kSelectAll: all)
  crng::BitFlipParams flips;
};

// Per-tensor counts the report needs from the kernel (the rest comes from tensor ops over before and after).
struct Counts {
  unsigned long long selected = 0;
  unsigned long long bits = 0;
};

// Which target global counter g belongs to: starts[j] is target j's first counter, starts[n] the total.
HB_HD inline int target_of(const int64_t* starts, int n, int64_t g) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (starts[mid] <= g)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

// Corrupts the target's entries among [4c, 4c + 4) in place, as the fused CPU pass does, c being the
// target's local counter `local` (run local / per_run, its (local % per_run)-th counter); adds the selected
// entries and flipped bits to `selected` and `bits`.
HB_HD inline void corrupt_counter(const Target& t, int64_t local, const Params& p, unsigned long long& selected,
                                  unsigned long long& bits) {
  const int64_t run = local / t.per_run;
  const int64_t lo = t.offset + run * t.stride, hi = lo + t.length;  // the run's entries
  const int64_t c = lo / 4 + (local - run * t.per_run);
  const int64_t first = 4 * c;
  if (first >= hi) return;  // a run that fills one counter fewer than per_run allows
  float values[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  uint32_t w[4];
  switch (t.fill) {
    case kNoise:
    case kFreshNormal:
      crng::philox(t.values, static_cast<uint64_t>(c), 0, w);
      crng::normal_pair(w[0], w[1], values[0], values[1]);
      crng::normal_pair(w[2], w[3], values[2], values[3]);
      break;
    case kUniformNoise:
      crng::philox(t.values, static_cast<uint64_t>(c), 0, w);
      for (int k = 0; k < 4; ++k) values[k] = crng::half_symmetric(w[k]);
      break;
    case kFreshUniform:
      crng::philox(t.values, static_cast<uint64_t>(c), 0, w);
      for (int k = 0; k < 4; ++k) values[k] = crng::symmetric(w[k]);
      break;
    default:
      break;
  }
  bool chosen[4] = {true, true, true, true};
  if (p.mask_cut < crng::kSelectAll) {
    uint32_t m[4];
    crng::philox(t.mask, static_cast<uint64_t>(c), 0, m);
    for (int k = 0; k < 4; ++k) chosen[k] = static_cast<uint64_t>(m[k]) < p.mask_cut;
  }
  for (int k = 0; k < 4; ++k) {
    const int64_t i = first + k;
    if (i < lo || i >= hi || !chosen[k]) continue;
    ++selected;
    const float old = t.data[i];
    float now = old;
    switch (t.fill) {
      case kNoise:
      case kUniformNoise:
        now = old + values[k] * t.factor;
        break;
      case kFreshUniform:
      case kFreshNormal:
        now = values[k] * t.factor;
        break;
      case kConstant:
        now = t.constant;
        break;
      case kScale:
        now = old * t.factor;
        break;
      case kCopy:
        now = t.source[i];
        break;
      case kNegate:
        now = crng::as_float(crng::as_bits(old) ^ 0x80000000u);
        break;
      case kFlip: {
        uint32_t f[4];
        crng::philox(t.bits, static_cast<uint64_t>(i), 0, f);  // one counter per entry, as on the host
        const uint32_t pattern = crng::flip_pattern(p.flips, t.bits, i, f);
        for (uint32_t x = pattern; x != 0; x &= x - 1) ++bits;
        now = crng::as_float(crng::as_bits(old) ^ pattern);
        break;
      }
      default:
        break;
    }
    t.data[i] = now;
  }
}

#if defined(HEALBERT_WITH_CUDA)
// Runs the kernel over `targets` (device pointers in them) on the model's device and returns each target's
// counts. native/engine/cuda/corruption_launch.cc.
void run_on_cuda(const std::vector<Target>& targets, const std::vector<int64_t>& starts, const Params& params,
                 std::vector<Counts>& counts, int device_index);

// Launches the kernel on `stream` (a cudaStream_t): one thread per counter of every target. All pointers are
// device pointers: `targets` (n), `starts` (n + 1), `counts` (n, zeroed by the caller). Defined in
// native/engine/cuda/corruption_kernel.cu; throws std::runtime_error with CUDA's message on a launch error.
void launch_corruption(const Target* targets, const int64_t* starts, int n, int64_t total, const Params& params,
                       Counts* counts, void* stream);
#endif

}  // namespace healbert::kernel
