// The counter kernel's path: CUDA, or its body run on the host (CorruptionRequest::kernel_on_host, for
// tests). One call of kernel::corrupt_counter (engine/corruption_kernel.h) per Philox counter (four
// entries), the same numbers and rounding as the fused pass. Each slice of a target is a kernel target of its
// own (strided runs), so only its counters run.
#include <utility>

#include "engine/corruption_kernel.h"
#include "engine/corruption_plan.h"
#include "engine/errors.h"

namespace healbert::corruption {

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

}  // namespace healbert::corruption
