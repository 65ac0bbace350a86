// Padding packed away: a padded batch's real tokens, as rows of the flattened (B * T) layout. The per-token
// layers (linear, LayerNorm, activation, dropout), most of a layer's work, then run on N real rows instead of
// B * T (on GLUE-like batches padded to their longest row, a third of the rows or less); attention alone
// needs the (B, T) layout and gets it back, zeros in the padding, which the key mask hides. A real token's
// values are the padded computation's, up to the summation order inside the matrix products. Positions
// (relative, rotary) are the padded layout's, as in transformers: attention runs unpacked.
#pragma once

#include <torch/torch.h>

#include "engine/batch.h"
#include "engine/ops.h"

namespace healbert {

// Rows (N) of one member's flattened layout of `per_member` rows -> (K * N): the same rows of every member in
// the flattened (K * per_member) layout, member-major.
torch::Tensor member_rows(const torch::Tensor& rows, int64_t members, int64_t per_member);

struct Packing {
  torch::Tensor rows;  // (N) int64 positions in B * T; undefined: nothing packed
  // (K * N): every member's rows in the flattened (K * B * T) layout, so that packing gathers whole rows
  // along the first dimension (the contiguous fast path), not along a middle one.
  torch::Tensor member_rows;
  int64_t batch = 0, seq = 0;
  bool active() const { return rows.defined(); }
};

Packing packing_for(const DeviceBatch& b, const ForwardContext& ctx);

// (K, B, T, H) -> (K, N, H): every member's real tokens.
torch::Tensor pack(const torch::Tensor& x, const Packing& p);

// (K, N, H) -> (K, B, T, H), zeros at the padding.
torch::Tensor unpack(const torch::Tensor& x, const Packing& p);

}  // namespace healbert
