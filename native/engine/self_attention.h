// A layer's self-attention up to its output projection, for each attention kind of config.h: the projections
// (separate query, key and value, or one fused qkv), the positions (none, DeBERTa's relative terms, rotary
// angles with a window per layer), and the attention core, in the padded (B, T) layout whatever the packing.
#pragma once

#include <torch/torch.h>

#include <array>
#include <vector>

#include "engine/attention_disentangled.h"
#include "engine/attention_rotary.h"
#include "engine/batch.h"
#include "engine/config.h"
#include "engine/layout.h"
#include "engine/ops.h"
#include "engine/packing.h"

namespace healbert {

using LayerTensors = std::array<torch::Tensor, kRoleCount>;

// What every layer of one forward pass shares.
struct LayerInputs {
  torch::Tensor key_mask;  // (B, T) bool, undefined without padding
  Packing packing;
  // Disentangled attention: where each (query, key) pair reads, and the rows of the relative embeddings the
  // sequence uses, (K, R, H) float32, through the encoder LayerNorm where the model has one.
  RelativeRows relative;
  torch::Tensor relative_embeddings;
  // Rotary attention: each layer's table (layers of one theta share it).
  std::vector<RotaryTable> rotary;
};

// global: the model's global tensors (the relative embeddings and their norm).
LayerInputs layer_inputs(const ModelConfig& c, const std::array<torch::Tensor, kRoleCount>& global,
                         const DeviceBatch& b, const ForwardContext& ctx);

// x: (K, B, T, H), or packed (K, N, H) -> the attention's context in the same layout, before the output
// projection.
torch::Tensor self_attention(const ModelConfig& c, const LayerTensors& l, size_t layer, const torch::Tensor& x,
                             const LayerInputs& in, const ForwardContext& ctx);

}  // namespace healbert
