// DeBERTa's disentangled attention (transformers 5.17's DisentangledSelfAttention), for any subset of its
// position terms: scores(i, j) = [q_i . k_j + q_i . Pk[r(i, j)] (c2p) + k_j . Pq[r(i, j)] (p2c)] / sqrt(d * s),
// s = 1 + the number of position terms, where P = the relative embeddings projected (by the content key and
// query projections when share_att_key, else by their own) and r(i, j) the row of the relative position
// i - j: transformers' log bucket (make_log_bucket_position) clamped to the 2 * span rows. transformers'
// p2c gathers at the row of j - i and transposes; its buckets are odd, so that is r(i, j) too.
#pragma once

#include <torch/torch.h>

#include "engine/config.h"
#include "engine/ops.h"

namespace healbert {

// The rows of the relative embeddings one sequence length uses, and where each (query, key) pair reads.
struct RelativeRows {
  int64_t first = 0;    // the lowest row used (that of i - j = -(T - 1)); rows [first, first + count) are used
  int64_t count = 0;    // R
  torch::Tensor index;  // (T, T) int64: r(i, j) - first
};

// For a sequence of `seq` tokens, on `device`. Computed as transformers computes it (float32 log and ceil), so
// that every bucket boundary falls where its falls.
RelativeRows relative_rows(const RelativeAttention& r, int64_t seq, const torch::Device& device);

// The core: q, k, v (K * B, NH, T, HD) in the compute dtype; pos_key, pos_query: the used rows of the
// projected relative embeddings, (K, NH, R, HD) (undefined where the term is off); key_mask (B, T) bool or
// undefined -> (K * B, NH, T, HD). Scores and softmax in float32; dropout on the probabilities as attention().
torch::Tensor disentangled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& pos_key, const torch::Tensor& pos_query,
                                     const RelativeRows& rows, const torch::Tensor& key_mask, double dropout_p,
                                     const ForwardContext& ctx);

}  // namespace healbert
