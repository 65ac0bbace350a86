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
      return {e};
    case Role::kEmbProjW:
      return {h, e};
    case Role::kQueryW:
    case Role::kKeyW:
    case Role::kValueW:
    case Role::kAttnOutW:
    case Role::kHeadDenseW:
    case Role::kRtdDenseW:
      return {h, h};
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
      return {i, h};
    case Role::kFfnInB:
      return {i};
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
  const auto need = [&](Role role, bool wanted) {
    const int n = global[static_cast<size_t>(role)];
    HB_CHECK(n == (wanted ? 1 : 0), code::kArgument, "the layout has ", n, " tensors for ", role_name(role), " (",
             wanted ? "one" : "none", " expected)");
  };
  need(Role::kWord, true);
  need(Role::kPosition, true);
  need(Role::kTokenType, c.type_vocab_size > 0);
  need(Role::kEmbNormW, true);
  need(Role::kEmbNormB, true);
  const bool projected = global[static_cast<size_t>(Role::kEmbProjW)] > 0;
  HB_CHECK(projected || c.embedding_size == c.hidden_size, code::kArgument, "embeddings of width ", c.embedding_size,
           " need a projection to the hidden size ", c.hidden_size);
  need(Role::kEmbProjB, projected);
  need(Role::kHeadDenseW, c.classification_head);
  need(Role::kHeadDenseB, c.classification_head);
  need(Role::kClassifierW, c.classification_head);
  need(Role::kClassifierB, c.classification_head);
  for (Role r : {Role::kRtdDenseW, Role::kRtdDenseB, Role::kRtdPredW, Role::kRtdPredB}) need(r, c.has_generator());
  for (Role r : {Role::kMlmDenseW, Role::kMlmDenseB, Role::kMlmNormW, Role::kMlmNormB, Role::kMlmBias})
    need(r, c.mlm_head);
  need(Role::kMlmDecoderW, c.mlm_head && !c.mlm_tied);
  need(Role::kMlmDecoderB, c.mlm_head && !c.mlm_tied);
  for (size_t l = 0; l < per_layer.size(); ++l)
    for (size_t r = static_cast<size_t>(Role::kQueryW); r <= static_cast<size_t>(Role::kFfnNormB); ++r)
      HB_CHECK(per_layer[l][r] == 1, code::kArgument, "layer ", l, " has ", per_layer[l][r], " tensors for ",
               role_name(static_cast<Role>(r)), " (one expected)");
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
