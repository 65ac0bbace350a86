// The tensor-op path (CUDA and other devices, and the CPU when asked): the same random fields as the fused
// pass, made on the CPU by the same code (BlockField::make), then applied on the device with tensor ops whose
// float32 rounding is the fused pass's. A sliced target's selected entries are gathered, changed and
// scattered back (index_select, index_copy_).
#include <climits>
#include <cstring>

#include "engine/corruption_plan.h"
#include "engine/device.h"

namespace healbert::corruption {

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

}  // namespace healbert::corruption
