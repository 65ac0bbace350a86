// The forward pass of the BERT family with its sequence-classification heads, following Hugging Face
// transformers' semantics (post-LayerNorm encoders, and ModernBERT's pre-norm one; heads as in
// *ForSequenceClassification). One code path for every family: the differences are the config's options and
// the layout's roles (config.h, layout.h); the attention kinds are self_attention.h's.
#pragma once

#include <torch/torch.h>

#include <array>
#include <functional>
#include <vector>

#include "engine/batch.h"
#include "engine/config.h"
#include "engine/layout.h"
#include "engine/ops.h"

namespace healbert {

// Handles onto the model's parameter tensors (shared storage: in-place updates show through), by role: the
// global roles once, the layer roles per encoder layer (layers of a shared group hold the same tensors).
// Undefined where the model has no such tensor (no token types in DistilBERT, no projection in BERT).
struct Weights {
  std::array<torch::Tensor, kRoleCount> global;
  std::vector<std::array<torch::Tensor, kRoleCount>> layers;
  torch::Tensor tied_decoder;  // the tied decoder's weight: the word embeddings, or their bf16 compute copy (model.h)

  const torch::Tensor& operator[](Role role) const { return global[static_cast<size_t>(role)]; }
};

Weights bind_weights(const ModelConfig& config, const std::vector<ParamSpec>& layout,
                     const std::vector<torch::Tensor>& tensors);

// Every tensor here carries the fleet's member as its leading dimension (ops.h), K = 1 for a solo model;
// the weights are stacked (K, ...).
struct ForwardResult {
  torch::Tensor logits;  // (K, B, num_labels) float32
  torch::Tensor cls;     // (K, B, H) float32: the final hidden state of the first token
};

// Called with the embeddings' output, then each layer's output: (K, B, T, H) float32, zeros at the padding when
// the pass packs it away (engine/layer_states.h pools them). Observes only: the pass computes what it would without.
using LayerObserver = std::function<void(const torch::Tensor&)>;

ForwardResult forward(const ModelConfig& config, const Weights& w, const DeviceBatch& batch, const ForwardContext& ctx,
                      const LayerObserver* on_layer = nullptr);

// The encoder alone: (B, T) ids -> (K, B, T, H) final hidden states, float32.
torch::Tensor encode(const ModelConfig& config, const Weights& w, const DeviceBatch& batch, const ForwardContext& ctx,
                     const LayerObserver* on_layer = nullptr);

// The MLM head up to its decoder, at the labelled positions: hidden (K, B, T, H), the batch's mlm_labels
// (B, T) with -100 where unlabelled (and its mlm_positions) -> the transformed states (K, N, H) for the N
// labelled positions, and their labels (N).
std::pair<torch::Tensor, torch::Tensor> mlm_states(const ModelConfig& config, const Weights& w,
                                                   const torch::Tensor& hidden, const DeviceBatch& batch,
                                                   const ForwardContext& ctx);

// The MLM decoder's weight (K, V, H) and bias (K, V): the word embeddings when tied.
std::pair<torch::Tensor, torch::Tensor> mlm_decoder(const ModelConfig& config, const Weights& w);

// MLM logits at the labelled positions: hidden (K, B, T, H), the batch's mlm_labels (B, T) with -100 where
// unlabelled -> (K, N, V) for the N labelled positions, and their labels (N).
std::pair<torch::Tensor, torch::Tensor> mlm_logits(const ModelConfig& config, const Weights& w,
                                                   const torch::Tensor& hidden, const DeviceBatch& batch,
                                                   const ForwardContext& ctx);

// The replaced-token-detection head of an ELECTRA discriminator: hidden (K, B, T, H) -> (K, B, T) logits, float32.
torch::Tensor rtd_logits(const ModelConfig& config, const Weights& w, const torch::Tensor& hidden,
                         const ForwardContext& ctx);

// Each member's cross-entropy per row: logits (K, N, C), labels (N) -> (K, N).
torch::Tensor member_token_losses(const torch::Tensor& logits, const torch::Tensor& labels);

// Each member's mean cross-entropy: logits (K, N, C), labels (N) -> (K).
torch::Tensor member_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// Each member's mean cross-entropy (classification) or mean squared error (regression, one output), as
// Hugging Face computes it for one model: logits (K, B, num_labels) -> (K).
torch::Tensor task_loss(const ModelConfig& config, const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace healbert
