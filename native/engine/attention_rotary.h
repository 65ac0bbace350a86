// ModernBERT's attention pieces: rotary position embeddings (transformers 5.17's ModernBertRotaryEmbedding and
// apply_rotary_pos_emb, default rope type) and sliding-window attention (|i - j| <= w), with a blocked path whose
// memory and work grow linearly in the sequence length.
#pragma once

#include <torch/torch.h>

#include "engine/ops.h"

namespace healbert {

// cos and sin of the rotation angles of positions 0 .. T - 1 (the padded layout's, as transformers numbers them),
// (T, HD) float32: angle(t, i) = t * theta^(-2i / HD), the HD / 2 frequencies twice over.
struct RotaryTable {
  torch::Tensor cos, sin;
};
RotaryTable rotary_table(double theta, int64_t head_dim, int64_t seq, const torch::Device& device);

// Rotates queries or keys (..., T, HD) by the table, in float32 as transformers does, back in x's dtype.
torch::Tensor rotate(const torch::Tensor& x, const RotaryTable& table);

// Attention of a sliding-window layer: q, k, v (K * B, NH, T, HD), key_mask (B, T) bool or undefined; query i
// attends to the real keys j with |i - j| <= window, and to itself (a padded query far from every real token
// would otherwise attend to nothing; its output is never read). Long sequences run in blocks of queries, each
// against the keys its window reaches (memory linear in T); short ones with one (T, T) band mask.
torch::Tensor windowed_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& key_mask, int64_t window, double dropout_p,
                                 const ForwardContext& ctx);

}  // namespace healbert
