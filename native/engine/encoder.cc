#include "engine/encoder.h"

#include <vector>

#include "engine/errors.h"

namespace healbert {

namespace {

torch::Tensor* slot(Weights& w, const ParamSpec& spec) {
  const bool weight = spec.kind == ParamKind::kLinearWeight || spec.kind == ParamKind::kLayerNormWeight ||
                      spec.kind == ParamKind::kEmbedding;
  const std::string& comp = spec.component;
  if (spec.layer >= 0) {
    LayerWeights& l = w.layers.at(spec.layer);
    if (comp == "attention.query") return weight ? &l.q_w : &l.q_b;
    if (comp == "attention.key") return weight ? &l.k_w : &l.k_b;
    if (comp == "attention.value") return weight ? &l.v_w : &l.v_b;
    if (comp == "attention.output") return weight ? &l.o_w : &l.o_b;
    if (comp == "attention.layernorm") return weight ? &l.ln1_w : &l.ln1_b;
    if (comp == "ffn.intermediate") return weight ? &l.i_w : &l.i_b;
    if (comp == "ffn.output") return weight ? &l.out_w : &l.out_b;
    if (comp == "ffn.layernorm") return weight ? &l.ln2_w : &l.ln2_b;
  }
  if (comp == "embeddings.word") return &w.word;
  if (comp == "embeddings.position") return &w.position;
  if (comp == "embeddings.token_type") return &w.token_type;
  if (comp == "embeddings.layernorm") return weight ? &w.emb_ln_w : &w.emb_ln_b;
  if (comp == "pooler") return weight ? &w.pool_w : &w.pool_b;
  if (comp == "classifier.dense")
    return weight ? &w.head_w : &w.head_b;  // RoBERTa's dense, DistilBERT's pre_classifier
  if (comp == "classifier") return weight ? &w.cls_w : &w.cls_b;
  if (comp == "mlm.transform") return weight ? &w.mlm_w : &w.mlm_b;
  if (comp == "mlm.layernorm") return weight ? &w.mlm_ln_w : &w.mlm_ln_b;
  if (comp == "mlm.bias") return &w.mlm_bias;
  if (comp == "mlm.decoder") return weight ? &w.mlm_dec_w : &w.mlm_dec_b;
  fail(code::kInternal, "no slot for parameter ", spec.name);
}

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

// Position ids, (B, T). RoBERTa counts only non-padding tokens, starting after pad_token_id.
torch::Tensor position_ids(const ModelConfig& c, const torch::Tensor& input_ids) {
  const int64_t seq = input_ids.size(1);
  if (c.arch == Arch::kRoberta) {
    auto not_pad = input_ids.ne(c.pad_token_id).to(torch::kInt64);
    return torch::cumsum(not_pad, 1) * not_pad + c.pad_token_id;
  }
  return torch::arange(seq, input_ids.options()).unsqueeze(0).expand_as(input_ids);
}

torch::Tensor embeddings(const ModelConfig& c, const Weights& w, const DeviceBatch& b, const ForwardContext& ctx) {
  // padding_idx: Hugging Face's word (and RoBERTa's position) embeddings never receive gradient at the pad row.
  const int64_t word_pad = c.pad_token_id;
  const int64_t pos_pad = c.arch == Arch::kRoberta ? c.pad_token_id : -1;
  // (word + token type) + position, in transformers' order: float addition is not associative, and in this
  // order bert-base's gradients equal transformers' bit for bit (measured; the other order differed by ~1e-7).
  auto x = lookup(w.word, b.input_ids, word_pad);
  if (w.token_type.defined()) {
    auto types = b.token_type_ids.defined() ? b.token_type_ids : torch::zeros_like(b.input_ids);
    x = x + lookup(w.token_type, types, -1);
  }
  x = x + lookup(w.position, position_ids(c, b.input_ids), pos_pad);
  x = layer_norm(x, w.emb_ln_w, w.emb_ln_b, c.layer_norm_eps);
  return dropout(x, c.hidden_dropout, ctx);
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
  p.rows = flat.nonzero().squeeze(1);  // (N)
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

// (K, B, T, H) -> (K, B, T, H), or packed (K, N, H) -> (K, N, H): one post-LayerNorm transformer layer.
torch::Tensor encoder_layer(const ModelConfig& c, const LayerWeights& l, const torch::Tensor& x,
                            const torch::Tensor& key_mask, const Packing& packing, const ForwardContext& ctx) {
  const auto heads = [&](const torch::Tensor& y) {  // -> (K * B, NH, T, HD)
    return split_heads(packing.active() ? unpack(y, packing) : y, c.num_heads);
  };
  const auto drop = [&](const torch::Tensor& y, double p) {  // packing.rows undefined: not packed
    return dropout(y, p, ctx, packing.rows, packing.batch * packing.seq);
  };
  auto q = heads(linear(x, l.q_w, l.q_b, ctx));
  auto k = heads(linear(x, l.k_w, l.k_b, ctx));
  auto v = heads(linear(x, l.v_w, l.v_b, ctx));
  auto context = merge_heads(attention(q, k, v, key_mask, c.attention_dropout, ctx), ctx.members);
  if (packing.active()) context = pack(context, packing);
  auto attended = linear(context, l.o_w, l.o_b, ctx);
  // DistilBERT has no dropout on the attention output; BERT and RoBERTa do.
  if (c.arch != Arch::kDistilBert) attended = drop(attended, c.hidden_dropout);
  auto h = layer_norm(attended + x, l.ln1_w, l.ln1_b, c.layer_norm_eps);
  auto inner = activate(linear(h, l.i_w, l.i_b, ctx), c.activation);
  auto out = drop(linear(inner, l.out_w, l.out_b, ctx), c.hidden_dropout);
  return layer_norm(out + h, l.ln2_w, l.ln2_b, c.layer_norm_eps);
}

// (K, B, H) first-token states -> (K, B, num_labels)
torch::Tensor classification_head(const ModelConfig& c, const Weights& w, const torch::Tensor& first,
                                  const ForwardContext& ctx) {
  const double p = c.classifier_dropout;
  switch (c.arch) {
    case Arch::kBert: {
      auto pooled = torch::tanh(linear(first, w.pool_w, w.pool_b, ctx));
      return linear(dropout(pooled, p, ctx), w.cls_w, w.cls_b, ctx);
    }
    case Arch::kRoberta: {
      auto h = torch::tanh(linear(dropout(first, p, ctx), w.head_w, w.head_b, ctx));
      return linear(dropout(h, p, ctx), w.cls_w, w.cls_b, ctx);
    }
    case Arch::kDistilBert: {
      auto h = torch::relu(linear(first, w.head_w, w.head_b, ctx));
      return linear(dropout(h, p, ctx), w.cls_w, w.cls_b, ctx);
    }
  }
  fail(code::kInternal, "unknown architecture");
}

}  // namespace

Weights bind_weights(const ModelConfig& config, const std::vector<ParamSpec>& layout,
                     const std::vector<torch::Tensor>& tensors) {
  HB_CHECK(layout.size() == tensors.size(), code::kInternal, "layout and tensors differ in length");
  Weights w;
  w.layers.resize(config.num_layers);
  for (size_t i = 0; i < layout.size(); ++i) *slot(w, layout[i]) = tensors[i];
  w.tied_decoder = w.word;
  return w;
}

torch::Tensor encode(const ModelConfig& c, const Weights& w, const DeviceBatch& b, const ForwardContext& ctx,
                     const LayerObserver* on_layer) {
  auto x = embeddings(c, w, b, ctx);  // (K, B, T, H) float32
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
                                                   const torch::Tensor& labels, const ForwardContext& ctx) {
  HB_CHECK(w.mlm_bias.defined(), code::kArgument, "this model has no MLM head (load it with mlmHead: true)");
  // Only the labelled positions go through the head: the vocabulary projection dominates its cost.
  auto flat_labels = labels.reshape({-1});
  auto positions = flat_labels.ne(-100).nonzero().squeeze(1);  // (N)
  const int64_t k = hidden.size(0);
  auto states = hidden.reshape({-1, hidden.size(-1)})
                    .index_select(0, member_rows(positions, k, flat_labels.size(0)))
                    .view({k, -1, hidden.size(-1)});  // (K, N, H)
  auto h = activate(linear(states, w.mlm_w, w.mlm_b, ctx), c.activation);
  return {layer_norm(h, w.mlm_ln_w, w.mlm_ln_b, c.layer_norm_eps), flat_labels.index_select(0, positions)};
}

std::pair<torch::Tensor, torch::Tensor> mlm_decoder(const ModelConfig& c, const Weights& w) {
  // The decoder is the word embedding matrix when tied, its own Linear when not: (K, V, H) and (K, V).
  return c.mlm_tied ? std::pair{w.tied_decoder, w.mlm_bias} : std::pair{w.mlm_dec_w, w.mlm_dec_b};
}

std::pair<torch::Tensor, torch::Tensor> mlm_logits(const ModelConfig& c, const Weights& w, const torch::Tensor& hidden,
                                                   const torch::Tensor& labels, const ForwardContext& ctx) {
  auto [h, target] = mlm_states(c, w, hidden, labels, ctx);
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
