// A batch as it arrives from JavaScript (host memory, copied at the boundary) and as the model uses it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "engine/config.h"

namespace healbert {

struct HostBatch {
  int64_t batch_size = 0;                // B
  int64_t seq_len = 0;                   // T
  std::vector<int32_t> input_ids;        // (B*T)
  std::vector<uint8_t> attention_mask;   // (B*T), empty: all ones
  std::vector<int32_t> token_type_ids;   // (B*T), empty: all zeros
  std::vector<int32_t> class_labels;     // (B) for classification
  std::vector<float> regression_labels;  // (B) for regression
  std::vector<int32_t> mlm_labels;       // (B*T) original ids at masked positions, -100 elsewhere (MLM)
  bool has_labels() const { return !class_labels.empty() || !regression_labels.empty() || !mlm_labels.empty(); }
  bool is_mlm() const { return !mlm_labels.empty(); }
};

struct DeviceBatch {
  torch::Tensor input_ids;       // (B, T) int64
  torch::Tensor key_mask;        // (B, T) bool, or undefined when no position is padding
  torch::Tensor token_type_ids;  // (B, T) int64, or undefined (all zeros)
  torch::Tensor labels;          // (B) int64 or float32, or undefined
  torch::Tensor mlm_labels;      // (B, T) int64 with -100 where unlabelled, or undefined
  // Index lists made on the host, where the mask and labels are still host arrays, so that the forward pass
  // never waits for the device to count them (a nonzero() on CUDA is a host synchronisation, which stalls the
  // launch queue mid-step):
  torch::Tensor real_rows;      // (N) int64, the positions in B * T whose mask is 1; defined with key_mask
  torch::Tensor mlm_positions;  // (M) int64, the positions in B * T that mlm_labels labels; defined with it
};

// Checks the batch against the model (shapes, id ranges, label ranges) and throws ERR_SHAPE /
// ERR_ARGUMENT naming the first offending row and value. Out-of-range ids must never reach an embedding
// lookup: on CUDA that is a device-side assert that poisons the whole process.
void validate_batch(const HostBatch& batch, const ModelConfig& config, bool need_labels);

DeviceBatch to_device(const HostBatch& batch, const torch::Device& device);

}  // namespace healbert
