#include "engine/vocab_loss.h"

#include <algorithm>

namespace healbert {
namespace {

// Rows per chunk: about 4 M logits (16 MB in float32), so that a chunk's logits stay in the last-level
// cache while the products still see enough rows to run at full speed.
int64_t chunk_rows(int64_t vocab) { return std::max<int64_t>(16, (int64_t{4} << 20) / std::max<int64_t>(vocab, 1)); }

// One chunk: logits (C, V) in float32 from the compute-dtype product.
torch::Tensor chunk_logits(const torch::Tensor& rows, const torch::Tensor& decoder_c, const torch::Tensor& bias_c) {
  return torch::addmm(bias_c, rows, decoder_c.t()).to(torch::kFloat32);
}

class ChunkedVocabCrossEntropy : public torch::autograd::Function<ChunkedVocabCrossEntropy> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& states,
                               const torch::Tensor& decoder, const torch::Tensor& bias, const torch::Tensor& labels,
                               int64_t compute_code, const torch::Tensor& uniforms, torch::Tensor samples) {
    const auto compute = static_cast<torch::ScalarType>(compute_code);
    torch::NoGradGuard no_grad;
    const int64_t n = states.size(0);
    const int64_t vocab = decoder.size(0);
    const auto rows_c = states.to(compute);
    const auto decoder_c = decoder.to(compute);
    const auto bias_c = bias.to(compute);
    // Only the gradients that are wanted: a frozen word-embedding table (the tied decoder) or bias skips
    // its (V, H) product per chunk.
    const bool want_states = states.requires_grad();
    const bool want_decoder = decoder.requires_grad();
    const bool want_bias = bias.requires_grad();
    torch::Tensor grad_states, grad_decoder, grad_bias;
    if (want_states) grad_states = torch::empty({n, states.size(1)}, rows_c.options());
    if (want_decoder) grad_decoder = torch::zeros({vocab, decoder.size(1)}, decoder.options().dtype(torch::kFloat32));
    if (want_bias) grad_bias = torch::zeros({vocab}, bias.options().dtype(torch::kFloat32));
    auto loss = torch::zeros({}, states.options().dtype(torch::kFloat64));
    const int64_t step = chunk_rows(vocab);
    const double inv_n = 1.0 / static_cast<double>(std::max<int64_t>(n, 1));
    for (int64_t r0 = 0; r0 < n; r0 += step) {
      const int64_t r1 = std::min(n, r0 + step);
      const auto rows = rows_c.slice(0, r0, r1);
      const auto target = labels.slice(0, r0, r1).unsqueeze(1);
      auto p = chunk_logits(rows, decoder_c, bias_c);  // (C, V) logits, then probabilities, then gradient
      const auto lse = p.logsumexp(1, /*keepdim=*/true);
      loss += (lse - p.gather(1, target)).sum().to(torch::kFloat64);
      p.sub_(lse).exp_();
      if (uniforms.numel() > 0) samples.slice(0, r0, r1).copy_(sample_words(p, uniforms.slice(0, r0, r1)));
      p.scatter_add_(1, target, torch::full({r1 - r0, 1}, -1.0F, p.options()));
      p.mul_(inv_n);  // d(mean loss) / d(logits), in float32 as autograd makes it
      if (want_bias) grad_bias += p.sum(0);
      const auto d = p.to(compute);
      if (want_states) grad_states.slice(0, r0, r1).copy_(torch::mm(d, decoder_c));
      if (want_decoder) grad_decoder += torch::mm(d.t(), rows).to(torch::kFloat32);
    }
    ctx->save_for_backward({grad_states, grad_decoder, grad_bias});
    ctx->saved_data["states_dtype"] = static_cast<int64_t>(states.scalar_type());
    ctx->saved_data["decoder_dtype"] = static_cast<int64_t>(decoder.scalar_type());
    ctx->saved_data["bias_dtype"] = static_cast<int64_t>(bias.scalar_type());
    return (loss * inv_n).to(torch::kFloat32);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto g = grad_outputs[0].to(torch::kFloat32);
    const auto as = [&](const torch::Tensor& t, const char* key) {
      if (!t.defined()) return torch::Tensor();  // not wanted (forward)
      const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data[key].toInt());
      return (t.to(torch::kFloat32) * g).to(dtype);
    };
    return {as(saved[0], "states_dtype"),
            as(saved[1], "decoder_dtype"),
            as(saved[2], "bias_dtype"),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunked_vocab_cross_entropy(const torch::Tensor& states, const torch::Tensor& decoder,
                                          const torch::Tensor& bias, const torch::Tensor& labels,
                                          torch::ScalarType compute, const torch::Tensor& uniforms,
                                          const torch::Tensor& samples) {
  // autograd's apply wants defined tensors: no draws is an empty tensor.
  const auto none = torch::empty({0}, labels.options());
  return ChunkedVocabCrossEntropy::apply(states, decoder, bias, labels, static_cast<int64_t>(compute),
                                         uniforms.defined() ? uniforms : none.to(torch::kFloat32),
                                         samples.defined() ? samples : none);
}

torch::Tensor sample_words(const torch::Tensor& probabilities, const torch::Tensor& uniforms) {
  torch::NoGradGuard no_grad;
  const auto cdf = probabilities.to(torch::kFloat32).cumsum(1);  // (C, V)
  // Rounding can leave the last cumulative value just under a uniform near 1: the last word then.
  return torch::searchsorted(cdf, uniforms.to(torch::kFloat32).unsqueeze(1), /*out_int32=*/false, /*right=*/true)
      .squeeze(1)
      .clamp_max(probabilities.size(1) - 1);
}

std::pair<double, int64_t> chunked_vocab_loss_and_correct(const torch::Tensor& states, const torch::Tensor& decoder,
                                                          const torch::Tensor& bias, const torch::Tensor& labels,
                                                          torch::ScalarType compute) {
  torch::NoGradGuard no_grad;
  const int64_t n = states.size(0);
  const auto rows_c = states.to(compute);
  const auto decoder_c = decoder.to(compute);
  const auto bias_c = bias.to(compute);
  auto loss = torch::zeros({}, states.options().dtype(torch::kFloat64));
  auto correct = torch::zeros({}, states.options().dtype(torch::kLong));
  const int64_t step = chunk_rows(decoder.size(0));
  for (int64_t r0 = 0; r0 < n; r0 += step) {
    const int64_t r1 = std::min(n, r0 + step);
    const auto target = labels.slice(0, r0, r1);
    const auto logits = chunk_logits(rows_c.slice(0, r0, r1), decoder_c, bias_c);
    loss += (logits.logsumexp(1) - logits.gather(1, target.unsqueeze(1)).squeeze(1)).sum().to(torch::kFloat64);
    correct += logits.argmax(1).eq(target).sum();
  }
  return {loss.item<double>(), correct.item<int64_t>()};
}

}  // namespace healbert
