// The plan that corruption's three paths share (engine/corruption.h is the public API; corruption.cc picks
// the path):
//
//   corruption_fused_cpu.cc    the fused CPU pass: one multi-threaded pass per tensor chunk makes the random
//                              field, writes the new values in place and gathers the report;
//   corruption_tensor_ops.cc   the tensor-op path (other devices, or the CPU when asked): the same fields made on
//                              the CPU, applied on the device with tensor ops that round as the fused pass does;
//   corruption_kernel_path.cc  the counter kernel's path (CUDA, or its body run on the host for tests): one call
//                              of kernel::corrupt_counter (engine/corruption_kernel.h) per Philox counter.
//
// What they share, here: the per-target plan (streams and what is written), the work items a target's parts
// are cut into and how they run on threads, the random field of a block, standard deviations, and the exact
// report's statistics from tensor ops. Internal to the engine: nothing outside the corruption files includes
// this header. Every corruption*.cc file is compiled without errno and without fused multiply-add
// (CMakeLists.txt), so that every path rounds alike.
#pragma once

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "engine/corruption.h"
#include "engine/counter_random.h"
#include "engine/model.h"

namespace healbert::corruption {

constexpr int64_t kBlock = 1024;     // elements generated and applied together (L1-sized buffers)
constexpr int64_t kChunk = 1 << 16;  // elements per work item: fixed, so sums do not depend on threads
static_assert(kChunk % kBlock == 0 && kBlock % 4 == 0, "blocks must tile chunks and counters");

// What a method writes into each selected entry, per target: a scale for the noise or the fresh values,
// or a constant.
struct TargetPlan {
  size_t index = 0;              // into the layout
  crng::Key values, mask, bits;  // this tensor's streams
  float factor = 0.0f;           // noise scale (gaussian, uniform), bound or std (reinit), factor (scale)
  // kNegate flips the sign bit (sign-flip): the same bits on every device, NaN included (a multiply by -1
  // keeps a NaN's sign on x86 and gives the canonical NaN on CUDA), and as cheap as a copy.
  enum Fill {
    kNoise,
    kUniformNoise,
    kFreshUniform,
    kFreshNormal,
    kConstant,
    kScale,
    kCopy,
    kFlip,
    kNegate
  } fill = kNoise;
  float constant = 0.0f;          // kConstant
  const float* source = nullptr;  // kCopy (revert): the snapshot's CPU data (the fused pass)
};

// Each target's plan from the request: its streams (seed, Hugging Face name, purpose) and what its method
// writes. `sd`: each target's standard deviation where the method scales by it (uniform, relative gaussian),
// else empty.
std::vector<TargetPlan> make_plan(const Model& model, const CorruptionRequest& request, const std::vector<double>& sd);

// Per work item: sums that make the report, combined in a fixed order afterwards.
struct Partial {
  double old_sq = 0, delta_sq = 0, sum = 0, sum_sq = 0;
  int64_t changed = 0, non_finite = 0, selected = 0, bits = 0;
};

// A work item: entries [begin, end) of a target and, for a slice's short runs, the next runs - 1 runs after
// them, each `stride` entries on. `gathered` is the item's first entry's place among the target's selected
// entries (its slices one after the other; the tensor-op path gathers them), its run k's at
// gathered + k * (end - begin).
struct Work {
  size_t target;  // position in the plan
  size_t slice;   // position in the target's parts
  int64_t begin, end;
  int64_t runs = 1, stride = 0, gathered = 0;
};

// Each target's parts: its slices, or the whole tensor as one slice.
using Parts = std::vector<std::vector<Slice>>;

// The selected entries of each target (its parts' together).
std::vector<int64_t> part_numels(const Parts& parts);

// Work items of at most about kChunk entries: long runs cut into chunks, short runs grouped.
std::vector<Work> split_work(const Parts& parts);

// Work items over whole ranges [0, numels[j]) (the kernel path's counters).
std::vector<Work> split_work(const std::vector<int64_t>& numels);

// Runs f(begin, end, gathered) over every run of a work item.
template <typename F>
void for_each_run(const Work& w, F f) {
  for (int64_t r = 0; r < w.runs; ++r)
    f(w.begin + r * w.stride, w.end + r * w.stride, w.gathered + r * (w.end - w.begin));
}

// A thread is started only for at least `per_thread` entries: starting and joining one costs about 0.1 ms
// (more on a loaded machine), which is most of the cost of a small target such as one attention head
// (bench/corrupt.ts). kCheapPerThread suits writes of constants and copies, kCostlyPerThread random numbers.
constexpr int64_t kCheapPerThread = int64_t{1} << 21;
constexpr int64_t kCostlyPerThread = int64_t{1} << 18;

// Runs f(w) for every work item on libtorch's intra-op thread count. Not at::parallel_for: its OpenMP
// version is inline in the headers and runs serially in code compiled without -fopenmp, and compiling with
// it would bring a second OpenMP runtime next to the pip torch's bundled one. Items are taken dynamically;
// results go to per-item slots, so they do not depend on the schedule.
template <typename F>
void for_each_work(const std::vector<Work>& work, F f, int64_t per_thread = kCostlyPerThread) {
  int64_t entries = 0;
  for (const auto& w : work) entries += (w.end - w.begin) * w.runs;
  const size_t wanted = static_cast<size_t>(std::max<int64_t>(1, entries / std::max<int64_t>(1, per_thread)));
  const size_t threads = std::min({static_cast<size_t>(std::max(1, at::get_num_threads())), work.size(), wanted});
  std::atomic<size_t> next{0};
  const auto run = [&]() {
    for (size_t w = next++; w < work.size(); w = next++) f(w);
  };
  if (threads <= 1) {
    run();
    return;
  }
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
}

// The random field of one block [begin, begin + n) of a target (begin a multiple of 4): the values a method
// needs (noise or fresh values, in float), the selection mask and the bit-flip patterns. Used by both the
// fused CPU path and the tensor-op path, so both see the same numbers.
struct BlockField {
  // kBlock + 4: a block that starts inside a counter (a slice's run) draws from the counter's first entry.
  alignas(64) uint32_t words[kBlock + 4];
  alignas(64) float values[kBlock + 4];
  alignas(64) uint8_t selected[kBlock];
  alignas(64) uint32_t flips[kBlock];

  // Entries [begin, begin + n) (n <= kBlock); begin need not be a multiple of 4: the words come from the
  // counters that hold the entries, so entry i gets its whole-tensor numbers wherever the block starts.
  void make(const TargetPlan& t, const crng::BitFlipTable* table, uint64_t mask_cut, int64_t begin, int64_t n);
};

// This thread's block buffers (uninitialised: make() fills what is read).
BlockField* scratch_field();

// Standard deviation of each target's selected entries (its parts: a tensor's, or its selected slices'
// together) on the host, from fixed-lane sums: the same for any thread count.
std::vector<double> tensor_stds(const std::vector<float*>& data, const Parts& parts);

// Standard deviations of each target's selected entries with tensor ops on the device (the tensor-op
// and kernel paths off the host), in float64.
std::vector<double> device_stds(const std::vector<torch::Tensor>& targets, const std::vector<torch::Tensor>& index);

// The flat positions of a target's slices, one after the other (CPU, int64): how the tensor-op path
// gathers a sliced target's selected entries and scatters them back. Undefined for a whole tensor.
torch::Tensor positions(const std::vector<Slice>& slices);

// A target's selected entries, flattened: the tensor itself (a view) or its slices' entries (a copy).
torch::Tensor selected_entries(const torch::Tensor& target, const torch::Tensor& index);

// The fused pass and the kernel write float32 entries through raw pointers.
bool all_contiguous_float32(const std::vector<torch::Tensor>& targets);

// Each target's selected entries before the corruption, flattened (the exact report's tensor-op statistics).
std::vector<torch::Tensor> flat_copies(const std::vector<torch::Tensor>& targets,
                                       const std::vector<torch::Tensor>& index);

// Sums of `values` (a flat tensor over a target's selected entries) per slice, as a tensor on its device.
torch::Tensor slice_sums(const torch::Tensor& values, const std::vector<Slice>& slices);

// The exact report's per-tensor statistics from tensor ops over each target's selected entries before
// (flattened clones) and after, all fetched in one transfer: norms, changed and non-finite entries, and the
// changed entries per slice of a sliced target.
void exact_report_from_tensors(const std::vector<torch::Tensor>& before, const std::vector<torch::Tensor>& targets,
                               const std::vector<torch::Tensor>& index, const Parts& parts, CorruptionReport& report);

// ---- The three paths, each in its own file. --------------------------------------------------------------

// Whether the fused CPU pass can run: the model on the CPU, every target contiguous float32.
bool fused_possible(const Model& model, const std::vector<torch::Tensor>& targets);

// The fused CPU path (corruption_fused_cpu.cc): `data` is each target's float32 entries, `plan[j].source`
// the snapshot's CPU entries for a revert.
void corrupt_fused(const std::vector<TargetPlan>& plan, const std::vector<float*>& data, const Parts& parts,
                   const crng::BitFlipTable* table, uint64_t mask_cut, bool exact, CorruptionReport& report);

// The tensor-op path (corruption_tensor_ops.cc). `index`: each sliced target's positions (positions()),
// undefined for a whole tensor; `snapshot`: the member's snapshot values for a revert, else null.
void corrupt_with_tensor_ops(Model& model, const std::vector<TargetPlan>& plan, std::vector<torch::Tensor>& targets,
                             const Parts& parts, const std::vector<torch::Tensor>& index,
                             const std::vector<torch::Tensor>* snapshot, const crng::BitFlipTable* table,
                             uint64_t mask_cut, bool exact, CorruptionReport& report);

// Whether the counter kernel can run: on CUDA (CUDA builds), or on the host when `on_host` asks for its
// emulation; every target contiguous float32.
bool kernel_possible(const Model& model, const std::vector<torch::Tensor>& targets, bool on_host);

// The counter kernel's path (corruption_kernel_path.cc); arguments as corrupt_with_tensor_ops's.
void corrupt_with_kernel(Model& model, const std::vector<TargetPlan>& plan, std::vector<torch::Tensor>& targets,
                         const Parts& parts, const std::vector<torch::Tensor>& index,
                         const std::vector<torch::Tensor>* snapshot, const crng::BitFlipTable& table, uint64_t mask_cut,
                         bool exact, CorruptionReport& report);

}  // namespace healbert::corruption
