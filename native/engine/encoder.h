// The forward pass of BERT, RoBERTa and DistilBERT with their sequence-classification heads, following
// Hugging Face transformers' semantics (post-LayerNorm encoder; heads as in *ForSequenceClassification).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "engine/batch.h"
#include "engine/config.h"
#include "engine/layout.h"
#include "engine/ops.h"

namespace healbert {

struct LayerWeights {
  torch::Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;  // attention projections, (H, H) and (H)
  torch::Tensor ln1_w, ln1_b;                            // after attention
  torch::Tensor i_w, i_b;                                // (I, H), (I)
  torch::Tensor out_w, out_b;                            // (H, I), (H)
  torch::Tensor ln2_w, ln2_b;                            // after the FFN
};

// Handles onto the model's parameter tensors (shared storage: in-place updates show through).
struct Weights {
  torch::Tensor word, position, token_type;  // token_type undefined for DistilBERT
  torch::Tensor emb_ln_w, emb_ln_b;
  std::vector<LayerWeights> layers;
  torch::Tensor pool_w, pool_b;                              // BERT's pooler
  torch::Tensor head_w, head_b;                              // RoBERTa classifier.dense, DistilBERT pre_classifier
  torch::Tensor cls_w, cls_b;                                // the final projection to num_labels
  torch::Tensor mlm_w, mlm_b, mlm_ln_w, mlm_ln_b, mlm_bias;  // BERT's MLM head, when present
  torch::Tensor mlm_dec_w, mlm_dec_b;                        // its own decoder, when untied
  torch::Tensor tied_decoder;  // the tied decoder's weight: `word`, or its bf16 compute copy (model.h)
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

// The MLM head up to its decoder, at the labelled positions: hidden (K, B, T, H), labels (B, T) with -100
// where unlabelled -> the transformed states (K, N, H) for the N labelled positions, and their labels (N).
std::pair<torch::Tensor, torch::Tensor> mlm_states(const ModelConfig& config, const Weights& w,
                                                   const torch::Tensor& hidden, const torch::Tensor& labels,
                                                   const ForwardContext& ctx);

// The MLM decoder's weight (K, V, H) and bias (K, V): the word embeddings when tied.
std::pair<torch::Tensor, torch::Tensor> mlm_decoder(const ModelConfig& config, const Weights& w);

// MLM logits at the labelled positions: hidden (K, B, T, H), labels (B, T) with -100 where unlabelled
// -> (K, N, V) for the N labelled positions, and their labels (N).
std::pair<torch::Tensor, torch::Tensor> mlm_logits(const ModelConfig& config, const Weights& w,
                                                   const torch::Tensor& hidden, const torch::Tensor& labels,
                                                   const ForwardContext& ctx);

// Each member's cross-entropy per row: logits (K, N, C), labels (N) -> (K, N).
torch::Tensor member_token_losses(const torch::Tensor& logits, const torch::Tensor& labels);

// Each member's mean cross-entropy: logits (K, N, C), labels (N) -> (K).
torch::Tensor member_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// Each member's mean cross-entropy (classification) or mean squared error (regression, one output), as
// Hugging Face computes it for one model: logits (K, B, num_labels) -> (K).
torch::Tensor task_loss(const ModelConfig& config, const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace healbert
