// The plan corruption's paths share (engine/corruption_plan.h): each target's plan from the request, work
// items and their threads, the random field of a block, standard deviations, and the exact report's
// statistics from tensor ops.
#include "engine/corruption_plan.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/corruption_kernel.h"

namespace healbert::corruption {

namespace {

// The bound of Kaiming-uniform re-initialisation.
double kaiming_bound(InitVariant variant, int64_t fan_in) {
  // gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)): a = sqrt(5) gives 1/sqrt(fan_in).
  const double a = variant == InitVariant::kKaimingSqrt5 ? std::sqrt(5.0) : 0.0;
  return std::sqrt(2.0 / (1.0 + a * a)) * std::sqrt(3.0 / static_cast<double>(fan_in));
}

}  // namespace

// The kernel (engine/corruption_kernel.h) numbers its fills the same way.
static_assert(static_cast<int>(TargetPlan::kNoise) == kernel::kNoise &&
                  static_cast<int>(TargetPlan::kCopy) == kernel::kCopy &&
                  static_cast<int>(TargetPlan::kFlip) == kernel::kFlip &&
                  static_cast<int>(TargetPlan::kNegate) == kernel::kNegate,
              "TargetPlan::Fill and kernel::Fill must agree");

std::vector<TargetPlan> make_plan(const Model& model, const CorruptionRequest& r, const std::vector<double>& sd) {
  const auto& layout = model.layout();
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
  return plan;
}

namespace {

Parts whole_parts(const std::vector<int64_t>& numels) {
  Parts parts;
  for (int64_t n : numels) parts.push_back({Slice{0, n, n, 1}});
  return parts;
}

}  // namespace

std::vector<int64_t> part_numels(const Parts& parts) {
  std::vector<int64_t> out;
  for (const auto& p : parts) {
    int64_t n = 0;
    for (const auto& s : p) n += s.numel();
    out.push_back(n);
  }
  return out;
}

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

void BlockField::make(const TargetPlan& t, const crng::BitFlipTable* table, uint64_t mask_cut, int64_t begin,
                      int64_t n) {
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

BlockField* scratch_field() {
  static thread_local std::unique_ptr<BlockField> field;
  if (!field) field.reset(new BlockField);
  return field.get();
}

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

torch::Tensor positions(const std::vector<Slice>& slices) {
  std::vector<torch::Tensor> runs;
  for (const auto& s : slices) {
    if (s.numel() <= 0) continue;
    auto rows = torch::arange(s.count, torch::kInt64).mul_(s.stride).add_(s.offset).unsqueeze(1);  // (count, 1)
    runs.push_back((rows + torch::arange(s.length, torch::kInt64).unsqueeze(0)).reshape({-1}));    // (count * length)
  }
  return runs.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(runs);
}

torch::Tensor selected_entries(const torch::Tensor& target, const torch::Tensor& index) {
  auto flat = target.reshape({-1});
  return index.defined() ? flat.index_select(0, index.to(target.device())) : flat;
}

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

bool all_contiguous_float32(const std::vector<torch::Tensor>& targets) {
  for (const auto& t : targets) {
    if (t.scalar_type() != torch::kFloat32 || !t.is_contiguous()) return false;
  }
  return true;
}

std::vector<torch::Tensor> flat_copies(const std::vector<torch::Tensor>& targets,
                                       const std::vector<torch::Tensor>& index) {
  std::vector<torch::Tensor> copies;
  for (size_t j = 0; j < targets.size(); ++j) copies.push_back(selected_entries(targets[j], index[j]).clone());
  return copies;
}

torch::Tensor slice_sums(const torch::Tensor& values, const std::vector<Slice>& slices) {
  std::vector<int64_t> sizes;
  for (const auto& s : slices) sizes.push_back(s.numel());
  std::vector<torch::Tensor> sums;
  for (const auto& part : values.split_with_sizes(sizes)) sums.push_back(part.sum().to(torch::kFloat64));
  return torch::stack(sums);
}

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

}  // namespace healbert::corruption
