#include "engine/corruption.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "engine/corruption_kernel.h"
#include "engine/counter_random.h"
#include "engine/device.h"
#include "engine/errors.h"

namespace healbert {

namespace {

using crng::Key;

constexpr int64_t kBlock = 1024;     // elements generated and applied together (L1-sized buffers)
constexpr int64_t kChunk = 1 << 16;  // elements per work item: fixed, so sums do not depend on threads
static_assert(kChunk % kBlock == 0 && kBlock % 4 == 0, "blocks must tile chunks and counters");

double kaiming_bound(InitVariant variant, int64_t fan_in) {
  // gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)): a = sqrt(5) gives 1/sqrt(fan_in).
  const double a = variant == InitVariant::kKaimingSqrt5 ? std::sqrt(5.0) : 0.0;
  return std::sqrt(2.0 / (1.0 + a * a)) * std::sqrt(3.0 / static_cast<double>(fan_in));
}

// What a method writes into each selected entry, per target: a scale for the noise or the fresh values,
// or a constant.
struct TargetPlan {
  size_t index = 0;        // into the layout
  Key values, mask, bits;  // this tensor's streams
  float factor = 0.0f;     // noise scale (gaussian, uniform), bound or std (reinit), factor (scale)
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
  const float* source = nullptr;  // kCopy (revert): the snapshot's CPU data
};

// The kernel (engine/corruption_kernel.h) numbers its fills the same way.
static_assert(static_cast<int>(TargetPlan::kNoise) == kernel::kNoise &&
                  static_cast<int>(TargetPlan::kCopy) == kernel::kCopy &&
                  static_cast<int>(TargetPlan::kFlip) == kernel::kFlip &&
                  static_cast<int>(TargetPlan::kNegate) == kernel::kNegate,
              "TargetPlan::Fill and kernel::Fill must agree");

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

Parts whole_parts(const std::vector<int64_t>& numels) {
  Parts parts;
  for (int64_t n : numels) parts.push_back({Slice{0, n, n, 1}});
  return parts;
}

// The selected entries of each target (its parts' together).
std::vector<int64_t> part_numels(const Parts& parts) {
  std::vector<int64_t> out;
  for (const auto& p : parts) {
    int64_t n = 0;
    for (const auto& s : p) n += s.numel();
    out.push_back(n);
  }
  return out;
}

// Work items of at most about kChunk entries: long runs cut into chunks, short runs grouped.
std::vector<Work> split_work(const Parts& parts) {
  std::vector<Work> work;
  for (size_t j = 0; j < parts.size(); ++j) {
    int64_t gathered = 0;
    for (size_t k = 0; k < parts[j].size(); ++k) {
      const Slice& s = parts[j][k];
      if (s.length <= 0) continue;
      if (s.length >= kChunk) {
        for (int64_t r = 0; r < s.count; ++r) {
          const int64_t first = s.offset + r * s.stride;
          for (int64_t b = 0; b < s.length; b += kChunk)
            work.push_back(
                {j, k, first + b, first + std::min(s.length, b + kChunk), 1, 0, gathered + r * s.length + b});
        }
      } else {
        const int64_t group = std::max<int64_t>(1, kChunk / s.length);
        for (int64_t r = 0; r < s.count; r += group) {
          const int64_t first = s.offset + r * s.stride;
          work.push_back(
              {j, k, first, first + s.length, std::min(group, s.count - r), s.stride, gathered + r * s.length});
        }
      }
      gathered += s.numel();
    }
  }
  return work;
}

std::vector<Work> split_work(const std::vector<int64_t>& numels) { return split_work(whole_parts(numels)); }

// Runs f(begin, end, gathered) over every run of a work item.
template <typename F>
void for_each_run(const Work& w, F f) {
  for (int64_t r = 0; r < w.runs; ++r)
    f(w.begin + r * w.stride, w.end + r * w.stride, w.gathered + r * (w.end - w.begin));
}

// Runs f(w) for every work item on libtorch's intra-op thread count. Not at::parallel_for: its OpenMP
// version is inline in the headers and runs serially in code compiled without -fopenmp, and compiling with
// it would bring a second OpenMP runtime next to the pip torch's bundled one. Items are taken dynamically;
// results go to per-item slots, so they do not depend on the schedule.
//
// A thread is started only for at least `per_thread` entries: starting and joining one costs about 0.1 ms
// (more on a loaded machine), which is most of the cost of a small target such as one attention head
// (bench/corrupt.ts). kCheapPerThread suits writes of constants and copies, kCostlyPerThread random numbers.
constexpr int64_t kCheapPerThread = int64_t{1} << 21;
constexpr int64_t kCostlyPerThread = int64_t{1} << 18;

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
  void make(const TargetPlan& t, const crng::BitFlipTable* table, uint64_t mask_cut, int64_t begin, int64_t n) {
    const int64_t lead = begin % 4, start = begin - lead;
    const int64_t padded = (lead + n + 3) & ~int64_t{3};
    switch (t.fill) {
      case TargetPlan::kNoise:
      case TargetPlan::kFreshNormal:
        crng::element_words(t.values, start, padded, words);
        crng::normals_from_words(words, padded, values);  // Box-Muller pairs (2k, 2k + 1) of the tensor
        if (lead != 0) std::memmove(values, values + lead, static_cast<size_t>(n) * sizeof(float));
        break;
      case TargetPlan::kUniformNoise:
        crng::element_words(t.values, start, padded, words);
        for (int64_t i = 0; i < n; ++i) values[i] = crng::half_symmetric(words[lead + i]);
        break;
      case TargetPlan::kFreshUniform:
        crng::element_words(t.values, start, padded, words);
        for (int64_t i = 0; i < n; ++i) values[i] = crng::symmetric(words[lead + i]);
        break;
      case TargetPlan::kFlip:
        for (int64_t i = 0; i < n; i += kBlock / 4) {
          const int64_t m = std::min<int64_t>(kBlock / 4, n - i);
          // One counter per entry (the flip count needs 64 bits, the first two bit picks the rest).
          crng::philox_words(t.bits, static_cast<uint64_t>(begin + i), 0, m, words);
          for (int64_t k = 0; k < m; ++k) flips[i + k] = table->pattern(t.bits, begin + i + k, words + 4 * k);
        }
        break;
      default:
        break;
    }
    if (mask_cut < crng::kSelectAll) {
      crng::element_words(t.mask, start, padded, words);
      for (int64_t i = 0; i < n; ++i) selected[i] = static_cast<uint64_t>(words[lead + i]) < mask_cut ? 1 : 0;
    }
  }
};

// This thread's block buffers (uninitialised: make() fills what is read).
BlockField* scratch_field() {
  static thread_local std::unique_ptr<BlockField> field;
  if (!field) field.reset(new BlockField);
  return field.get();
}

// The new value of one entry from its old value and its field (the fused CPU path), for fill F.
// `factor` and `constant` are the target's, passed by value: read through the plan they could alias the
// output floats, and the loops would not vectorise.
template <TargetPlan::Fill F>
inline float new_value(float factor, float constant, const BlockField& f, int64_t i, float old, const float* source) {
  if constexpr (F == TargetPlan::kNoise || F == TargetPlan::kUniformNoise) return old + f.values[i] * factor;
  if constexpr (F == TargetPlan::kFreshUniform || F == TargetPlan::kFreshNormal) return f.values[i] * factor;
  if constexpr (F == TargetPlan::kConstant) return constant;
  if constexpr (F == TargetPlan::kScale) return old * factor;
  if constexpr (F == TargetPlan::kCopy) return source[i];
  if constexpr (F == TargetPlan::kFlip) return crng::as_float(crng::as_bits(old) ^ f.flips[i]);
  if constexpr (F == TargetPlan::kNegate) return crng::as_float(crng::as_bits(old) ^ 0x80000000u);
  return old;
}

// One block of the fused pass: new values in place and, when exact, the report's sums. One instance per
// (fill, masked, exact), so that each inner loop is straight-line code the compiler vectorises.
template <TargetPlan::Fill F, bool Masked, bool Exact>
void apply_block(const TargetPlan& t, const BlockField& f, float* __restrict out, const float* __restrict source,
                 int64_t n, Partial& acc) {
  const float factor = t.factor, constant = t.constant;
  if constexpr (!Exact) {
    // Every entry of the block: a plain copy or fill, as fast as the C library makes them.
    if constexpr (!Masked && F == TargetPlan::kCopy) {
      std::memcpy(out, source, static_cast<size_t>(n) * sizeof(float));
      return;
    }
    if constexpr (!Masked && F == TargetPlan::kConstant) {
      std::fill_n(out, n, constant);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const float v = new_value<F>(factor, constant, f, i, out[i], source);
      out[i] = (!Masked || f.selected[i]) ? v : out[i];
    }
    if constexpr (F == TargetPlan::kFlip) {
      for (int64_t i = 0; i < n; ++i) acc.bits += (!Masked || f.selected[i]) ? __builtin_popcount(f.flips[i]) : 0;
    }
    return;
  }
  // New values first (vectorised), then the report's sums over (old, new) in 8 fixed lanes: the compiler
  // may not reorder a floating-point sum, so the lanes are what lets it vectorise, and they keep the sums
  // independent of the thread count.
  alignas(64) float old[kBlock];
  std::memcpy(old, out, static_cast<size_t>(n) * sizeof(float));
  for (int64_t i = 0; i < n; ++i) {
    const float v = new_value<F>(factor, constant, f, i, old[i], source);
    out[i] = (!Masked || f.selected[i]) ? v : old[i];
  }
  constexpr int kLanes = 8;
  double old_sq[kLanes] = {}, delta_sq[kLanes] = {};
  int64_t changed[kLanes] = {}, non_finite[kLanes] = {};
  const auto lane = [&](int k, int64_t i) {
    const double o = old[i], v = out[i], d = v - o;
    old_sq[k] += o * o;
    delta_sq[k] += std::fabs(d) <= std::numeric_limits<double>::max() ? d * d : 0.0;
    changed[k] += (v != o) & !((v != v) & (o != o));
    non_finite[k] += !(std::fabs(v) <= std::numeric_limits<double>::max());
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) lane(k, i + k);
  }
  for (; i < n; ++i) lane(0, i);
  int64_t selected = n, bits = 0;
  if constexpr (Masked) {
    selected = 0;
    for (int64_t j = 0; j < n; ++j) selected += f.selected[j];
  }
  if constexpr (F == TargetPlan::kFlip) {
    for (int64_t j = 0; j < n; ++j) bits += (!Masked || f.selected[j]) ? __builtin_popcount(f.flips[j]) : 0;
  }
  for (int k = 0; k < kLanes; ++k) {
    acc.old_sq += old_sq[k];
    acc.delta_sq += delta_sq[k];
    acc.changed += changed[k];
    acc.non_finite += non_finite[k];
  }
  acc.selected += selected;
  acc.bits += bits;
}

using BlockKernel = void (*)(const TargetPlan&, const BlockField&, float*, const float*, int64_t, Partial&);

template <TargetPlan::Fill F>
BlockKernel kernel_for(bool masked, bool exact) {
  if (masked) return exact ? apply_block<F, true, true> : apply_block<F, true, false>;
  return exact ? apply_block<F, false, true> : apply_block<F, false, false>;
}

BlockKernel kernel_for(TargetPlan::Fill fill, bool masked, bool exact) {
  switch (fill) {
    case TargetPlan::kNoise:
      return kernel_for<TargetPlan::kNoise>(masked, exact);
    case TargetPlan::kUniformNoise:
      return kernel_for<TargetPlan::kUniformNoise>(masked, exact);
    case TargetPlan::kFreshUniform:
      return kernel_for<TargetPlan::kFreshUniform>(masked, exact);
    case TargetPlan::kFreshNormal:
      return kernel_for<TargetPlan::kFreshNormal>(masked, exact);
    case TargetPlan::kConstant:
      return kernel_for<TargetPlan::kConstant>(masked, exact);
    case TargetPlan::kScale:
      return kernel_for<TargetPlan::kScale>(masked, exact);
    case TargetPlan::kCopy:
      return kernel_for<TargetPlan::kCopy>(masked, exact);
    case TargetPlan::kFlip:
      return kernel_for<TargetPlan::kFlip>(masked, exact);
    case TargetPlan::kNegate:
      return kernel_for<TargetPlan::kNegate>(masked, exact);
  }
  return nullptr;
}

// Sum and sum of squares of each target's selected entries (its parts: for the standard deviation of a
// tensor, or of its selected slices together), per work item.
std::vector<double> tensor_stds(const std::vector<float*>& data, const Parts& parts) {
  const auto work = split_work(parts);
  const auto numels = part_numels(parts);
  std::vector<Partial> partial(work.size());
  for_each_work(work, [&](size_t w) {
    const float* p = data[work[w].target];
    constexpr int kLanes = 8;  // fixed lanes: vectorised, and the same sums for any thread count
    double s[kLanes] = {}, s2[kLanes] = {};
    for_each_run(work[w], [&](int64_t begin, int64_t end, int64_t) {
      int64_t i = begin;
      for (; i + kLanes <= end; i += kLanes) {
        for (int k = 0; k < kLanes; ++k) {
          const double v = p[i + k];
          s[k] += v;
          s2[k] += v * v;
        }
      }
      for (; i < end; ++i) {
        s[0] += p[i];
        s2[0] += static_cast<double>(p[i]) * p[i];
      }
    });
    for (int k = 0; k < kLanes; ++k) {
      partial[w].sum += s[k];
      partial[w].sum_sq += s2[k];
    }
  });
  std::vector<double> sum(numels.size(), 0.0), sum_sq(numels.size(), 0.0), out(numels.size(), 0.0);
  for (size_t w = 0; w < work.size(); ++w) {
    sum[work[w].target] += partial[w].sum;
    sum_sq[work[w].target] += partial[w].sum_sq;
  }
  for (size_t j = 0; j < numels.size(); ++j) {
    const auto n = static_cast<double>(numels[j]);
    out[j] = n > 1 ? std::sqrt(std::max(0.0, (sum_sq[j] - sum[j] * sum[j] / n) / (n - 1))) : 0.0;
  }
  return out;
}

// The flat positions of a target's slices, one after the other (CPU, int64): how the tensor-op path
// gathers a sliced target's selected entries and scatters them back. Undefined for a whole tensor.
torch::Tensor positions(const std::vector<Slice>& slices) {
  std::vector<torch::Tensor> runs;
  for (const auto& s : slices) {
    if (s.numel() <= 0) continue;
    auto rows = torch::arange(s.count, torch::kInt64).mul_(s.stride).add_(s.offset).unsqueeze(1);  // (count, 1)
    runs.push_back((rows + torch::arange(s.length, torch::kInt64).unsqueeze(0)).reshape({-1}));    // (count * length)
  }
  return runs.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(runs);
}

// A target's selected entries, flattened: the tensor itself (a view) or its slices' entries (a copy).
torch::Tensor selected_entries(const torch::Tensor& target, const torch::Tensor& index) {
  auto flat = target.reshape({-1});
  return index.defined() ? flat.index_select(0, index.to(target.device())) : flat;
}

// Standard deviations of each target's selected entries with tensor ops on the device (the tensor-op
// path), in float64.
std::vector<double> device_stds(const std::vector<torch::Tensor>& targets, const std::vector<torch::Tensor>& index) {
  std::vector<torch::Tensor> values;
  for (size_t j = 0; j < targets.size(); ++j) {
    auto t = selected_entries(targets[j], index[j]);
    values.push_back(t.numel() > 1 ? t.to(torch::kFloat64).std()
                                   : torch::zeros({}, t.options().dtype(torch::kFloat64)));
  }
  auto host = torch::stack(values).to(torch::kCPU);
  return std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
}

// The fused pass and the kernel write float32 entries through raw pointers.
bool all_contiguous_float32(const std::vector<torch::Tensor>& targets) {
  for (const auto& t : targets) {
    if (t.scalar_type() != torch::kFloat32 || !t.is_contiguous()) return false;
  }
  return true;
}

bool fused_possible(const Model& model, const std::vector<torch::Tensor>& targets) {
  return model.device().is_cpu() && all_contiguous_float32(targets);
}

// Each target's selected entries before the corruption, flattened (the exact report's tensor-op statistics).
std::vector<torch::Tensor> flat_copies(const std::vector<torch::Tensor>& targets,
                                       const std::vector<torch::Tensor>& index) {
  std::vector<torch::Tensor> copies;
  for (size_t j = 0; j < targets.size(); ++j) copies.push_back(selected_entries(targets[j], index[j]).clone());
  return copies;
}

void fill_report(CorruptionReport& report, const std::vector<Work>& work, const std::vector<Partial>& partial) {
  std::vector<Partial> total(report.tensors.size());
  for (size_t w = 0; w < work.size(); ++w) {
    auto& t = total[work[w].target];
    const auto& p = partial[w];
    t.old_sq += p.old_sq;
    t.delta_sq += p.delta_sq;
    t.changed += p.changed;
    t.non_finite += p.non_finite;
    t.selected += p.selected;
    t.bits += p.bits;
    auto& r = report.tensors[work[w].target];
    if (!r.slice_selected.empty()) {
      r.slice_selected[work[w].slice] += p.selected;
      r.slice_changed[work[w].slice] += p.changed;
    }
  }
  for (size_t j = 0; j < total.size(); ++j) {
    auto& r = report.tensors[j];
    r.norm_before = std::sqrt(total[j].old_sq);
    r.norm_change = total[j].non_finite > 0 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(total[j].delta_sq);
    r.changed = total[j].changed;
    r.non_finite = total[j].non_finite;
    r.selected = total[j].selected;
    r.bits_flipped = total[j].bits;
  }
}

// The fused CPU path: one pass per work item that makes the field, writes the new values in place and
// gathers the report. A slice's runs are walked in place; nothing outside them is read or written.
void corrupt_fused(const std::vector<TargetPlan>& plan, const std::vector<float*>& data, const Parts& parts,
                   const crng::BitFlipTable* table, uint64_t mask_cut, bool exact, CorruptionReport& report) {
  const auto work = split_work(parts);
  std::vector<Partial> partial(work.size());
  const bool masked = mask_cut < crng::kSelectAll;
  // Writes of constants, scales, copies and sign flips are memory-bound and cheap; random numbers are not.
  bool costly = exact || masked;
  for (const auto& t : plan)
    costly = costly || !(t.fill == TargetPlan::kConstant || t.fill == TargetPlan::kScale ||
                         t.fill == TargetPlan::kCopy || t.fill == TargetPlan::kNegate);
  for_each_work(
      work,
      [&](size_t w) {
        const TargetPlan& t = plan[work[w].target];
        float* p = data[work[w].target];
        const BlockKernel apply = kernel_for(t.fill, masked, exact);
        BlockField* field = scratch_field();
        Partial acc;
        for_each_run(work[w], [&](int64_t begin, int64_t end, int64_t) {
          for (int64_t b = begin; b < end; b += kBlock) {
            const int64_t n = std::min(kBlock, end - b);
            field->make(t, table, mask_cut, b, n);
            apply(t, *field, p + b, t.source ? t.source + b : nullptr, n, acc);
          }
        });
        partial[w] = acc;
      },
      costly ? kCostlyPerThread : kCheapPerThread);
  for (auto& r : report.tensors) {
    std::fill(r.slice_selected.begin(), r.slice_selected.end(), 0);
    std::fill(r.slice_changed.begin(), r.slice_changed.end(), 0);
  }
  fill_report(report, work, partial);
  if (!exact) {
    for (auto& r : report.tensors) {
      r.changed = -1;
      r.non_finite = -1;
      std::fill(r.slice_changed.begin(), r.slice_changed.end(), -1);
    }
  }
}

// Sums of `values` (a flat tensor over a target's selected entries) per slice, as a tensor on its device.
torch::Tensor slice_sums(const torch::Tensor& values, const std::vector<Slice>& slices) {
  std::vector<int64_t> sizes;
  for (const auto& s : slices) sizes.push_back(s.numel());
  std::vector<torch::Tensor> sums;
  for (const auto& part : values.split_with_sizes(sizes)) sums.push_back(part.sum().to(torch::kFloat64));
  return torch::stack(sums);
}

// The exact report's per-tensor statistics from tensor ops over each target's selected entries before
// (flattened clones) and after, all fetched in one transfer: norms, changed and non-finite entries, and the
// changed entries per slice of a sliced target.
void exact_report_from_tensors(const std::vector<torch::Tensor>& before, const std::vector<torch::Tensor>& targets,
                               const std::vector<torch::Tensor>& index, const Parts& parts, CorruptionReport& report) {
  std::vector<torch::Tensor> rows, per_slice;
  for (size_t j = 0; j < targets.size(); ++j) {
    auto old = before[j].to(torch::kFloat64);
    auto now = selected_entries(targets[j], index[j]).to(torch::kFloat64);
    auto both_nan = old.isnan().logical_and(now.isnan());
    auto delta = (now - old).nan_to_num(0.0, 0.0, 0.0);
    auto changed = now.ne(old).logical_and(both_nan.logical_not());
    rows.push_back(torch::stack({old.square().sum(), delta.square().sum(), changed.sum().to(torch::kFloat64),
                                 now.isfinite().logical_not().sum().to(torch::kFloat64)}));
    if (index[j].defined()) per_slice.push_back(slice_sums(changed, parts[j]));
  }
  auto host = torch::stack(rows).to(torch::kCPU);
  auto slices = per_slice.empty() ? torch::Tensor() : torch::cat(per_slice).to(torch::kCPU);
  auto a = host.accessor<double, 2>();
  int64_t next = 0;
  for (size_t j = 0; j < targets.size(); ++j) {
    auto& r = report.tensors[j];
    r.norm_before = std::sqrt(a[j][0]);
    r.non_finite = static_cast<int64_t>(std::llround(a[j][3]));
    r.norm_change = r.non_finite > 0 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(a[j][1]);
    r.changed = static_cast<int64_t>(std::llround(a[j][2]));
    if (!index[j].defined()) continue;
    for (auto& c : r.slice_changed) c = static_cast<int64_t>(std::llround(slices[next++].item<double>()));
  }
}

// The tensor-op path (CUDA and other devices, and the CPU when asked): the same fields, made on the CPU by
// the same code, then applied on the device with tensor ops whose float32 rounding is the fused path's. A
// sliced target's selected entries are gathered, changed and scattered back (index_select, index_copy_).
void corrupt_with_tensor_ops(Model& model, const std::vector<TargetPlan>& plan, std::vector<torch::Tensor>& targets,
                             const Parts& parts, const std::vector<torch::Tensor>& index,
                             const std::vector<torch::Tensor>* snapshot, const crng::BitFlipTable* table,
                             uint64_t mask_cut, bool exact, CorruptionReport& report) {
  const torch::Device device = model.device();
  const auto numels = part_numels(parts);  // selected entries per target
  const bool masked = mask_cut < crng::kSelectAll;
  const auto work = split_work(parts);

  std::vector<torch::Tensor> values(plan.size()), masks(plan.size()), flips(plan.size());
  for (size_t j = 0; j < plan.size(); ++j) {
    const auto fill = plan[j].fill;
    const bool random_values = fill == TargetPlan::kNoise || fill == TargetPlan::kUniformNoise ||
                               fill == TargetPlan::kFreshUniform || fill == TargetPlan::kFreshNormal;
    if (random_values) values[j] = torch::empty({numels[j]}, torch::kFloat32);
    if (fill == TargetPlan::kFlip) flips[j] = torch::empty({numels[j]}, torch::kInt32);
    if (masked) masks[j] = torch::empty({numels[j]}, torch::kBool);
  }
  for_each_work(work, [&](size_t w) {
    const size_t j = work[w].target;
    BlockField* field = scratch_field();
    for_each_run(work[w], [&](int64_t begin, int64_t end, int64_t gathered) {
      for (int64_t b = begin; b < end; b += kBlock) {
        const int64_t n = std::min(kBlock, end - b), at = gathered + (b - begin);
        field->make(plan[j], table, mask_cut, b, n);
        if (values[j].defined()) std::memcpy(values[j].data_ptr<float>() + at, field->values, n * sizeof(float));
        if (flips[j].defined()) std::memcpy(flips[j].data_ptr<int32_t>() + at, field->flips, n * sizeof(uint32_t));
        if (masks[j].defined()) std::memcpy(masks[j].data_ptr<bool>() + at, field->selected, static_cast<size_t>(n));
      }
    });
  });

  const std::vector<torch::Tensor> before = exact ? flat_copies(targets, index) : std::vector<torch::Tensor>{};
  for (size_t j = 0; j < plan.size(); ++j) {
    const auto& t = plan[j];
    auto whole = targets[j].view({-1});
    const bool sliced = index[j].defined();
    const auto at = sliced ? index[j].to(device) : torch::Tensor();
    auto flat = sliced ? whole.index_select(0, at) : whole;  // the selected entries (a copy when sliced)
    const auto to_device = [&](const torch::Tensor& x) { return x.to(device, /*non_blocking=*/false); };
    torch::Tensor fresh;
    switch (t.fill) {
      case TargetPlan::kNoise:
      case TargetPlan::kUniformNoise:
        fresh = flat + to_device(values[j]).mul_(static_cast<double>(t.factor));
        break;
      case TargetPlan::kFreshUniform:
      case TargetPlan::kFreshNormal:
        fresh = to_device(values[j]).mul_(static_cast<double>(t.factor));
        break;
      case TargetPlan::kConstant:
        fresh = torch::full_like(flat, static_cast<double>(t.constant));
        break;
      case TargetPlan::kScale:
        fresh = flat * static_cast<double>(t.factor);
        break;
      case TargetPlan::kNegate:
        fresh = flat.view(torch::kInt32).bitwise_xor(static_cast<int64_t>(INT32_MIN)).view(torch::kFloat32);
        break;
      case TargetPlan::kCopy:
        fresh = selected_entries((*snapshot)[t.index], index[j]).to(device, torch::kFloat32);
        break;
      case TargetPlan::kFlip: {
        auto bits = flat.view(torch::kInt32);
        auto pattern = to_device(flips[j]);
        if (masked) pattern = pattern.masked_fill(to_device(masks[j]).logical_not(), 0);
        bits.bitwise_xor_(pattern);
        if (sliced) whole.index_copy_(0, at, flat);
        continue;
      }
    }
    if (masked) fresh = torch::where(to_device(masks[j]), fresh, flat);
    if (sliced)
      whole.index_copy_(0, at, fresh);
    else
      flat.copy_(fresh);
  }
  synchronize(device);
  for (size_t j = 0; j < plan.size(); ++j) {
    if (plan[j].fill == TargetPlan::kFlip) {
      int64_t total = 0;
      const auto* f = flips[j].data_ptr<int32_t>();
      const bool* m = masked ? masks[j].data_ptr<bool>() : nullptr;
      for (int64_t i = 0; i < numels[j]; ++i)
        total += (m == nullptr || m[i]) ? __builtin_popcount(static_cast<uint32_t>(f[i])) : 0;
      report.tensors[j].bits_flipped = total;
    }
  }
  if (!exact) return;
  exact_report_from_tensors(before, targets, index, parts, report);
  for (size_t j = 0; j < plan.size(); ++j) {
    auto& r = report.tensors[j];
    r.selected = masked ? masks[j].sum().item<int64_t>() : numels[j];
    if (!index[j].defined()) continue;
    if (!masked) {
      for (size_t k = 0; k < parts[j].size(); ++k) r.slice_selected[k] = parts[j][k].numel();
      continue;
    }
    auto sums = slice_sums(masks[j].to(torch::kInt64), parts[j]);
    for (size_t k = 0; k < parts[j].size(); ++k) r.slice_selected[k] = std::llround(sums[k].item<double>());
  }
}

// The counter kernel's path: CUDA, or its body run on the host (kernel_on_host, for tests). One call of
// kernel::corrupt_counter per Philox counter (four entries), the same numbers and rounding as the fused pass.
// Each slice of a target is a kernel target of its own (strided runs), so only its counters run.
void corrupt_with_kernel(Model& model, const std::vector<TargetPlan>& plan, std::vector<torch::Tensor>& targets,
                         const Parts& parts, const std::vector<torch::Tensor>& index,
                         const std::vector<torch::Tensor>* snapshot, const crng::BitFlipTable& table, uint64_t mask_cut,
                         bool exact, CorruptionReport& report) {
  const torch::Device device = model.device();
  const std::vector<torch::Tensor> before = exact ? flat_copies(targets, index) : std::vector<torch::Tensor>{};
  std::vector<kernel::Target> kt;
  std::vector<std::pair<size_t, size_t>> owner;  // kernel target -> (target, slice)
  std::vector<int64_t> starts{0};                // each kernel target's first counter, then the total
  std::vector<torch::Tensor> sources;
  for (size_t j = 0; j < plan.size(); ++j) {
    const TargetPlan& p = plan[j];
    const float* source = nullptr;
    if (p.fill == TargetPlan::kCopy) {
      sources.push_back((*snapshot)[p.index].to(device, torch::kFloat32).contiguous());
      source = sources.back().data_ptr<float>();
    }
    for (size_t k = 0; k < parts[j].size(); ++k) {
      const Slice& s = parts[j][k];
      if (s.numel() <= 0) continue;
      kernel::Target t;
      t.data = targets[j].data_ptr<float>();
      t.source = source;
      t.numel = targets[j].numel();
      t.offset = s.offset;
      t.length = s.length;
      t.stride = s.stride;
      t.runs = s.count;
      t.per_run = kernel::counters_per_run(s.offset, s.length, s.stride, s.count);
      t.values = p.values;
      t.mask = p.mask;
      t.bits = p.bits;
      t.factor = p.factor;
      t.constant = p.constant;
      t.fill = static_cast<int32_t>(p.fill);
      kt.push_back(t);
      owner.emplace_back(j, k);
      starts.push_back(starts.back() + t.per_run * t.runs);
    }
  }
  kernel::Params params;
  params.mask_cut = mask_cut;
  params.flips = table;
  std::vector<kernel::Counts> counts(kt.size());
  if (device.is_cpu()) {
    std::vector<int64_t> counters;
    for (size_t j = 0; j < kt.size(); ++j) counters.push_back(starts[j + 1] - starts[j]);
    const auto work = split_work(counters);
    std::vector<kernel::Counts> partial(work.size());
    for_each_work(work, [&](size_t w) {
      for (int64_t c = work[w].begin; c < work[w].end; ++c)
        kernel::corrupt_counter(kt[work[w].target], c, params, partial[w].selected, partial[w].bits);
    });
    for (size_t w = 0; w < work.size(); ++w) {
      counts[work[w].target].selected += partial[w].selected;
      counts[work[w].target].bits += partial[w].bits;
    }
  } else if (!kt.empty()) {
#if defined(HEALBERT_WITH_CUDA)
    HB_CHECK(device.is_cuda(), code::kInternal, "the corruption kernel runs on CUDA or on the host");
    kernel::run_on_cuda(kt, starts, params, counts, device.index());
#else
    fail(code::kInternal, "this build has no CUDA code for the corruption kernel");
#endif
  }
  const bool masked = mask_cut < crng::kSelectAll;
  for (auto& r : report.tensors) {
    r.selected = 0;
    r.bits_flipped = 0;
  }
  for (size_t q = 0; q < kt.size(); ++q) {
    const auto [j, k] = owner[q];
    auto& r = report.tensors[j];
    const int64_t selected = masked ? static_cast<int64_t>(counts[q].selected) : parts[j][k].numel();
    r.selected += selected;
    r.bits_flipped += static_cast<int64_t>(counts[q].bits);
    if (!r.slice_selected.empty()) r.slice_selected[k] = selected;
  }
  if (exact) exact_report_from_tensors(before, targets, index, parts, report);
}

bool kernel_possible(const Model& model, const std::vector<torch::Tensor>& targets, bool on_host) {
#if defined(HEALBERT_WITH_CUDA)
  const bool device_ok = on_host ? model.device().is_cpu() : model.device().is_cuda();
#else
  const bool device_ok = on_host && model.device().is_cpu();
#endif
  return device_ok && all_contiguous_float32(targets);
}

}  // namespace

CorruptionReport corrupt(Model& model, const CorruptionRequest& r) {
  torch::NoGradGuard no_grad;
  const auto all = model.member_tensors(r.member);  // the member's views: changes show through
  for (size_t index : r.targets) HB_CHECK(index < all.size(), code::kInternal, "corruption target out of range");
  HB_CHECK(r.fraction >= 0.0 && r.fraction <= 1.0, code::kArgument, "fraction must be in [0, 1]");
  const auto& layout = model.layout();
  std::vector<torch::Tensor> targets;
  for (size_t index : r.targets) targets.push_back(all[index]);
  HB_CHECK(r.slices.empty() || r.slices.size() == r.targets.size(), code::kInternal,
           "corruption slices: one list per target");
  // Each target's parts (its slices, or the whole tensor), and the gather index of a sliced one (made below
  // for the paths that gather: the fused pass walks the slices in place).
  Parts parts;
  std::vector<bool> sliced(targets.size(), false);
  std::vector<torch::Tensor> index(targets.size());
  for (size_t j = 0; j < targets.size(); ++j) {
    const int64_t numel = targets[j].numel();
    const auto* slices = r.slices.empty() ? nullptr : &r.slices[j];
    if (slices == nullptr || slices->empty()) {
      parts.push_back({Slice{0, numel, numel, 1}});
      continue;
    }
    for (const auto& s : *slices) {
      HB_CHECK(s.offset >= 0 && s.length >= 0 && s.count >= 1 && s.stride >= 0 &&
                   s.offset + (s.count - 1) * s.stride + s.length <= numel && (s.count == 1 || s.stride >= s.length),
               code::kArgument, "slice {offset ", s.offset, ", length ", s.length, ", stride ", s.stride, ", count ",
               s.count, "} does not fit a tensor of ", numel, " entries");
    }
    parts.push_back(*slices);
    sliced[j] = true;
  }
  std::vector<torch::Tensor> member_snapshot;  // the member's values in the snapshot
  if (r.method == CorruptionMethod::kRevert) {
    for (const auto& t : model.snapshot(r.snapshot)) member_snapshot.push_back(t.select(0, r.member));
  }
  const std::vector<torch::Tensor>* snapshot = r.method == CorruptionMethod::kRevert ? &member_snapshot : nullptr;
  // The path: the kernel on CUDA (or its host emulation, when asked), the fused pass on the CPU, tensor ops
  // elsewhere or when asked. All give the same bytes (see README: which methods, and why).
  const bool use_kernel = !r.tensor_ops && kernel_possible(model, targets, r.kernel_on_host);
  const bool fused = !use_kernel && !r.tensor_ops && fused_possible(model, targets);
  if (!fused) {
    for (size_t j = 0; j < targets.size(); ++j)
      if (sliced[j]) index[j] = positions(parts[j]);
  }
  const bool exact = r.report == ReportLevel::kExact;

  CorruptionReport report;
  for (size_t j = 0; j < r.targets.size(); ++j) {
    TensorReport t;
    t.index = r.targets[j];
    t.numel = part_numels({parts[j]})[0];
    t.selected = t.numel;
    if (sliced[j]) {
      for (const auto& s : parts[j]) t.slice_selected.push_back(s.numel());
      t.slice_changed.assign(parts[j].size(), -1);
    }
    report.tensors.push_back(t);
  }
  synchronize(model.device());
  const auto start = std::chrono::steady_clock::now();

  // Entries written on the host: the fused pass, and the kernel's host emulation.
  const bool on_host = fused || (use_kernel && model.device().is_cpu());
  std::vector<float*> data;
  for (auto& t : targets) data.push_back(on_host ? t.data_ptr<float>() : nullptr);
  // Standard deviations: on the host by the fused pass's fixed-lane sums (so that the kernel's host emulation
  // makes the fused pass's bytes), on a device by a float64 reduction there.
  std::vector<double> sd;
  const bool needs_std =
      r.method == CorruptionMethod::kUniform || (r.method == CorruptionMethod::kGaussian && r.relative);
  if (needs_std) sd = on_host ? tensor_stds(data, parts) : device_stds(targets, index);

  std::vector<TargetPlan> plan;
  for (size_t j = 0; j < r.targets.size(); ++j) {
    const auto& spec = layout[r.targets[j]];
    TargetPlan t;
    t.index = r.targets[j];
    t.values = crng::key_for(r.seed, spec.name, crng::kValues);
    t.mask = crng::key_for(r.seed, spec.name, crng::kMask);
    t.bits = crng::key_for(r.seed, spec.name, crng::kBits);
    switch (r.method) {
      case CorruptionMethod::kGaussian:
        t.fill = TargetPlan::kNoise;
        t.factor = static_cast<float>(r.relative ? r.level * sd[j] : r.level);
        break;
      case CorruptionMethod::kUniform:  // NoisyTune: U(-lambda/2, lambda/2) * std
        t.fill = TargetPlan::kUniformNoise;
        t.factor = static_cast<float>(r.level * sd[j]);
        break;
      case CorruptionMethod::kZero:
        t.fill = TargetPlan::kConstant;
        t.constant = 0.0f;
        break;
      case CorruptionMethod::kScale:
        t.fill = TargetPlan::kScale;
        t.factor = static_cast<float>(r.level);
        break;
      case CorruptionMethod::kSignFlip:
        t.fill = TargetPlan::kNegate;
        break;
      case CorruptionMethod::kReinit:
        switch (spec.kind) {
          case ParamKind::kLinearWeight:
          case ParamKind::kEmbedding:
            if (r.init == InitVariant::kBertNormal) {
              t.fill = TargetPlan::kFreshNormal;
              t.factor = static_cast<float>(model.config().initializer_range);
            } else {
              t.fill = TargetPlan::kFreshUniform;
              t.factor = static_cast<float>(kaiming_bound(r.init, spec.shape.back()));
            }
            break;
          case ParamKind::kLayerNormWeight:
            t.fill = TargetPlan::kConstant;
            t.constant = 1.0f;
            break;
          case ParamKind::kBias:
          case ParamKind::kLayerNormBias:
            t.fill = TargetPlan::kConstant;
            t.constant = 0.0f;
            break;
        }
        break;
      case CorruptionMethod::kRevert:
        t.fill = TargetPlan::kCopy;
        break;
      case CorruptionMethod::kBitFlip:
        t.fill = TargetPlan::kFlip;
        break;
    }
    plan.push_back(t);
  }
  const crng::BitFlipTable table(r.method == CorruptionMethod::kBitFlip ? r.level : 0.0, r.exponent_bits_only);
  const uint64_t mask_cut = crng::mask_threshold(r.fraction);

  if (!targets.empty()) {
    if (use_kernel) {
      corrupt_with_kernel(model, plan, targets, parts, index, snapshot, table, mask_cut, exact, report);
    } else if (fused) {
      std::vector<torch::Tensor> sources;
      if (snapshot != nullptr) {
        for (size_t j = 0; j < plan.size(); ++j) {
          sources.push_back((*snapshot)[plan[j].index].to(torch::kCPU, torch::kFloat32).contiguous());
          plan[j].source = sources.back().data_ptr<float>();
        }
      }
      corrupt_fused(plan, data, parts, &table, mask_cut, exact, report);
    } else {
      corrupt_with_tensor_ops(model, plan, targets, parts, index, snapshot, &table, mask_cut, exact, report);
    }
  }
  synchronize(model.device());
  report.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  report.fused = fused;
  report.kernel = use_kernel;
  return report;
}

}  // namespace healbert
