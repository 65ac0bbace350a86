#include "engine/layer_states.h"

#include <vector>

#include "engine/encoder.h"
#include "engine/errors.h"
#include "engine/model.h"

namespace healbert {

torch::Tensor pool_layer_states(const torch::Tensor& states, const torch::Tensor& key_mask) {
  TORCH_CHECK(states.dim() == 4, "layer states must be (K, B, T, H), got ", states.sizes());
  auto first = states.select(2, 0);  // (K, B, H)
  torch::Tensor mean;
  if (key_mask.defined()) {
    TORCH_CHECK(key_mask.size(0) == states.size(1) && key_mask.size(1) == states.size(2), "key mask ", key_mask.sizes(),
                " does not match layer states ", states.sizes());
    const auto weight = key_mask.to(states.scalar_type()).unsqueeze(0).unsqueeze(-1);  // (1, B, T, 1)
    // Padded positions hold zeros (packed) or values nobody reads (unpacked): the mask takes them out.
    const auto sums = (states * weight).sum(2, /*keepdim=*/false, torch::kFloat64);  // (K, B, H)
    const auto counts = key_mask.sum(1).to(torch::kFloat64).clamp_min(1).view({1, -1, 1});
    mean = (sums / counts).to(torch::kFloat32);
  } else {
    mean =
        (states.sum(2, /*keepdim=*/false, torch::kFloat64) / static_cast<double>(states.size(2))).to(torch::kFloat32);
  }
  return torch::stack({mean, first.to(torch::kFloat32)}, 1);  // (K, 2, B, H)
}

torch::Tensor centred_gram(const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 2, "features must be (n, d), got ", features.sizes());
  const auto x = features.to(torch::kFloat64);
  const auto centred = x - x.mean(0, /*keepdim=*/true);  // (n, d)
  return centred.mm(centred.t());                        // (n, n)
}

LayerPrediction Model::predict_layers(const HostBatch& host) {
  validate_batch(host, config_, /*need_labels=*/false);
  const Weights& w = forward_weights();  // refreshed outside inference mode
  c10::InferenceMode inference;
  const DeviceBatch batch = to_device(host, device_);
  std::vector<torch::Tensor> pooled;  // L + 1 of (K, 2, B, H)
  const LayerObserver observe = [&](const torch::Tensor& states) {
    pooled.push_back(pool_layer_states(states, batch.key_mask));
  };
  auto result = forward(config_, w, batch, context(false), &observe);
  HB_CHECK(static_cast<int64_t>(pooled.size()) == config_.num_layers + 1, code::kInternal, "expected ",
           config_.num_layers + 1, " layer states, got ", pooled.size());
  LayerPrediction out;
  out.logits = result.logits.to(torch::kCPU, torch::kFloat32).contiguous();
  out.layers = torch::stack(pooled, 1).to(torch::kCPU).contiguous();  // (K, L + 1, 2, B, H)
  return out;
}

}  // namespace healbert
