#include "engine/layout.h"

namespace healbert {

namespace {

// Role names, in the order of the enum: the names the TypeScript layout sends (src/model/layout.ts).
constexpr std::array<const char*, kRoleCount> kRoleNames = {
    "embeddings.word",
    "embeddings.position",
    "embeddings.token_type",
    "embeddings.norm.weight",
    "embeddings.norm.bias",
    "embeddings.projection.weight",
    "embeddings.projection.bias",
    "layer.query.weight",
    "layer.query.bias",
    "layer.key.weight",
    "layer.key.bias",
    "layer.value.weight",
    "layer.value.bias",
    "layer.attention_output.weight",
    "layer.attention_output.bias",
    "layer.attention_norm.weight",
    "layer.attention_norm.bias",
    "layer.ffn_in.weight",
    "layer.ffn_in.bias",
    "layer.ffn_out.weight",
    "layer.ffn_out.bias",
    "layer.ffn_norm.weight",
    "layer.ffn_norm.bias",
    "layer.qkv.weight",
    "layer.qkv.bias",
    "layer.pos_key.weight",
    "layer.pos_key.bias",
    "layer.pos_query.weight",
    "layer.pos_query.bias",
    "encoder.relative_embeddings",
    "encoder.relative_norm.weight",
    "encoder.relative_norm.bias",
    "encoder.final_norm.weight",
    "encoder.final_norm.bias",
    "head.dense.weight",
    "head.dense.bias",
    "head.norm.weight",
    "head.norm.bias",
    "head.classifier.weight",
    "head.classifier.bias",
    "mlm.dense.weight",
    "mlm.dense.bias",
    "mlm.norm.weight",
    "mlm.norm.bias",
    "mlm.bias",
    "mlm.decoder.weight",
    "mlm.decoder.bias",
    "rtd.dense.weight",
    "rtd.dense.bias",
    "rtd.prediction.weight",
    "rtd.prediction.bias",
};

constexpr std::array<const char*, 5> kKindNames = {"linear.weight", "bias", "layernorm.weight", "layernorm.bias",
                                                   "embedding"};

}  // namespace

const char* param_kind_name(ParamKind kind) { return kKindNames.at(static_cast<size_t>(kind)); }

const char* role_name(Role role) { return kRoleNames.at(static_cast<size_t>(role)); }

std::optional<Role> role_from_name(const std::string& name) {
  for (size_t i = 0; i < kRoleCount; ++i)
    if (name == kRoleNames[i]) return static_cast<Role>(i);
  return std::nullopt;
}

bool is_layer_role(Role role) { return role >= Role::kQueryW && role <= Role::kPosQueryB; }

}  // namespace healbert
