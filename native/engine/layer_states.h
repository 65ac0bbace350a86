// Per-layer sentence representations for representation-similarity measures (CKA, src/measure/cka.ts): every
// layer's hidden states, from the embeddings' output to the last layer's, pooled over each sequence in two
// ways: the mean over its real tokens, and its first token ([CLS]). One evaluation-mode forward pass gives
// them together with the task head's logits, so a measurement can ride on an evaluation the cell runs anyway.
#pragma once

#include <torch/torch.h>

namespace healbert {

// One layer's states (K, B, T, H) float32 and the batch's key mask (B, T) bool (undefined: no padding)
// -> (K, 2, B, H) float32: [:, 0] the mean over real tokens (summed in float64), [:, 1] the first token.
torch::Tensor pool_layer_states(const torch::Tensor& states, const torch::Tensor& key_mask);

// The Gram matrix of n examples' representations with the features' means taken out (linear CKA's centred
// kernel): (n, d) -> (n, n), computed in float64 (src/measure/cka.ts does the rest of CKA).
torch::Tensor centred_gram(const torch::Tensor& features);

struct LayerPrediction {
  torch::Tensor logits;  // (K, B, num_labels) float32, CPU: what predict(kLogits) returns for the batch
  torch::Tensor layers;  // (K, L + 1, 2, B, H) float32, CPU: pool_layer_states of the embeddings and each layer
};

}  // namespace healbert
