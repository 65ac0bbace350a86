#include "engine/config.h"

#include <string>

#include "engine/errors.h"

namespace healbert {

namespace {

// The shape a role's tensor must have in a model of config c (one member's; empty: no such role).
std::vector<int64_t> expected_shape(const ModelConfig& c, Role role) {
  const int64_t h = c.hidden_size, e = c.embedding_size, i = c.intermediate_size;
  switch (role) {
    case Role::kWord:
      return {c.vocab_size, e};
    case Role::kPosition:
      return {c.max_positions, e};
    case Role::kTokenType:
      return {c.type_vocab_size, e};
    case Role::kEmbNormW:
    case Role::kEmbNormB:
      return {c.embedding_norm_after_projection ? h : e};
    case Role::kEmbProjW:
      return {h, e};
    case Role::kQueryW:
    case Role::kKeyW:
    case Role::kValueW:
    case Role::kPosKeyW:
    case Role::kPosQueryW:
    case Role::kAttnOutW:
    case Role::kHeadDenseW:
    case Role::kRtdDenseW:
      return {h, h};
    case Role::kQkvW:
      return {3 * h, h};
    case Role::kQkvB:
      return {3 * h};
    case Role::kRelEmb:
      return {2 * c.relative.span(), h};
    // The masked-LM head maps the hidden states to the embeddings' width, so that the tied decoder (the word
    // embeddings) can read them: H -> H for BERT, H -> E for an ELECTRA generator.
    case Role::kMlmDenseW:
      return {e, h};
    case Role::kMlmDenseB:
    case Role::kMlmNormW:
    case Role::kMlmNormB:
      return {e};
    case Role::kRtdPredW:
      return {1, h};
    case Role::kRtdPredB:
      return {1};
    case Role::kFfnInW:
      return {c.ffn_in_rows(), h};
    case Role::kFfnInB:
      return {c.ffn_in_rows()};
    case Role::kFfnOutW:
      return {h, i};
    case Role::kClassifierW:
      return {c.num_labels, h};
    case Role::kClassifierB:
      return {c.num_labels};
    case Role::kMlmBias:
    case Role::kMlmDecoderB:
      return {c.vocab_size};
    case Role::kMlmDecoderW:
      return {c.vocab_size, e};
    default:  // the biases and norms of width H
      return {h};
  }
}

// The bias that goes with a weight role (its role + 1 in the enum), for the roles whose bias is optional.
bool has_optional_bias(Role weight) {
  switch (weight) {
    case Role::kEmbNormW:
    case Role::kEmbProjW:
    case Role::kQueryW:
    case Role::kKeyW:
    case Role::kValueW:
    case Role::kQkvW:
    case Role::kPosKeyW:
    case Role::kPosQueryW:
    case Role::kAttnOutW:
    case Role::kAttnNormW:
    case Role::kFfnInW:
    case Role::kFfnOutW:
    case Role::kFfnNormW:
    case Role::kRelNormW:
    case Role::kFinalNormW:
    case Role::kHeadDenseW:
    case Role::kHeadNormW:
      return true;
    default:
      return false;
  }
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t d = 0; d < shape.size(); ++d) out += (d ? ", " : "") + std::to_string(shape[d]);
  return out + "]";
}

}  // namespace

void check_layout(const ModelConfig& c) {
  // How many tensors play each global role, and each layer role in each layer.
  std::vector<int> global(kRoleCount, 0);
  std::vector<std::vector<int>> per_layer(static_cast<size_t>(c.num_layers), std::vector<int>(kRoleCount, 0));
  for (const auto& p : c.params) {
    if (p.network != c.network) continue;  // the generator's: checked in its view, below
    const auto expected = expected_shape(c, p.role);
    HB_CHECK(p.shape == expected, code::kArgument, p.name, " (", role_name(p.role), ") has shape ", shape_text(p.shape),
             ", but the config needs ", shape_text(expected));
    const auto r = static_cast<size_t>(p.role);
    if (!is_layer_role(p.role)) {
      ++global[r];
      continue;
    }
    for (int64_t l : p.layers) ++per_layer.at(static_cast<size_t>(l))[r];
  }
  const auto count = [](const std::vector<int>& counts, Role role) { return counts[static_cast<size_t>(role)]; };
  // A role wanted exactly once (or not at all); a weight whose bias is optional: its bias at most once, and
  // only with the weight (ModernBERT has none; the layout says).
  const auto need = [&](const std::vector<int>& counts, Role role, bool wanted, const std::string& where) {
    const int n = count(counts, role);
    HB_CHECK(n == (wanted ? 1 : 0), code::kArgument, where, "the layout has ", n, " tensors for ", role_name(role),
             " (", wanted ? "one" : "none", " expected)");
    if (!has_optional_bias(role)) return;
    const Role bias = static_cast<Role>(static_cast<size_t>(role) + 1);
    const int b = count(counts, bias);
    HB_CHECK(b <= (wanted ? 1 : 0), code::kArgument, where, "the layout has ", b, " tensors for ", role_name(bias),
             wanted ? " (at most one expected)" : " (none expected without its weight)");
  };
  const bool disentangled = c.attention == AttentionKind::kDisentangled;
  need(global, Role::kWord, true, "");
  need(global, Role::kPosition, c.positions != PositionKind::kNone, "");
  need(global, Role::kTokenType, c.type_vocab_size > 0, "");
  need(global, Role::kEmbNormW, true, "");
  const bool projected = count(global, Role::kEmbProjW) > 0;
  HB_CHECK(projected || c.embedding_size == c.hidden_size, code::kArgument, "embeddings of width ", c.embedding_size,
           " need a projection to the hidden size ", c.hidden_size);
  need(global, Role::kEmbProjW, projected, "");
  need(global, Role::kRelEmb, disentangled, "");
  need(global, Role::kRelNormW, disentangled && count(global, Role::kRelNormW) > 0, "");
  need(global, Role::kFinalNormW, c.norm == NormPlacement::kPre, "");
  // The sequence-classification head: every model but an ELECTRA generator's view.
  const bool head = c.classification_head;
  need(global, Role::kHeadDenseW, head, "");
  need(global, Role::kHeadNormW, head && count(global, Role::kHeadNormW) > 0, "");
  need(global, Role::kClassifierW, head, "");
  need(global, Role::kClassifierB, head, "");
  for (Role r : {Role::kRtdDenseW, Role::kRtdDenseB, Role::kRtdPredW, Role::kRtdPredB})
    need(global, r, c.has_generator(), "");
  for (Role r : {Role::kMlmDenseW, Role::kMlmDenseB, Role::kMlmNormW, Role::kMlmNormB}) need(global, r, c.mlm_head, "");
  need(global, Role::kMlmBias, c.mlm_head, "");
  need(global, Role::kMlmDecoderW, c.mlm_head && !c.mlm_tied, "");
  need(global, Role::kMlmDecoderB, c.mlm_head && !c.mlm_tied, "");
  for (size_t l = 0; l < per_layer.size(); ++l) {
    const auto& counts = per_layer[l];
    const std::string where = "layer " + std::to_string(l) + ": ";
    // Query, key and value as three projections, or one fused qkv projection.
    const bool fused = count(counts, Role::kQkvW) > 0;
    for (Role r : {Role::kQueryW, Role::kKeyW, Role::kValueW}) need(counts, r, !fused, where);
    need(counts, Role::kQkvW, fused, where);
    need(counts, Role::kPosKeyW, disentangled && !c.relative.share_keys && c.relative.c2p, where);
    need(counts, Role::kPosQueryW, disentangled && !c.relative.share_keys && c.relative.p2c, where);
    need(counts, Role::kAttnOutW, true, where);
    // A pre-norm layer may leave its attention input unnormalised (ModernBERT's layer 0).
    const bool attention_norm = c.norm == NormPlacement::kPost || count(counts, Role::kAttnNormW) > 0;
    need(counts, Role::kAttnNormW, attention_norm, where);
    for (Role r : {Role::kFfnInW, Role::kFfnOutW, Role::kFfnNormW}) need(counts, r, true, where);
  }
  if (c.attention == AttentionKind::kRotary) {
    HB_CHECK(static_cast<int64_t>(c.rope_theta.size()) == c.num_layers &&
                 static_cast<int64_t>(c.layer_window.size()) == c.num_layers,
             code::kArgument, "rotary attention needs a theta and a window for each of the ", c.num_layers, " layers");
    HB_CHECK(c.head_dim() % 2 == 0, code::kArgument, "rotary attention needs an even head size, got ", c.head_dim());
  }
  if (c.has_generator()) {
    HB_CHECK(c.network == 0, code::kArgument, "a generator cannot have a generator of its own");
    check_layout(generator_view(c, nullptr));
  }
}

ModelConfig generator_view(const ModelConfig& c, std::vector<size_t>* indices) {
  ModelConfig g = c;
  g.hidden_size = c.generator.hidden_size;
  g.num_heads = c.generator.num_heads;
  g.intermediate_size = c.generator.intermediate_size;
  g.num_layers = c.generator.num_layers;
  g.generator = {};
  g.mlm_head = true;
  g.mlm_tied = true;
  g.classification_head = false;
  g.network = 1;
  g.params.clear();
  if (indices) indices->clear();
  const auto shared = [](Role r) {
    return r == Role::kWord || r == Role::kPosition || r == Role::kTokenType || r == Role::kEmbNormW ||
           r == Role::kEmbNormB;
  };
  for (size_t i = 0; i < c.params.size(); ++i) {
    const auto& p = c.params[i];
    if (p.network != 1 && !(p.network == 0 && shared(p.role))) continue;
    g.params.push_back(p);
    g.params.back().network = 1;
    if (indices) indices->push_back(i);
  }
  return g;
}

}  // namespace healbert
