// ELECTRA pre-training (replaced-token detection, Clark et al. 2020) on a model with a generator (config.h):
// the generator, sharing the discriminator's embedding tables, fills the masked positions of a batch with words
// drawn from its own masked-LM softmax; the discriminator, this model, reads the result and predicts for every
// real token whether it was replaced. The generator's samples are detached (no gradient flows through the
// draw), as in the paper; a sample that happens to be the original word counts as original.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "engine/encoder.h"
#include "engine/errors.h"
#include "engine/model.h"
#include "engine/vocab_loss.h"

namespace healbert {

namespace {

// One uniform in [0, 1) per masked position, from the draw's own seeded stream (on the CPU, so that every
// device draws the same numbers): (N) float32 on `device`.
torch::Tensor draw_uniforms(int64_t n, uint64_t seed, const torch::Device& device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::rand({n}, gen, torch::TensorOptions().dtype(torch::kFloat32)).to(device);
}

// Mean binary cross-entropy with logits over the real tokens: logits, labels (B, T) float32; key_mask (B, T)
// bool or undefined (every token real).
torch::Tensor rtd_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& key_mask) {
  auto losses = torch::binary_cross_entropy_with_logits(logits, labels, {}, {}, at::Reduction::None);
  if (!key_mask.defined()) return losses.mean();
  const auto real = key_mask.to(torch::kFloat32);
  return (losses * real).sum() / real.sum();
}

}  // namespace

Model::ElectraLoss Model::electra_loss(const DeviceBatch& batch, const ForwardContext& ctx, uint64_t sample_seed,
                                       const torch::Tensor& forced) {
  HB_CHECK(config_.has_generator(), code::kArgument, "this model has no generator (ELECTRA pre-training)");
  HB_CHECK(batch.mlm_labels.defined(), code::kArgument, "ELECTRA pre-training needs a batch with mlmLabels");
  const Weights& w = forward_weights();
  const Weights& g = generator_weights();
  ElectraLoss out;
  const auto positions = batch.mlm_positions;  // (N), in position order
  const int64_t n = positions.size(0);

  // The generator on the masked input: its MLM loss, and one replacement per masked position.
  auto hidden = encode(gen_config_, g, batch, ctx);                        // (1, B, T, Hg)
  auto [states, labels] = mlm_states(gen_config_, g, hidden, batch, ctx);  // (1, N, E), (N)
  auto [decoder, bias] = mlm_decoder(gen_config_, g);                      // (1, V, E), (1, V)
  const auto uniforms = forced.defined() ? torch::Tensor() : draw_uniforms(n, sample_seed, device_);
  out.samples = forced.defined() ? forced : torch::empty({n}, labels.options());
  if (device_.is_cpu()) {
    // The chunked loss draws the samples while each chunk's probabilities exist (vocab_loss.h).
    out.generator = chunked_vocab_cross_entropy(states.squeeze(0), decoder.squeeze(0), bias.squeeze(0), labels,
                                                ctx.compute, uniforms, out.samples);
  } else {
    auto logits = linear(states, decoder, bias, ctx).to(torch::kFloat32);  // (1, N, V)
    out.generator = member_cross_entropy(logits, labels).squeeze(0);
    if (!forced.defined()) out.samples = sample_words(logits.squeeze(0).detach().softmax(-1), uniforms);
  }

  // The discriminator on the original tokens with the samples at the masked positions (integer tensors: no
  // gradient flows through the draw).
  auto ids = batch.input_ids.clone().view({-1});
  ids.index_copy_(0, positions, out.samples);
  auto replaced =
      torch::zeros({batch.input_ids.numel()}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  replaced.index_copy_(0, positions, out.samples.ne(labels).to(torch::kFloat32));
  DeviceBatch corrupted = batch;
  corrupted.input_ids = ids.view_as(batch.input_ids);
  corrupted.mlm_labels = torch::Tensor();
  corrupted.mlm_positions = torch::Tensor();
  out.replaced = replaced.view_as(batch.input_ids);            // (B, T)
  const auto h = encode(config_, w, corrupted, ctx);           // (1, B, T, H)
  out.rtd_logits = rtd_logits(config_, w, h, ctx).squeeze(0);  // (B, T)
  out.discriminator = rtd_loss(out.rtd_logits, out.replaced, batch.key_mask);
  return out;
}

ElectraEvaluation Model::evaluate_electra(const HostBatch& host, uint64_t sample_seed) {
  validate_batch(host, config_, /*need_labels=*/true);
  HB_CHECK(host.is_mlm(), code::kArgument, "evaluateElectra needs a batch with mlmLabels");
  forward_weights();  // refreshed outside inference mode
  c10::InferenceMode inference;
  const DeviceBatch batch = to_device(host, device_);
  const auto loss = electra_loss(batch, context(false), sample_seed, {});
  const auto& g = generator_weights();
  // The generator's correct predictions need its argmax: its logits again, chunk by chunk on the CPU.
  auto hidden = encode(gen_config_, g, batch, context(false));
  auto [states, labels] = mlm_states(gen_config_, g, hidden, batch, context(false));
  auto [decoder, bias] = mlm_decoder(gen_config_, g);
  const auto [sum, correct] =
      chunked_vocab_loss_and_correct(states.squeeze(0), decoder.squeeze(0), bias.squeeze(0), labels, compute_);
  ElectraEvaluation out;
  out.generator_loss_sum = sum;
  out.generator_correct = correct;
  out.masked = labels.size(0);
  const auto logits = loss.rtd_logits.reshape({-1}).to(torch::kCPU, torch::kFloat32);
  const auto replaced = loss.replaced.reshape({-1}).to(torch::kCPU);
  const auto real = batch.key_mask.defined() ? batch.key_mask.reshape({-1}).to(torch::kCPU)
                                             : torch::ones({logits.size(0)}, torch::kBool);
  const auto keep = real.nonzero().squeeze(1);
  const auto kept_logits = logits.index_select(0, keep).contiguous();
  const auto kept_labels = replaced.index_select(0, keep).to(torch::kUInt8).contiguous();
  out.rtd_logits.assign(kept_logits.data_ptr<float>(), kept_logits.data_ptr<float>() + kept_logits.numel());
  out.rtd_labels.assign(kept_labels.data_ptr<uint8_t>(), kept_labels.data_ptr<uint8_t>() + kept_labels.numel());
  return out;
}

}  // namespace healbert
