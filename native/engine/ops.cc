#include "engine/ops.h"

#include <torch/version.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/device.h"
#include "engine/dropout_mask.h"
#include "engine/errors.h"

// libtorch 2.0 added at::scaled_dot_product_attention (flash / memory-efficient kernels on CUDA).
#if TORCH_VERSION_MAJOR >= 2
#define HEALBERT_HAS_SDPA 1
#endif

namespace healbert {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const ForwardContext& ctx) {
  const int64_t k = weight.size(0);
  if (k == 1)
    return torch::linear(x.to(ctx.compute), weight.squeeze(0).to(ctx.compute),
                         bias.defined() ? bias.squeeze(0).to(ctx.compute) : torch::Tensor());
  // One batched product for all members: (K, M, in) x (K, in, out) + (K, 1, out).
  auto sizes = x.sizes().vec();
  auto flat = x.to(ctx.compute).reshape({k, -1, x.size(-1)});
  const auto w = weight.to(ctx.compute).transpose(1, 2);
  auto out = bias.defined() ? torch::baddbmm(bias.to(ctx.compute).unsqueeze(1), flat, w) : torch::bmm(flat, w);
  sizes.back() = weight.size(1);
  return out.view(sizes);
}

torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps) {
  const int64_t k = weight.size(0);
  if (k == 1)
    return torch::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, weight.squeeze(0),
                             bias.defined() ? bias.squeeze(0) : torch::Tensor(), eps);
  // Normalised once for all members, then each member's own scale and shift: (K, 1, ..., H).
  auto normed = torch::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, {}, {}, eps);
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape.front() = k;
  shape.back() = x.size(-1);
  return bias.defined() ? torch::addcmul(bias.view(shape), normed, weight.view(shape)) : normed * weight.view(shape);
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kGeluErf:
      return torch::gelu(x);
    case Activation::kGeluTanh:
      return torch::gelu(x, "tanh");
    case Activation::kRelu:
      return torch::relu(x);
    case Activation::kSilu:
      return torch::silu(x);
    case Activation::kTanh:
      return torch::tanh(x);
  }
  fail(code::kInternal, "unknown activation");
}

torch::Tensor dropout(const torch::Tensor& x, double p, const ForwardContext& ctx, const torch::Tensor& packed_rows,
                      int64_t layout_rows) {
  if (!ctx.training || p <= 0.0) return x;
  HB_CHECK(ctx.generator != nullptr, code::kInternal, "dropout in training needs a generator");
  if (p >= 1.0) return x * 0;
  // One member's shape: the members share the mask (ForwardContext::members).
  const auto member_shape = x.sizes().slice(1);
  if (x.is_cpu()) {
    const crng::Key key = dropout_key(ctx.dropout_seed, ctx.dropout_calls++);
    const auto mask = packed_rows.defined() ? dropout_mask_rows(packed_rows, x.size(-1), x.scalar_type(), p, key)
                                            : dropout_mask(member_shape, x.scalar_type(), p, key);
    return x * mask;  // mask: 0 or 1 / (1 - p), broadcast over the members
  }
  auto keep = packed_rows.defined() ? torch::empty({layout_rows, x.size(-1)}, x.options())
                                    : torch::empty(member_shape, x.options());
  keep.bernoulli_(1.0 - p, *ctx.generator);
  if (packed_rows.defined()) keep = keep.index_select(0, packed_rows);
  return x * keep * (1.0 / (1.0 - p));
}

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

bool has_fused_attention() {
#ifdef HEALBERT_HAS_SDPA
  return true;
#else
  return false;
#endif
}

namespace {

// The attention core for a mask shared by the members: member_mask is one member's, (B, 1, Tq or 1, Tk) bool,
// true where a query may attend to a key, or undefined for "all". q: (K * B, NH, Tq, HD), k and v:
// (K * B, NH, Tk, HD), member-major. Returns (K * B, NH, Tq, HD).
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& member_mask, double dropout_p, const ForwardContext& ctx) {
  const int64_t members = ctx.members;
  // The mask for all K x B sequences, member-major as q is.
  const torch::Tensor mask_all =
      member_mask.defined() && members > 1 ? member_mask.repeat({members, 1, 1, 1}) : member_mask;
#ifdef HEALBERT_HAS_SDPA
  // With dropout on the CPU, libtorch's SDPA falls back to its unfused math with a serial bernoulli mask;
  // the formula below with our parallel masks measured about 15% less CPU time per bf16 bert-base training
  // step (2 cores, torch 2.13). Evaluation (no dropout) keeps the fused CPU kernel.
  const double p = ctx.training ? dropout_p : 0.0;
  if (ctx.fused_attention && !(q.is_cpu() && p > 0.0)) {
    c10::optional<torch::Tensor> mask;
    if (mask_all.defined()) mask = mask_all;  // true: may attend
    if (p <= 0.0) return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false);
    // SDPA takes no generator: its dropout draws from the device's default generator. The model lends that
    // generator its own stream for this one call (the step's seed and this call's index) and puts the
    // generator's state back afterwards, so the run is reproducible and nobody else's draws change.
    const uint64_t seed = mix_seed(ctx.dropout_seed, ctx.attention_calls++);
    if (members == 1) {
      const DefaultGeneratorLoan loan(q.device(), seed);
      return at::scaled_dot_product_attention(q, k, v, mask, p, false);
    }
    // A fleet: SDPA's mask for a sequence depends on its place in the batch, so each member gets a call of
    // its own, lent the same seed: the masks a member would get alone.
    const int64_t b = q.size(0) / members;
    std::vector<torch::Tensor> outs;
    for (int64_t m = 0; m < members; ++m) {
      const DefaultGeneratorLoan loan(q.device(), seed);
      c10::optional<torch::Tensor> own;
      if (member_mask.defined()) own = member_mask;
      outs.push_back(at::scaled_dot_product_attention(q.narrow(0, m * b, b), k.narrow(0, m * b, b),
                                                      v.narrow(0, m * b, b), own, p, false));
    }
    return torch::cat(outs, 0);
  }
#endif
  // (KB, NH, Tq, HD) @ (KB, NH, HD, Tk) -> (KB, NH, Tq, Tk)
  // Scores in float32 so that the mask value (float32's lowest, as Hugging Face uses) is representable.
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  auto scores = torch::matmul(q, k.transpose(-1, -2)).to(torch::kFloat32) * scale;
  if (mask_all.defined()) scores = scores.masked_fill(mask_all.logical_not(), std::numeric_limits<float>::lowest());
  return attend_scores(scores, v, dropout_p, ctx);
}

}  // namespace

torch::Tensor attend_scores(const torch::Tensor& scores, const torch::Tensor& v, double dropout_p,
                            const ForwardContext& ctx) {
  const double p = ctx.training ? dropout_p : 0.0;
  auto probs = torch::softmax(scores, -1);
  // Dropout sees the members as the leading dimension, so they share one member's masks.
  probs = dropout(probs.view({ctx.members, -1, scores.size(-2), scores.size(-1)}), p, ctx).view_as(probs);
  return torch::matmul(probs.to(v.scalar_type()), v);  // (KB, NH, Tq, HD)
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_mask, double dropout_p, const ForwardContext& ctx) {
  return attend(q, k, v, key_mask.defined() ? key_mask.view({key_mask.size(0), 1, 1, key_mask.size(1)}) : key_mask,
                dropout_p, ctx);
}

torch::Tensor attention_pairs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& pair_mask, double dropout_p, const ForwardContext& ctx) {
  return attend(q, k, v, pair_mask.unsqueeze(1), dropout_p, ctx);
}

}  // namespace healbert
