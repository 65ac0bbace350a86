#include "engine/encoder.h"

#include <vector>

#include "engine/errors.h"

namespace healbert {

namespace {

// (K, B, T, H) -> (K * B, NH, T, HD): the members' sequences side by side, member-major.
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0) * x.size(1), x.size(2), heads, x.size(3) / heads}).transpose(1, 2);
}

// (K * B, NH, T, HD) -> (K, B, T, H)
torch::Tensor merge_heads(const torch::Tensor& x, int64_t members) {
  return x.transpose(1, 2).reshape({members, x.size(0) / members, x.size(2), x.size(1) * x.size(3)});
}

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

// (B, T) ids -> (K, B, T, H): word (+ token type) + position, LayerNorm, dropout (all E wide), and the projection
// from E to the hidden size H where the family has one (ELECTRA's embeddings_project, ALBERT's
// embedding_hidden_mapping_in).
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
  x = x + lookup(w[Role::kPosition], position_ids(c, b.input_ids), pad(Role::kPosition));
  x = layer_norm(x, w[Role::kEmbNormW], w[Role::kEmbNormB], c.layer_norm_eps);
  x = dropout(x, c.hidden_dropout, ctx);
  // The projection's output stays in the compute dtype, as autocast leaves a Linear's: the first residual sum
  // then rounds as transformers' does.
  if (w[Role::kEmbProjW].defined()) x = linear(x, w[Role::kEmbProjW], w[Role::kEmbProjB], ctx);
  return x;
}

// Padding packed away: the batch's real tokens, as rows of the flattened (B * T) layout. The per-token
// layers (linear, LayerNorm, activation, dropout), most of a layer's work, then run on N real rows instead of
// B * T (on GLUE-like batches padded to their longest row, a third of the rows or less); attention alone
// needs the (B, T) layout and gets it back, zeros in the padding, which the key mask hides. A real token's
// values are the padded computation's, up to the summation order inside the matrix products.
// Rows (N) of one member's flattened layout of `per_member` rows -> (K * N): the same rows of every member in
// the flattened (K * per_member) layout, member-major.
torch::Tensor member_rows(const torch::Tensor& rows, int64_t members, int64_t per_member) {
  if (members == 1) return rows;
  return (rows.unsqueeze(0) + torch::arange(members, rows.options()).unsqueeze(1) * per_member).reshape({-1});
}

struct Packing {
  torch::Tensor rows;  // (N) int64 positions in B * T; undefined: nothing packed
  // (K * N): every member's rows in the flattened (K * B * T) layout, so that packing gathers whole rows
  // along the first dimension (the contiguous fast path), not along a middle one.
  torch::Tensor member_rows;
  int64_t batch = 0, seq = 0;
  bool active() const { return rows.defined(); }
};

Packing packing_for(const DeviceBatch& b, const ForwardContext& ctx) {
  Packing p;
  if (!ctx.pack_padding || !b.key_mask.defined()) return p;
  auto flat = b.key_mask.reshape({-1});
  p.rows = b.real_rows.defined() ? b.real_rows : flat.nonzero().squeeze(1);  // (N), counted on the host
  p.batch = b.key_mask.size(0);
  p.seq = b.key_mask.size(1);
  if (p.rows.size(0) == flat.size(0)) {
    p.rows = torch::Tensor();  // no padding after all
    return p;
  }
  p.member_rows = member_rows(p.rows, ctx.members, flat.size(0));
  return p;
}

// (K, B, T, H) -> (K, N, H): every member's real tokens.
torch::Tensor pack(const torch::Tensor& x, const Packing& p) {
  return x.reshape({-1, x.size(-1)}).index_select(0, p.member_rows).view({x.size(0), -1, x.size(-1)});
}

// (K, N, H) -> (K, B, T, H), zeros at the padding.
torch::Tensor unpack(const torch::Tensor& x, const Packing& p) {
  return torch::zeros({x.size(0) * p.batch * p.seq, x.size(-1)}, x.options())
      .index_copy(0, p.member_rows, x.reshape({-1, x.size(-1)}))
      .view({x.size(0), p.batch, p.seq, x.size(-1)});
}

// (K, B, T, H) -> (K, B, T, H), or packed (K, N, H) -> (K, N, H): one post-LayerNorm transformer layer, its
// tensors by role (l).
torch::Tensor encoder_layer(const ModelConfig& c, const std::array<torch::Tensor, kRoleCount>& l,
                            const torch::Tensor& x, const torch::Tensor& key_mask, const Packing& packing,
                            const ForwardContext& ctx) {
  const auto at = [&](Role r) -> const torch::Tensor& { return l[static_cast<size_t>(r)]; };
  const auto heads = [&](const torch::Tensor& y) {  // -> (K * B, NH, T, HD)
    return split_heads(packing.active() ? unpack(y, packing) : y, c.num_heads);
  };
  const auto drop = [&](const torch::Tensor& y, double p) {  // packing.rows undefined: not packed
    return dropout(y, p, ctx, packing.rows, packing.batch * packing.seq);
  };
  auto q = heads(linear(x, at(Role::kQueryW), at(Role::kQueryB), ctx));
  auto k = heads(linear(x, at(Role::kKeyW), at(Role::kKeyB), ctx));
  auto v = heads(linear(x, at(Role::kValueW), at(Role::kValueB), ctx));
  auto context = merge_heads(attention(q, k, v, key_mask, c.attention_dropout, ctx), ctx.members);
  if (packing.active()) context = pack(context, packing);
  auto attended = linear(context, at(Role::kAttnOutW), at(Role::kAttnOutB), ctx);
  if (c.attention_output_dropout) attended = drop(attended, c.hidden_dropout);
  auto h = layer_norm(attended + x, at(Role::kAttnNormW), at(Role::kAttnNormB), c.layer_norm_eps);
  auto inner = activate(linear(h, at(Role::kFfnInW), at(Role::kFfnInB), ctx), c.activation);
  auto out = linear(inner, at(Role::kFfnOutW), at(Role::kFfnOutB), ctx);
  if (c.ffn_output_dropout) out = drop(out, c.hidden_dropout);
  return layer_norm(out + h, at(Role::kFfnNormW), at(Role::kFfnNormB), c.layer_norm_eps);
}

// (K, B, H) first-token states -> (K, B, num_labels): [dropout] -> dense -> activation -> dropout -> classifier
// (config.h: BERT's and ALBERT's dense is their pooler).
torch::Tensor classification_head(const ModelConfig& c, const Weights& w, const torch::Tensor& first,
                                  const ForwardContext& ctx) {
  const double p = c.classifier_dropout;
  auto x = c.head_dropout_before_dense ? dropout(first, p, ctx) : first;
  x = activate(linear(x, w[Role::kHeadDenseW], w[Role::kHeadDenseB], ctx), c.head_activation);
  return linear(dropout(x, p, ctx), w[Role::kClassifierW], w[Role::kClassifierB], ctx);
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
  const Packing packing = packing_for(b, ctx);
  if (packing.active()) x = pack(x, packing);  // (K, N, H)
  for (const auto& layer : w.layers) {
    x = encoder_layer(c, layer, x, b.key_mask, packing, ctx);
    if (on_layer) (*on_layer)(packing.active() ? unpack(x, packing) : x);
  }
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
  result.logits = classification_head(c, w, result.cls, ctx).to(torch::kFloat32);
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
