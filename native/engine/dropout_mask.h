// Dropout masks on the CPU from counter-based random numbers (counter_random.h's Philox4x32-10): the mask of
// element e of one dropout call is a pure function of (the call's key, e). Drawn in parallel and in one pass
// (libtorch's CPU bernoulli_ draws one double per element, serially, from the model's generator: measured at
// about 9% of a bf16 bert-base training step on 2 cores), the same on every CPU (libtorch's own kernel takes
// another path on Intel CPUs with MKL), and a packed row's mask is computed for that row alone instead of
// drawing the whole padded layout and keeping some of it.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "engine/counter_random.h"

namespace healbert {

// The key of dropout call `call` of a training step seeded with `step_seed` (ForwardContext).
crng::Key dropout_key(uint64_t step_seed, uint64_t call);

// (shape) mask in `dtype` (float32 or bfloat16) for elements [0, numel): 0 where dropped (probability p),
// 1 / (1 - p) where kept. Element e is dropped when its Philox word is below mask_threshold(p).
torch::Tensor dropout_mask(torch::IntArrayRef shape, torch::ScalarType dtype, double p, crng::Key key);

// The same mask's rows `rows` ((N) int64 on the CPU) of a (layout_rows, width) layout -> (N, width): row j is
// elements rows[j] * width ... + width - 1 of the whole layout's mask.
torch::Tensor dropout_mask_rows(const torch::Tensor& rows, int64_t width, torch::ScalarType dtype, double p,
                                crng::Key key);

}  // namespace healbert
