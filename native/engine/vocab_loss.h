// Cross-entropy over a large vocabulary without its (N, V) logits in memory.
//
// The MLM head's last product, states (N, H) x decoder (V, H)^T + bias, feeds a softmax over V = 30,522
// words. Done as one product, the logits and every tensor the loss and its backward derive from them are
// (N, V): at 40% masking of a 64 x 128 batch, 300 MB each in float32. A profile of a 4 x 256 BERT's bf16
// pre-training step on the CPU had over 90% of the time in their casts, log-softmax, softmax backward and
// the page faults of allocating them, against a few percent in matrix products. Here the rows go through in
// chunks: each chunk's logits, loss and logit gradient are made and used at once (the gradient is known in
// the forward pass: softmax minus one-hot), and only the gradients for the states (N, H), the decoder
// (V, H) and the bias (V) are kept for the backward pass.
//
// Semantics are those of cross_entropy(linear(states, decoder, bias).to(float32), labels), mean over rows:
// the products run in the compute dtype, the softmax in float32, the logit gradient is cast to the compute
// dtype before the products of the backward pass, as autograd casts it. The decoder's and the bias's
// gradients add the chunks in float32.
#pragma once

#include <torch/torch.h>

namespace healbert {

// Mean cross-entropy (a float32 scalar, differentiable in states, decoder and bias): states (N, H) in the
// compute dtype, decoder (V, H), bias (V), labels (N) int64 in [0, V).
// With `uniforms` (N, float32 in [0, 1)) it also draws one word per row from that row's softmax, by inverse
// transform (the first word whose cumulative probability exceeds the row's uniform: sample_words), into
// `samples` (N, int64): the ELECTRA generator's replacements, made while the chunk's probabilities exist.
torch::Tensor chunked_vocab_cross_entropy(const torch::Tensor& states, const torch::Tensor& decoder,
                                          const torch::Tensor& bias, const torch::Tensor& labels,
                                          torch::ScalarType compute, const torch::Tensor& uniforms = {},
                                          const torch::Tensor& samples = {});

// One word per row of probabilities (C, V), float32: the first index whose cumulative probability exceeds the
// row's uniform (C) -> (C) int64.
torch::Tensor sample_words(const torch::Tensor& probabilities, const torch::Tensor& uniforms);

// Summed cross-entropy (float64) and the number of rows whose largest logit is the label, without autograd
// and without the (N, V) logits; for evaluation.
std::pair<double, int64_t> chunked_vocab_loss_and_correct(const torch::Tensor& states, const torch::Tensor& decoder,
                                                          const torch::Tensor& bias, const torch::Tensor& labels,
                                                          torch::ScalarType compute);

}  // namespace healbert
