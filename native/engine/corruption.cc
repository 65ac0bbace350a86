// corrupt(): checks the request, resolves each target's parts, picks the path and runs it. The plan the paths
// share is engine/corruption_plan.h; each path is a file of its own (corruption_fused_cpu.cc,
// corruption_tensor_ops.cc, corruption_kernel_path.cc).
#include "engine/corruption.h"

#include <chrono>

#include "engine/corruption_plan.h"
#include "engine/device.h"
#include "engine/errors.h"

namespace healbert {

namespace {

using corruption::Parts;
using corruption::TargetPlan;

// Each target's parts: its slices, checked against the tensor, or the whole tensor as one slice. `sliced[j]`
// tells which targets have slices.
Parts resolve_parts(const CorruptionRequest& r, const std::vector<torch::Tensor>& targets, std::vector<bool>& sliced) {
  HB_CHECK(r.slices.empty() || r.slices.size() == r.targets.size(), code::kInternal,
           "corruption slices: one list per target");
  Parts parts;
  sliced.assign(targets.size(), false);
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
  return parts;
}

// The report before the corruption: every target's entries selected, a sliced target's per-slice counts.
CorruptionReport initial_report(const CorruptionRequest& r, const Parts& parts, const std::vector<bool>& sliced) {
  CorruptionReport report;
  for (size_t j = 0; j < r.targets.size(); ++j) {
    TensorReport t;
    t.index = r.targets[j];
    t.numel = corruption::part_numels({parts[j]})[0];
    t.selected = t.numel;
    if (sliced[j]) {
      for (const auto& s : parts[j]) t.slice_selected.push_back(s.numel());
      t.slice_changed.assign(parts[j].size(), -1);
    }
    report.tensors.push_back(t);
  }
  return report;
}

// The fused pass with a revert's snapshot values as CPU float32 (held in `sources` while it runs).
void run_fused(std::vector<TargetPlan>& plan, const std::vector<float*>& data, const Parts& parts,
               const std::vector<torch::Tensor>* snapshot, const crng::BitFlipTable& table, uint64_t mask_cut,
               bool exact, CorruptionReport& report) {
  std::vector<torch::Tensor> sources;
  if (snapshot != nullptr) {
    for (size_t j = 0; j < plan.size(); ++j) {
      sources.push_back((*snapshot)[plan[j].index].to(torch::kCPU, torch::kFloat32).contiguous());
      plan[j].source = sources.back().data_ptr<float>();
    }
  }
  corruption::corrupt_fused(plan, data, parts, &table, mask_cut, exact, report);
}

}  // namespace

CorruptionReport corrupt(Model& model, const CorruptionRequest& r) {
  torch::NoGradGuard no_grad;
  const auto all = model.member_tensors(r.member);  // the member's views: changes show through
  for (size_t index : r.targets) HB_CHECK(index < all.size(), code::kInternal, "corruption target out of range");
  HB_CHECK(r.fraction >= 0.0 && r.fraction <= 1.0, code::kArgument, "fraction must be in [0, 1]");
  std::vector<torch::Tensor> targets;
  for (size_t index : r.targets) targets.push_back(all[index]);
  std::vector<bool> sliced;
  const Parts parts = resolve_parts(r, targets, sliced);
  std::vector<torch::Tensor> member_snapshot;  // the member's values in the snapshot
  if (r.method == CorruptionMethod::kRevert) {
    for (const auto& t : model.snapshot(r.snapshot)) member_snapshot.push_back(t.select(0, r.member));
  }
  const std::vector<torch::Tensor>* snapshot = r.method == CorruptionMethod::kRevert ? &member_snapshot : nullptr;
  // The path: the kernel on CUDA (or its host emulation, when asked), the fused pass on the CPU, tensor ops
  // elsewhere or when asked. All give the same bytes (see README: which methods, and why).
  const bool use_kernel = !r.tensor_ops && corruption::kernel_possible(model, targets, r.kernel_on_host);
  const bool fused = !use_kernel && !r.tensor_ops && corruption::fused_possible(model, targets);
  // The gather index of each sliced target, for the paths that gather (the fused pass walks slices in place).
  std::vector<torch::Tensor> index(targets.size());
  if (!fused) {
    for (size_t j = 0; j < targets.size(); ++j)
      if (sliced[j]) index[j] = corruption::positions(parts[j]);
  }
  const bool exact = r.report == ReportLevel::kExact;
  CorruptionReport report = initial_report(r, parts, sliced);
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
  if (needs_std) sd = on_host ? corruption::tensor_stds(data, parts) : corruption::device_stds(targets, index);
  std::vector<TargetPlan> plan = corruption::make_plan(model, r, sd);
  const crng::BitFlipTable table(r.method == CorruptionMethod::kBitFlip ? r.level : 0.0, r.exponent_bits_only);
  const uint64_t mask_cut = crng::mask_threshold(r.fraction);

  if (!targets.empty()) {
    if (use_kernel)
      corruption::corrupt_with_kernel(model, plan, targets, parts, index, snapshot, table, mask_cut, exact, report);
    else if (fused)
      run_fused(plan, data, parts, snapshot, table, mask_cut, exact, report);
    else
      corruption::corrupt_with_tensor_ops(model, plan, targets, parts, index, snapshot, &table, mask_cut, exact,
                                          report);
  }
  synchronize(model.device());
  report.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  report.fused = fused;
  report.kernel = use_kernel;
  return report;
}

}  // namespace healbert
