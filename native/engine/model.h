// A sequence-classification model on one device: its parameters (fp32 master copies, named as in Hugging
// Face checkpoints), its optimizer, and the batch-level operations (one call per training step, one per
// evaluation batch). Plain libtorch: the Node binding wraps it, tests and benchmarks could use it directly.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/adamw.h"
#include "engine/batch.h"
#include "engine/config.h"
#include "engine/encoder.h"
#include "engine/layout.h"

namespace healbert {

struct StepResult {
  double loss = 0;       // mean over the step's examples (micro-batch losses averaged)
  double grad_norm = 0;  // global gradient norm before clipping
  double lr = 0;         // learning rate used
  int64_t step = 0;      // optimizer steps taken, including this one
};

struct Gradients {
  double loss = 0;
  std::vector<torch::Tensor> grads;  // aligned with layout(); CPU float32; undefined where no gradient
};

// Which tensor of a parameter a file entry holds: its value, or its AdamW moments.
enum class TensorSlot { kValue, kExpAvg, kExpAvgSq };

// Where a tensor lives in a checkpoint file (absolute byte offset) and how it is stored.
struct FileTensor {
  size_t index;  // into layout()
  TensorSlot slot = TensorSlot::kValue;
  torch::ScalarType dtype;  // kFloat32, kFloat16 or kBFloat16
  int64_t offset;           // bytes from the start of the file
  int64_t nbytes;
};

// kMlm: the MLM head's logits at the positions the batch's mlmLabels label, (N, V).
enum class PredictOutput { kLogits, kCls, kMlm };

struct MlmEvaluation {
  double loss_sum = 0;  // summed cross-entropy over the labelled positions
  int64_t correct = 0;  // labelled positions predicted exactly
  int64_t count = 0;    // labelled positions
};

class Model {
 public:
  // fused_attention: scaled_dot_product_attention where libtorch has it (2.x); false: the explicit formula.
  // pack_padding: the per-token layers run on a padded batch's real tokens only (encoder.cc).
  Model(ModelConfig config, torch::Device device, torch::ScalarType compute, uint64_t seed, bool fused_attention = true,
        bool pack_padding = true);

  const ModelConfig& config() const { return config_; }
  const std::vector<ParamSpec>& layout() const { return layout_; }
  std::vector<torch::Tensor>& tensors() { return tensors_; }
  const torch::Device& device() const { return device_; }
  torch::ScalarType compute_dtype() const { return compute_; }
  bool fused_attention() const { return fused_attention_; }
  bool pack_padding() const { return pack_padding_; }
  // "fused", "foreach", or "" before configure_training.
  bool clips_on_device() const { return optimizer_ && optimizer_->clips_on_device(); }
  std::string optimizer_kind() const { return optimizer_ ? (optimizer_->fused() ? "fused" : "foreach") : ""; }

  // Copies tensors from a checkpoint file into the parameters (converting to float32).
  void load_from_file(const std::string& path, const std::vector<FileTensor>& entries);
  // Writes `header` (the safetensors JSON, already padded) then the listed tensors in `dtypes`.
  void save_to_file(const std::string& path, const std::string& header, const std::vector<size_t>& order,
                    const std::vector<torch::ScalarType>& dtypes, const std::vector<TensorSlot>& slots = {});

  // Optimizer counters for checkpoints: steps taken, and per trainable parameter (layout order) its steps.
  std::pair<int64_t, std::vector<int64_t>> optimizer_counters() const;
  void restore_optimizer_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps);

  torch::Tensor get_parameter(size_t index) const;  // CPU float32 copy
  void set_parameter(size_t index, const torch::Tensor& value);

  // Freezing and per-parameter optimizer settings; resets the optimizer state.
  void configure_training(const AdamWOptions& options, const std::vector<bool>& trainable,
                          const std::vector<double>& lr_scales);

  // Forward + backward over the micro-batches (gradient accumulation), clip, one AdamW step.
  StepResult train_step(const std::vector<HostBatch>& micro_batches, bool dropout);

  // Loss and gradients for one batch, without an optimizer step (for tests and attribution).
  Gradients loss_and_gradients(const HostBatch& batch, bool dropout);

  // (B, num_labels) logits or (B, H) first-token states, CPU float32, in evaluation mode.
  torch::Tensor predict(const HostBatch& batch, PredictOutput output);

  // Masked-language-model loss and accuracy on a batch with mlm_labels, in evaluation mode.
  MlmEvaluation evaluate_mlm(const HostBatch& batch);

  // Named copies of every parameter, on the model's device (e.g. the clean weights before corruption).
  void take_snapshot(const std::string& name);
  void drop_snapshot(const std::string& name);
  // Throws ERR_ARGUMENT when there is no snapshot of that name.
  const std::vector<torch::Tensor>& snapshot(const std::string& name) const;
  std::vector<std::string> snapshot_names() const;

 private:
  ModelConfig config_;
  std::vector<ParamSpec> layout_;
  std::vector<torch::Tensor> tensors_;
  Weights weights_;
  torch::Device device_;
  torch::ScalarType compute_;
  at::Generator dropout_generator_;
  uint64_t seed_;
  bool fused_attention_;
  bool pack_padding_;
  std::unique_ptr<AdamW> optimizer_;
  std::vector<bool> trainable_;
  std::vector<int64_t> optimizer_slot_;  // layout index -> AdamW slot, -1 when frozen
  std::map<std::string, std::vector<torch::Tensor>> snapshots_;

  void initialise(uint64_t seed);
  ForwardContext context(bool training);
  // The training loss of one batch: classification/regression, or MLM when it carries mlm_labels.
  torch::Tensor batch_loss(const DeviceBatch& batch, bool is_mlm, const ForwardContext& ctx);
  void zero_grad();
  torch::Tensor& target_of(size_t index, TensorSlot slot);
};

}  // namespace healbert
