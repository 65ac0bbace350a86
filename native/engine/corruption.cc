#include "engine/corruption.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>

#include "engine/device.h"
#include "engine/errors.h"

// at::_foreach_copy_ exists from libtorch 2.2 on (one launch for many copies).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
#define HEALBERT_HAS_FOREACH_COPY 1
#endif

namespace healbert {

namespace {

// Independent streams per purpose, so the fraction mask does not depend on whether noise was drawn.
enum Stream : uint64_t { kValues = 1, kMask = 2, kBits = 3 };

uint64_t stream_seed(uint64_t seed, Stream stream) {
  // splitmix64 of (seed, stream)
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(stream) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Where each parameter sits in the flat, whole-layout draws.
struct FlatLayout {
  std::vector<int64_t> offset, numel;
  int64_t total = 0;
  explicit FlatLayout(const std::vector<torch::Tensor>& tensors) {
    for (const auto& t : tensors) {
      offset.push_back(total);
      numel.push_back(t.numel());
      total += t.numel();
    }
  }
};

class Draws {
 public:
  Draws(Model& model, uint64_t seed) : model_(model), layout_(model.tensors()), seed_(seed) {}

  const FlatLayout& layout() const { return layout_; }

  // A (total) float32 buffer on the model's device, filled by `fill` with the stream's generator.
  template <typename Fill>
  torch::Tensor flat(Stream stream, Fill fill) {
    auto gen = make_device_generator(model_.device(), stream_seed(seed_, stream));
    auto buffer = torch::empty({layout_.total}, torch::TensorOptions().device(model_.device()));
    fill(buffer, gen);
    return buffer;
  }

  // The slice of a flat buffer that belongs to parameter `index`, shaped like it.
  torch::Tensor view(const torch::Tensor& flat, size_t index) const {
    return flat.narrow(0, layout_.offset[index], layout_.numel[index]).view(model_.tensors()[index].sizes());
  }

 private:
  Model& model_;
  FlatLayout layout_;
  uint64_t seed_;
};

double kaiming_bound(InitVariant variant, int64_t fan_in) {
  // gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)): a = sqrt(5) gives 1/sqrt(fan_in).
  const double a = variant == InitVariant::kKaimingSqrt5 ? std::sqrt(5.0) : 0.0;
  return std::sqrt(2.0 / (1.0 + a * a)) * std::sqrt(3.0 / static_cast<double>(fan_in));
}

void copy_all(std::vector<torch::Tensor>& dst, const std::vector<torch::Tensor>& src) {
#ifdef HEALBERT_HAS_FOREACH_COPY
  at::_foreach_copy_(dst, src);
#else
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
#endif
}

// Replaces (all, or the masked entries of) each target with `replacement[i]`.
void replace(std::vector<torch::Tensor>& targets, const std::vector<torch::Tensor>& replacement,
             const std::vector<torch::Tensor>& masks) {
  if (masks.empty()) {
    copy_all(targets, replacement);
    return;
  }
  for (size_t i = 0; i < targets.size(); ++i) targets[i].copy_(torch::where(masks[i], replacement[i], targets[i]));
}

// Multiplies (all, or the masked entries of) each target by `factor`.
void scale(std::vector<torch::Tensor>& targets, double factor, const std::vector<torch::Tensor>& masks) {
  if (masks.empty()) {
    at::_foreach_mul_(targets, factor);
    return;
  }
  for (size_t i = 0; i < targets.size(); ++i) targets[i].mul_(torch::where(masks[i], factor, 1.0));
}

// Per-tensor standard deviations (unbiased, as torch.std), fetched with a single synchronisation.
std::vector<double> stds(const std::vector<torch::Tensor>& targets) {
  std::vector<torch::Tensor> values;
  for (const auto& t : targets) values.push_back(t.numel() > 1 ? t.std() : torch::zeros({}, t.options()));
  auto host = torch::stack(values).to(torch::kCPU, torch::kFloat64);
  return std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
}

void add_noise(std::vector<torch::Tensor>& targets, std::vector<torch::Tensor>& noise,
               const std::vector<double>& scales, const std::vector<torch::Tensor>& masks) {
  if (!masks.empty()) {
    for (size_t i = 0; i < noise.size(); ++i) noise[i].mul_(masks[i]);
  }
  std::vector<c10::Scalar> scalars(scales.begin(), scales.end());
  at::_foreach_mul_(noise, scalars);
  at::_foreach_add_(targets, noise);
}

// Bit flips in the float32 representation. Each (entry, bit) of the whole layout flips independently with
// probability `rate`; the flipped positions are drawn on the CPU (a Binomial count, then uniform
// positions), so they are the same on every device. Returns the flips applied per target.
std::vector<int64_t> flip_bits(Model& model, const CorruptionRequest& r, const FlatLayout& layout,
                               const std::vector<torch::Tensor>& masks) {
  std::vector<int64_t> bit_of;
  if (r.exponent_bits_only) {
    for (int b = 23; b <= 30; ++b) bit_of.push_back(b);  // float32 exponent
  } else {
    for (int b = 0; b < 32; ++b) bit_of.push_back(b);
  }
  const auto nbits = static_cast<int64_t>(bit_of.size());
  const double space = static_cast<double>(layout.total) * static_cast<double>(nbits);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(stream_seed(r.seed, kBits));
  auto count = at::binomial(torch::full({1}, space, torch::kFloat64), torch::full({1}, r.level, torch::kFloat64), gen);
  const auto k = static_cast<int64_t>(count.item<double>());
  auto positions = std::get<0>(at::_unique(torch::randint(static_cast<int64_t>(space), {k}, gen, torch::kInt64), true));
  auto bits = torch::tensor(bit_of, torch::kInt64);
  std::vector<int64_t> flipped;
  for (size_t j = 0; j < r.targets.size(); ++j) {
    const size_t index = r.targets[j];
    const int64_t begin = layout.offset[index] * nbits, end = (layout.offset[index] + layout.numel[index]) * nbits;
    auto lo = torch::searchsorted(positions, torch::tensor({begin}, torch::kInt64)).item<int64_t>();
    auto hi = torch::searchsorted(positions, torch::tensor({end}, torch::kInt64)).item<int64_t>();
    auto local = positions.slice(0, lo, hi) - begin;
    auto entries = torch::div(local, nbits, "floor");
    auto patterns = torch::bitwise_left_shift(torch::ones_like(entries), bits.index_select(0, local.remainder(nbits)));
    auto target = model.tensors()[index].detach().view({-1}).view(torch::kInt32);
    const torch::Device device = target.device();
    entries = entries.to(device);
    patterns = patterns.to(device, torch::kInt32);
    if (!masks.empty()) {
      auto keep = masks[j].reshape({-1}).index_select(0, entries);
      entries = entries.masked_select(keep);
      patterns = patterns.masked_select(keep);
    }
    flipped.push_back(entries.numel());
    if (entries.numel() == 0) continue;
    // Distinct bits of one entry: their sum is their OR.
    auto unique = at::_unique(entries, /*sorted=*/true, /*return_inverse=*/true);
    auto combined =
        torch::zeros({std::get<0>(unique).numel()}, patterns.options()).index_add_(0, std::get<1>(unique), patterns);
    auto idx = std::get<0>(unique);
    target.index_put_({idx}, torch::bitwise_xor(target.index_select(0, idx), combined));
  }
  return flipped;
}

}  // namespace

CorruptionReport corrupt(Model& model, const CorruptionRequest& r) {
  torch::NoGradGuard no_grad;
  auto& all = model.tensors();
  for (size_t index : r.targets) HB_CHECK(index < all.size(), code::kInternal, "corruption target out of range");
  HB_CHECK(r.fraction >= 0.0 && r.fraction <= 1.0, code::kArgument, "fraction must be in [0, 1]");
  const auto& layout_specs = model.layout();
  Draws draws(model, r.seed);
  std::vector<torch::Tensor> targets;
  for (size_t index : r.targets) targets.push_back(all[index].detach());

  CorruptionReport report;
  torch::Tensor old_flat;
  if (r.report == ReportLevel::kExact && !targets.empty()) {
    std::vector<torch::Tensor> flat_views;
    for (const auto& t : targets) flat_views.push_back(t.reshape({-1}));
    old_flat = torch::cat(flat_views);
  }
  synchronize(model.device());
  const auto start = std::chrono::steady_clock::now();

  std::vector<torch::Tensor> masks;
  if (r.fraction < 1.0 && !targets.empty()) {
    auto u = draws.flat(kMask, [](torch::Tensor& b, at::Generator& g) { b.uniform_(0.0, 1.0, g); });
    for (size_t index : r.targets) masks.push_back(draws.view(u, index).lt(r.fraction));
  }
  std::vector<int64_t> bits_flipped(targets.size(), 0);

  if (!targets.empty()) switch (r.method) {
      case CorruptionMethod::kGaussian:
      case CorruptionMethod::kUniform: {
        const bool gaussian = r.method == CorruptionMethod::kGaussian;
        auto values = draws.flat(kValues, [gaussian](torch::Tensor& b, at::Generator& g) {
          if (gaussian) {
            b.normal_(0.0, 1.0, g);
          } else {
            b.uniform_(-0.5, 0.5, g);  // NoisyTune: U(-lambda/2, lambda/2) * std
          }
        });
        std::vector<torch::Tensor> noise;
        for (size_t index : r.targets) noise.push_back(draws.view(values, index));
        std::vector<double> scales(targets.size(), r.level);
        if (!gaussian || r.relative) {
          const auto sd = stds(targets);
          for (size_t i = 0; i < scales.size(); ++i) scales[i] *= sd[i];
        }
        add_noise(targets, noise, scales, masks);
        break;
      }
      case CorruptionMethod::kZero:
        if (masks.empty()) {
          at::_foreach_zero_(targets);
        } else {
          for (size_t i = 0; i < targets.size(); ++i) targets[i].masked_fill_(masks[i], 0.0);
        }
        break;
      case CorruptionMethod::kScale:
        scale(targets, r.level, masks);
        break;
      case CorruptionMethod::kSignFlip:
        scale(targets, -1.0, masks);
        break;
      case CorruptionMethod::kReinit: {
        const bool normal = r.init == InitVariant::kBertNormal;
        auto values = draws.flat(kValues, [normal](torch::Tensor& b, at::Generator& g) {
          if (normal) {
            b.normal_(0.0, 1.0, g);
          } else {
            b.uniform_(-1.0, 1.0, g);
          }
        });
        std::vector<torch::Tensor> fresh;
        for (size_t index : r.targets) {
          const auto& spec = layout_specs[index];
          switch (spec.kind) {
            case ParamKind::kLinearWeight:
            case ParamKind::kEmbedding: {
              const double factor =
                  normal ? model.config().initializer_range : kaiming_bound(r.init, spec.shape.back());
              fresh.push_back(draws.view(values, index) * factor);
              break;
            }
            case ParamKind::kLayerNormWeight:
              fresh.push_back(torch::ones_like(all[index]));
              break;
            case ParamKind::kBias:
            case ParamKind::kLayerNormBias:
              fresh.push_back(torch::zeros_like(all[index]));
              break;
          }
        }
        replace(targets, fresh, masks);
        break;
      }
      case CorruptionMethod::kRevert: {
        const auto& saved = model.snapshot(r.snapshot);
        std::vector<torch::Tensor> source;
        for (size_t index : r.targets) source.push_back(saved[index]);
        replace(targets, source, masks);
        break;
      }
      case CorruptionMethod::kBitFlip:
        bits_flipped = flip_bits(model, r, draws.layout(), masks);
        break;
    }
  synchronize(model.device());
  report.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  for (size_t j = 0; j < r.targets.size(); ++j) {
    TensorReport t;
    t.index = r.targets[j];
    t.numel = targets[j].numel();
    t.bits_flipped = bits_flipped[j];
    report.tensors.push_back(t);
  }
  if (r.report != ReportLevel::kExact || targets.empty()) return report;

  // One pass over before/after copies; every per-tensor statistic is a multi-tensor reduction, and all of
  // them come back to the host in one transfer.
  std::vector<torch::Tensor> flat_views;
  for (const auto& t : targets) flat_views.push_back(t.reshape({-1}));
  auto new_flat = torch::cat(flat_views);
  auto both_nan = old_flat.isnan().logical_and(new_flat.isnan());
  auto changed = new_flat.ne(old_flat).logical_and(both_nan.logical_not()).to(torch::kFloat32);
  auto non_finite = new_flat.isfinite().logical_not().to(torch::kFloat32);
  auto delta = new_flat - old_flat;
  auto split = [&](const torch::Tensor& flat) {
    std::vector<torch::Tensor> parts;
    int64_t at = 0;
    for (const auto& t : targets) {
      parts.push_back(flat.narrow(0, at, t.numel()));
      at += t.numel();
    }
    return parts;
  };
  std::vector<torch::Tensor> rows = {
      torch::stack(at::_foreach_norm(split(old_flat), 2)), torch::stack(at::_foreach_norm(split(delta), 2)),
      torch::stack(at::_foreach_norm(split(changed), 1)), torch::stack(at::_foreach_norm(split(non_finite), 1))};
  if (!masks.empty()) {
    std::vector<torch::Tensor> selected;
    for (const auto& m : masks) selected.push_back(m.reshape({-1}).to(torch::kFloat32));
    rows.push_back(torch::stack(at::_foreach_norm(selected, 1)));
  }
  auto host = torch::stack(rows).to(torch::kCPU, torch::kFloat64);
  auto a = host.accessor<double, 2>();
  for (size_t j = 0; j < report.tensors.size(); ++j) {
    auto& t = report.tensors[j];
    t.norm_before = a[0][j];
    t.norm_change = a[1][j];
    t.changed = static_cast<int64_t>(std::llround(a[2][j]));
    t.non_finite = static_cast<int64_t>(std::llround(a[3][j]));
    t.selected = masks.empty() ? t.numel : static_cast<int64_t>(std::llround(a[4][j]));
  }
  return report;
}

}  // namespace healbert
