#include "engine/encoder.h"

#include <functional>
#include <vector>

#include "engine/errors.h"
#include "engine/packing.h"
#include "engine/self_attention.h"

namespace healbert {

namespace {

// Each member's rows of its own (K, rows, H) table: (B, T) ids -> (K, B, T, H). Looked up per member, so
// padding_idx keeps its meaning (no gradient at the pad row); unbind's backward stacks the members'
// gradients in one tensor.
torch::Tensor lookup(const torch::Tensor& table, const torch::Tensor& ids, int64_t padding_idx) {
  if (table.size(0) == 1) return torch::embedding(table.squeeze(0), ids, padding_idx).unsqueeze(0);
  std::vector<torch::Tensor> rows;
  for (const auto& member : table.unbind(0)) rows.push_back(torch::embedding(member, ids, padding_idx));
  return torch::stack(rows);
}

// Position ids, (B, T): from 0, or (RoBERTa) counting only non-padding tokens, starting after pad_token_id.
torch::Tensor position_ids(const ModelConfig& c, const torch::Tensor& input_ids) {
  const int64_t seq = input_ids.size(1);
  if (c.positions == PositionKind::kOffset) {
    auto not_pad = input_ids.ne(c.pad_token_id).to(torch::kInt64);
    return torch::cumsum(not_pad, 1) * not_pad + c.pad_token_id;
  }
  return torch::arange(seq, input_ids.options()).unsqueeze(0).expand_as(input_ids);
}

// (B, T) ids -> (K, B, T, H): word (+ token type) (+ position), all E wide; then LayerNorm and dropout, and the
// projection from E to the hidden size H where the family has one (ELECTRA's embeddings_project, ALBERT's
// embedding_hidden_mapping_in), or (DeBERTa's embed_proj) the projection first and the LayerNorm over H.
torch::Tensor embeddings(const ModelConfig& c, const Weights& w, const std::array<int64_t, kRoleCount>& padding,
                         const DeviceBatch& b, const ForwardContext& ctx) {
  // padding_idx: Hugging Face's word (and RoBERTa's position) embeddings never receive gradient at the pad row.
  const auto pad = [&](Role r) { return padding[static_cast<size_t>(r)]; };
  // (word + token type) + position, in transformers' order: float addition is not associative, and in this
  // order bert-base's gradients equal transformers' bit for bit (measured; the other order differed by ~1e-7).
  auto x = lookup(w[Role::kWord], b.input_ids, pad(Role::kWord));
  if (w[Role::kTokenType].defined()) {
    auto types = b.token_type_ids.defined() ? b.token_type_ids : torch::zeros_like(b.input_ids);
    x = x + lookup(w[Role::kTokenType], types, -1);
  }
  if (w[Role::kPosition].defined())
    x = x + lookup(w[Role::kPosition], position_ids(c, b.input_ids), pad(Role::kPosition));
  // The projection's output stays in the compute dtype, as autocast leaves a Linear's: the first residual sum
  // then rounds as transformers' does.
  const auto project = [&](const torch::Tensor& y) {
    return w[Role::kEmbProjW].defined() ? linear(y, w[Role::kEmbProjW], w[Role::kEmbProjB], ctx) : y;
  };
  if (c.embedding_norm_after_projection) x = project(x);
  x = layer_norm(x, w[Role::kEmbNormW], w[Role::kEmbNormB], c.layer_norm_eps);
  x = dropout(x, c.embedding_dropout, ctx);
  return c.embedding_norm_after_projection ? x : project(x);
}

// The FFN on h ((K, B, T, H) or packed (K, N, H)): act(W_in h), or for a GLU act(input) * gate with W_in's rows
// [input; gate]; dropout inside (ModernBERT's mlp_dropout); the output projection.
torch::Tensor feed_forward(const ModelConfig& c, const LayerTensors& l, const torch::Tensor& h,
                           const std::function<torch::Tensor(const torch::Tensor&, double)>& drop,
                           const ForwardContext& ctx) {
  const auto at = [&](Role r) -> const torch::Tensor& { return l[static_cast<size_t>(r)]; };
  auto inner = linear(h, at(Role::kFfnInW), at(Role::kFfnInB), ctx);
  if (c.glu) {
    const int64_t i = c.intermediate_size;
    inner = activate(inner.narrow(-1, 0, i), c.activation) * inner.narrow(-1, i, i);
  } else {
    inner = activate(inner, c.activation);
  }
  return linear(drop(inner, c.ffn_inner_dropout), at(Role::kFfnOutW), at(Role::kFfnOutB), ctx);
}

// (K, B, T, H) -> (K, B, T, H), or packed (K, N, H) -> (K, N, H): one transformer layer, its tensors by role (l):
// post-norm (BERT: the LayerNorm after each residual sum) or pre-norm (ModernBERT: before each block; a layer
// without an attention norm attends to its input as it is).
torch::Tensor encoder_layer(const ModelConfig& c, const LayerTensors& l, size_t layer, const torch::Tensor& x,
                            const LayerInputs& in, const ForwardContext& ctx) {
  const auto at = [&](Role r) -> const torch::Tensor& { return l[static_cast<size_t>(r)]; };
  const Packing& packing = in.packing;
  const auto drop = [&](const torch::Tensor& y, double p) {  // packing.rows undefined: not packed
    return dropout(y, p, ctx, packing.rows, packing.batch * packing.seq);
  };
  const auto norm = [&](const torch::Tensor& y, Role weight, Role bias) {
    return layer_norm(y, at(weight), at(bias), c.layer_norm_eps);
  };
  if (c.norm == NormPlacement::kPre) {
    const auto h = at(Role::kAttnNormW).defined() ? norm(x, Role::kAttnNormW, Role::kAttnNormB) : x;
    auto attended = linear(self_attention(c, l, layer, h, in, ctx), at(Role::kAttnOutW), at(Role::kAttnOutB), ctx);
    auto y = x + drop(attended, c.attention_output_dropout);
    auto out = feed_forward(c, l, norm(y, Role::kFfnNormW, Role::kFfnNormB), drop, ctx);
    return y + drop(out, c.ffn_output_dropout);
  }
  auto attended = linear(self_attention(c, l, layer, x, in, ctx), at(Role::kAttnOutW), at(Role::kAttnOutB), ctx);
  attended = drop(attended, c.attention_output_dropout);
  auto h = norm(attended + x, Role::kAttnNormW, Role::kAttnNormB);
  auto out = drop(feed_forward(c, l, h, drop, ctx), c.ffn_output_dropout);
  return norm(out + h, Role::kFfnNormW, Role::kFfnNormB);
}

// (K, B, T, H) final states -> (K, B, H): the first token's, or (ModernBERT's mean pooling) the mean over the
// real tokens, as transformers computes it: (x * mask).sum(1) / mask.sum(1).
torch::Tensor pooled_states(const ModelConfig& c, const torch::Tensor& x, const torch::Tensor& key_mask) {
  if (c.pooling == Pooling::kFirst) return x.select(2, 0);
  if (!key_mask.defined()) return x.sum(2) / static_cast<double>(x.size(2));
  auto mask = key_mask.to(x.scalar_type());  // (B, T)
  return (x * mask.unsqueeze(-1)).sum(2) / mask.sum(1, /*keepdim=*/true);
}

// (K, B, H) pooled states -> (K, B, num_labels): dropout -> dense -> activation -> [norm] -> dropout ->
// classifier (config.h: BERT's and ALBERT's dense is their pooler; ModernBERT's norm its head.norm).
torch::Tensor classification_head(const ModelConfig& c, const Weights& w, const torch::Tensor& pooled,
                                  const ForwardContext& ctx) {
  auto x = dropout(pooled, c.head_input_dropout, ctx);
  x = activate(linear(x, w[Role::kHeadDenseW], w[Role::kHeadDenseB], ctx), c.head_activation);
  if (w[Role::kHeadNormW].defined()) x = layer_norm(x, w[Role::kHeadNormW], w[Role::kHeadNormB], c.layer_norm_eps);
  return linear(dropout(x, c.classifier_dropout, ctx), w[Role::kClassifierW], w[Role::kClassifierB], ctx);
}

}  // namespace

Weights bind_weights(const ModelConfig& config, const std::vector<ParamSpec>& layout,
                     const std::vector<torch::Tensor>& tensors) {
  HB_CHECK(layout.size() == tensors.size(), code::kInternal, "layout and tensors differ in length");
  Weights w;
  w.layers.resize(config.num_layers);
  for (size_t i = 0; i < layout.size(); ++i) {
    const auto& spec = layout[i];
    if (spec.network != config.network) continue;  // a generator's tensors: bound in its view
    const auto role = static_cast<size_t>(spec.role);
    if (!is_layer_role(spec.role)) {
      w.global[role] = tensors[i];
      continue;
    }
    for (int64_t layer : spec.layers) w.layers.at(static_cast<size_t>(layer))[role] = tensors[i];
  }
  w.tied_decoder = w[Role::kWord];
  return w;
}

torch::Tensor encode(const ModelConfig& c, const Weights& w, const DeviceBatch& b, const ForwardContext& ctx,
                     const LayerObserver* on_layer) {
  std::array<int64_t, kRoleCount> padding;
  padding.fill(-1);
  for (const auto& spec : c.params) padding[static_cast<size_t>(spec.role)] = spec.padding_idx;
  auto x = embeddings(c, w, padding, b, ctx);  // (K, B, T, H) float32
  if (on_layer) (*on_layer)(x);
  const LayerInputs in = layer_inputs(c, w.global, b, ctx);  // the padding layout, the attention's positions
  const Packing& packing = in.packing;
  if (packing.active()) x = pack(x, packing);  // (K, N, H)
  for (size_t i = 0; i < w.layers.size(); ++i) {
    x = encoder_layer(c, w.layers[i], i, x, in, ctx);
    if (on_layer) (*on_layer)(packing.active() ? unpack(x, packing) : x);
  }
  // A pre-norm encoder's final norm belongs to the output, not to the last layer: the observer saw that layer's
  // output before it, as transformers' hidden_states hold ModernBERT's.
  if (w[Role::kFinalNormW].defined()) x = layer_norm(x, w[Role::kFinalNormW], w[Role::kFinalNormB], c.layer_norm_eps);
  return packing.active() ? unpack(x, packing) : x;  // (K, B, T, H); zeros at the padding when packed
}

std::pair<torch::Tensor, torch::Tensor> mlm_states(const ModelConfig& c, const Weights& w, const torch::Tensor& hidden,
                                                   const DeviceBatch& batch, const ForwardContext& ctx) {
  HB_CHECK(w[Role::kMlmBias].defined(), code::kArgument, "this model has no MLM head (load it with mlmHead: true)");
  // Only the labelled positions go through the head: the vocabulary projection dominates its cost.
  auto flat_labels = batch.mlm_labels.reshape({-1});
  // (N), counted on the host by to_device()
  auto positions = batch.mlm_positions.defined() ? batch.mlm_positions : flat_labels.ne(-100).nonzero().squeeze(1);
  const int64_t k = hidden.size(0);
  auto states = hidden.reshape({-1, hidden.size(-1)})
                    .index_select(0, member_rows(positions, k, flat_labels.size(0)))
                    .view({k, -1, hidden.size(-1)});  // (K, N, H)
  auto h = activate(linear(states, w[Role::kMlmDenseW], w[Role::kMlmDenseB], ctx), c.activation);
  return {layer_norm(h, w[Role::kMlmNormW], w[Role::kMlmNormB], c.layer_norm_eps),
          flat_labels.index_select(0, positions)};
}

std::pair<torch::Tensor, torch::Tensor> mlm_decoder(const ModelConfig& c, const Weights& w) {
  // The decoder is the word embedding matrix when tied, its own Linear when not: (K, V, H) and (K, V).
  return c.mlm_tied ? std::pair{w.tied_decoder, w[Role::kMlmBias]}
                    : std::pair{w[Role::kMlmDecoderW], w[Role::kMlmDecoderB]};
}

std::pair<torch::Tensor, torch::Tensor> mlm_logits(const ModelConfig& c, const Weights& w, const torch::Tensor& hidden,
                                                   const DeviceBatch& batch, const ForwardContext& ctx) {
  auto [h, target] = mlm_states(c, w, hidden, batch, ctx);
  auto [decoder, bias] = mlm_decoder(c, w);
  return {linear(h, decoder, bias, ctx).to(torch::kFloat32), target};  // (K, N, V)
}

ForwardResult forward(const ModelConfig& c, const Weights& w, const DeviceBatch& b, const ForwardContext& ctx,
                      const LayerObserver* on_layer) {
  auto x = encode(c, w, b, ctx, on_layer);
  ForwardResult result;
  result.cls = x.select(2, 0);  // (K, B, H)
  result.logits = classification_head(c, w, pooled_states(c, x, b.key_mask), ctx).to(torch::kFloat32);
  return result;
}

torch::Tensor rtd_logits(const ModelConfig& c, const Weights& w, const torch::Tensor& hidden,
                         const ForwardContext& ctx) {
  // ElectraDiscriminatorPredictions: dense, the hidden activation, one logit per token.
  auto h = activate(linear(hidden, w[Role::kRtdDenseW], w[Role::kRtdDenseB], ctx), c.activation);
  return linear(h, w[Role::kRtdPredW], w[Role::kRtdPredB], ctx).squeeze(-1).to(torch::kFloat32);
}

torch::Tensor member_token_losses(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t k = logits.size(0);
  return torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), labels.repeat({k}), {}, at::Reduction::None)
      .view({k, -1});
}

torch::Tensor member_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.size(0) == 1) return torch::cross_entropy_loss(logits.squeeze(0), labels).unsqueeze(0);
  return member_token_losses(logits, labels).mean(1);
}

torch::Tensor task_loss(const ModelConfig& c, const torch::Tensor& logits, const torch::Tensor& labels) {
  if (c.head != HeadKind::kRegression) return member_cross_entropy(logits, labels);
  const auto values = logits.squeeze(-1);  // (K, B)
  const auto target = labels.to(torch::kFloat32);
  if (values.size(0) == 1) return torch::mse_loss(values.squeeze(0), target).unsqueeze(0);
  return (values - target).pow(2).mean(1);
}

}  // namespace healbert
