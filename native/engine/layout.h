// What each parameter of a model is: its Hugging Face checkpoint name, shape, kind, the role it plays in the
// forward pass, and the encoder layers that use it. The TypeScript layer expands a family's descriptor into
// this list (src/model/layout.ts) and hands it over with the config; loading, saving, optimizer groups,
// corruption targets and the forward pass all read it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace healbert {

enum class ParamKind { kLinearWeight, kBias, kLayerNormWeight, kLayerNormBias, kEmbedding };

// The place of a tensor in the forward pass. Layer roles (kQueryW ... kPosQueryB) are bound per encoder layer,
// the others once. The names (role_name) are what the TypeScript layer sends. A role a model lacks is unbound
// (no biases in ModernBERT, no separate query/key/value where one fused qkv projection holds them).
enum class Role : uint8_t {
  kWord,
  kPosition,
  kTokenType,
  kEmbNormW,
  kEmbNormB,
  kEmbProjW,
  kEmbProjB,
  kQueryW,
  kQueryB,
  kKeyW,
  kKeyB,
  kValueW,
  kValueB,
  kAttnOutW,
  kAttnOutB,
  kAttnNormW,
  kAttnNormB,
  kFfnInW,
  kFfnInB,
  kFfnOutW,
  kFfnOutB,
  kFfnNormW,
  kFfnNormB,
  kQkvW,  // (3H, H): query, key and value rows one after the other (ModernBERT's Wqkv)
  kQkvB,
  kPosKeyW,  // DeBERTa without share_att_key: the relative embeddings' own key and query projections
  kPosKeyB,
  kPosQueryW,
  kPosQueryB,
  kRelEmb,  // (2 * span, H): DeBERTa's relative position embeddings
  kRelNormW,
  kRelNormB,
  kFinalNormW,  // the norm after the last layer of a pre-norm encoder (ModernBERT)
  kFinalNormB,
  kHeadDenseW,
  kHeadDenseB,
  kHeadNormW,  // a LayerNorm after the head's activation (ModernBERT's head.norm)
  kHeadNormB,
  kClassifierW,
  kClassifierB,
  kMlmDenseW,
  kMlmDenseB,
  kMlmNormW,
  kMlmNormB,
  kMlmBias,
  kMlmDecoderW,
  kMlmDecoderB,
  // ELECTRA pre-training: the discriminator's replaced-token-detection head (dense, activation, one logit).
  kRtdDenseW,
  kRtdDenseB,
  kRtdPredW,
  kRtdPredB,
  kCount
};
constexpr size_t kRoleCount = static_cast<size_t>(Role::kCount);

struct ParamSpec {
  std::string name;            // e.g. "bert.encoder.layer.3.attention.self.query.weight"
  std::vector<int64_t> shape;  // e.g. {768, 768} (out, in) for Linear weights, as PyTorch stores them
  ParamKind kind = ParamKind::kLinearWeight;
  Role role = Role::kWord;
  int64_t layer = -1;  // the first encoder layer that uses it, -1 outside the encoder
  // Every encoder layer that uses it: {layer}, or several for a shared layer group (ALBERT); empty outside.
  std::vector<int64_t> layers;
  std::string
      component;  // "attention.query", "ffn.output", "embeddings.word", "pooler", "classifier.dense", "classifier", ...
  bool is_head = false;      // task-specific (pooler excluded): initialised fresh when missing from a checkpoint
  int64_t padding_idx = -1;  // embeddings: the row that is zero at initialisation and gets no gradient
  // A fresh value's draw where it is not N(0, initializer_range): its std (< 0: the config's range), a
  // truncation at +-init_cutoff std (0: none; torch.nn.init.trunc_normal_), and whether the padding row is
  // zeroed afterwards (ModernBERT's truncated draw overwrites it).
  double init_std = -1;
  double init_cutoff = 0;
  bool init_zero_padding = true;
  // Which network of the model it belongs to: 0 the model itself, 1 its ELECTRA generator (config.h), which
  // reads the embedding tables of network 0 and has its own projection, layers and masked-LM head.
  int network = 0;
};

const char* param_kind_name(ParamKind kind);
const char* role_name(Role role);
// The role of a name role_name gives, or none.
std::optional<Role> role_from_name(const std::string& name);
bool is_layer_role(Role role);

// No weight decay for biases and LayerNorm weights (Hugging Face Trainer's rule).
inline bool excluded_from_weight_decay(ParamKind kind) {
  return kind == ParamKind::kBias || kind == ParamKind::kLayerNormWeight || kind == ParamKind::kLayerNormBias;
}

}  // namespace healbert
