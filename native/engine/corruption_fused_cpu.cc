// The fused CPU path: one pass per work item that makes the block's random field, writes the new values in
// place and, for the exact report, gathers its sums in the same pass. One instance of the inner loop per
// (fill, masked, exact), so that each is straight-line code the compiler vectorises.
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/corruption_plan.h"

namespace healbert::corruption {

namespace {

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

// Adds each work item's sums to its target's report, in the order of the work items (so the totals do not
// depend on the threads), and the per-slice counts of a sliced target.
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

}  // namespace

bool fused_possible(const Model& model, const std::vector<torch::Tensor>& targets) {
  return model.device().is_cpu() && all_contiguous_float32(targets);
}

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

}  // namespace healbert::corruption
