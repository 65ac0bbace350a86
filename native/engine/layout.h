// Which parameters a model of a given config has: Hugging Face checkpoint names, shapes, and what each one
// is (its kind, layer and component). The single source of truth for loading, saving, optimizer groups and
// corruption targets; the TypeScript layer asks for it through the addon.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"

namespace healbert {

enum class ParamKind { kLinearWeight, kBias, kLayerNormWeight, kLayerNormBias, kEmbedding };

struct ParamSpec {
  std::string name;            // e.g. "bert.encoder.layer.3.attention.self.query.weight"
  std::vector<int64_t> shape;  // e.g. {768, 768} (out, in) for Linear weights, as PyTorch stores them
  ParamKind kind;
  int64_t layer;  // encoder layer index, -1 outside the encoder
  std::string
      component;  // "attention.query", "ffn.output", "embeddings.word", "pooler", "classifier.dense", "classifier", ...
  bool is_head;   // task-specific (pooler excluded): initialised fresh when missing from a checkpoint
};

std::vector<ParamSpec> parameter_layout(const ModelConfig& config);

const char* param_kind_name(ParamKind kind);

// No weight decay for biases and LayerNorm weights (Hugging Face Trainer's rule).
inline bool excluded_from_weight_decay(ParamKind kind) {
  return kind == ParamKind::kBias || kind == ParamKind::kLayerNormWeight || kind == ParamKind::kLayerNormBias;
}

}  // namespace healbert
