// The tensor building blocks of the encoder, with the precision policy in one place: matmuls run in the
// compute dtype (float32, or bfloat16 for mixed precision, fp32 master weights cast on use as autocast
// does), LayerNorm and softmax statistics in float32.
//
// Fleets: a model holds K members of one architecture, every parameter stacked (K, ...), and every
// activation carries the member as its leading dimension, (K, ...). A solo model is K = 1 and takes the
// same path; with K = 1 the ops call exactly the kernels a single model would (bit-identical to it), with
// K > 1 they batch over the members (baddbmm, one LayerNorm, one attention over K x B sequences).
#pragma once

#include <torch/torch.h>

#include "engine/config.h"

namespace healbert {

struct ForwardContext {
  bool training = false;               // dropout on
  at::Generator* generator = nullptr;  // dropout masks (required when training)
  torch::ScalarType compute = torch::kFloat32;
  // scaled_dot_product_attention where libtorch has it (2.x), else the formula; on the CPU the formula
  // whenever attention dropout is on (ops.cc)
  bool fused_attention = true;
  // Per-token layers (the linear layers, LayerNorms, activations, dropout) on the batch's real tokens only,
  // when it has padding; attention in the padded (B, T) layout. See encoder.cc.
  bool pack_padding = true;
  // Seeds fused attention's dropout: call n of this context draws from mix(dropout_seed, n).
  uint64_t dropout_seed = 0;
  mutable uint64_t attention_calls = 0;
  // Counts dropout() calls: call n of a step draws its CPU mask from dropout_key(dropout_seed, n).
  mutable uint64_t dropout_calls = 0;
  // Fleet members (the leading dimension of every activation). All members share the dropout stream: a
  // mask is drawn once, in the shape one member needs, and applied to every member, so each member sees
  // the masks it would see alone (common random numbers).
  int64_t members = 1;
};

// (K, ..., in) -> (K, ..., out) with stacked weight (K, out, in) and bias (K, out) (undefined: none), computed in
// ctx.compute.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const ForwardContext& ctx);

// LayerNorm over the last dimension with stacked (K, H) weight and bias (undefined: none), in float32; returns
// float32.
torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps);

torch::Tensor activate(const torch::Tensor& x, Activation activation);

// Inverted dropout, reproducible per model: on the CPU from counter-based streams keyed by the step's seed
// and the call's index (dropout_mask.h), elsewhere with the model's own generator. x is (K, ...): the mask is
// made in one member's shape and shared by all members. With packed_rows (x is (K, N, H): rows packed_rows
// of a (layout_rows, H) layout) a real token gets the mask it would get unpacked.
torch::Tensor dropout(const torch::Tensor& x, double p, const ForwardContext& ctx,
                      const torch::Tensor& packed_rows = {}, int64_t layout_rows = 0);

// Multi-head attention core. q, k, v: (K * B, NH, T, HD) in ctx.compute, member-major; key_mask: (B, T)
// bool, true where a key may be attended to, or undefined for "all". Returns (K * B, NH, T, HD).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_mask, double dropout_p, const ForwardContext& ctx);

// attention() with a mask per query and key: pair_mask (B, Tq, Tk) bool, true where query i may attend to key j
// (one member's, shared by the members and heads); q (K * B, NH, Tq, HD), k and v (K * B, NH, Tk, HD). Every
// query row must allow at least one key (SDPA gives NaN for a row that allows none).
torch::Tensor attention_pairs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& pair_mask, double dropout_p, const ForwardContext& ctx);

// The end of the attention formula: scores (K * B, NH, Tq, Tk) float32, masked already -> softmax, dropout
// (one member's masks shared by all, as dropout() does), probabilities @ v (K * B, NH, Tk, HD) in v's dtype.
torch::Tensor attend_scores(const torch::Tensor& scores, const torch::Tensor& v, double dropout_p,
                            const ForwardContext& ctx);

// True when this libtorch has the fused scaled-dot-product attention (2.x).
bool has_fused_attention();

// A 64-bit seed from two words (splitmix64's finaliser over their combination): per-step and per-call seeds.
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace healbert
