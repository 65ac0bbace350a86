// A sequence-classification model on one device: its parameters (fp32 master copies, named as in Hugging
// Face checkpoints), its optimizer, and the batch-level operations (one call per training step, one per
// evaluation batch). Plain libtorch: the Node binding wraps it, tests and benchmarks could use it directly.
//
// A model is a fleet of K members of one architecture (K = 1: a solo model, the same code path). Every
// parameter is stored stacked, (K, ...) (layout() gives one member's shapes); the members see the same
// batches and the same dropout masks and differ in their weights, their trainable sets and their
// learning-rate scales. Each member's gradient is what it would be alone (the loss is the sum of the
// members' mean losses), the optimizer is elementwise and clips by each member's own norm, so a member of a
// fleet trains as the same model alone would, with its matrix products batched with the others'.
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
#include "engine/layer_states.h"
#include "engine/layout.h"

namespace healbert {

struct StepResult {
  std::vector<double> loss;       // per member: mean over the step's examples (micro-batch losses averaged)
  std::vector<double> grad_norm;  // per member: its global gradient norm before clipping (0 when inactive)
  double lr = 0;                  // learning rate used
  int64_t step = 0;               // optimizer steps taken, including this one
};

struct Gradients {
  std::vector<double> loss;          // per member
  std::vector<torch::Tensor> grads;  // aligned with layout(), stacked (K, ...); CPU float32; undefined where none
  // ELECTRA pre-training: the generator's MLM loss and the discriminator's replaced-token-detection loss (the
  // loss is generator + rtd_weight * discriminator); empty otherwise.
  std::vector<double> parts;
};

// ELECTRA pre-training on one masked batch, evaluated: the generator's summed MLM cross-entropy and correct
// predictions over the masked positions, and the discriminator's logit and label (1: replaced) for every real
// token, with the generator's samples as replacements.
struct ElectraEvaluation {
  double generator_loss_sum = 0;
  int64_t generator_correct = 0;
  int64_t masked = 0;
  std::vector<float> rtd_logits;
  std::vector<uint8_t> rtd_labels;
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
  std::vector<double> loss_sum;  // per member: summed cross-entropy over the labelled positions
  std::vector<int64_t> correct;  // per member: labelled positions predicted exactly
  int64_t count = 0;             // labelled positions
};

class Model {
 public:
  // fused_attention: scaled_dot_product_attention where libtorch has it (2.x); false: the explicit formula.
  // pack_padding: the per-token layers run on a padded batch's real tokens only (encoder.cc).
  // members: K, the fleet's size (1: a solo model). Every member starts from the same initialisation.
  Model(ModelConfig config, torch::Device device, torch::ScalarType compute, uint64_t seed, bool fused_attention = true,
        bool pack_padding = true, int64_t members = 1);

  const ModelConfig& config() const { return config_; }
  const std::vector<ParamSpec>& layout() const { return layout_; }
  // Stacked (K, ...). Handing them out for writing marks the bf16 compute copies stale.
  std::vector<torch::Tensor>& tensors() {
    copies_stale_ = true;
    return tensors_;
  }
  int64_t members() const { return members_; }
  // Views of one member's parameters, aligned with layout() (in-place changes show through, so the bf16
  // compute copies are marked stale).
  std::vector<torch::Tensor> member_tensors(int64_t member) const;
  // True when the forward pass reads bf16 copies of the matrix weights (bf16 compute on the CPU).
  bool has_compute_copies() const { return !compute_copy_indices_.empty(); }
  // A member whose training diverged is deactivated: it takes no more optimizer steps and its loss no
  // longer drives the backward pass; the others go on.
  void set_member_active(int64_t member, bool active);
  const torch::Device& device() const { return device_; }
  torch::ScalarType compute_dtype() const { return compute_; }
  bool fused_attention() const { return fused_attention_; }
  bool pack_padding() const { return pack_padding_; }
  // "fused", "foreach", or "" before configure_training.
  bool clips_on_device() const { return optimizer_ && optimizer_->clips_on_device(); }
  std::string optimizer_kind() const {
    if (!optimizer_) return "";
    return optimizer_->fused() ? "fused" : optimizer_->one_pass() ? "one-pass" : "foreach";
  }

  // Copies tensors from a checkpoint file into the parameters (converting to float32): into one member, or
  // into every member when member is -1.
  void load_from_file(const std::string& path, const std::vector<FileTensor>& entries, int64_t member = -1);
  // Writes `header` (the safetensors JSON, already padded) then one member's listed tensors in `dtypes`.
  void save_to_file(const std::string& path, const std::string& header, const std::vector<size_t>& order,
                    const std::vector<torch::ScalarType>& dtypes, const std::vector<TensorSlot>& slots = {},
                    int64_t member = 0);

  // Optimizer counters for checkpoints: steps taken, and per optimizer slot (trainable parameter in layout
  // order, then member) its steps.
  std::pair<int64_t, std::vector<int64_t>> optimizer_counters() const;
  void restore_optimizer_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps);

  torch::Tensor get_parameter(size_t index, int64_t member = 0) const;  // CPU float32 copy of one member's
  // One member's value (member -1: every member's).
  void set_parameter(size_t index, const torch::Tensor& value, int64_t member = -1);

  // Freezing and per-parameter optimizer settings, per member: trainable and lr_scales hold one entry per
  // parameter (every member alike) or K x P entries, member-major. Resets the optimizer state and
  // reactivates every member.
  void configure_training(const AdamWOptions& options, const std::vector<bool>& trainable,
                          const std::vector<double>& lr_scales);

  // Forward + backward over the micro-batches (gradient accumulation), clip, one AdamW step.
  StepResult train_step(const std::vector<HostBatch>& micro_batches, bool dropout);

  // Loss and gradients for one batch, without an optimizer step (for tests and attribution). An ELECTRA
  // pre-training model takes the generator's replacements from `samples` (one token id per masked position,
  // in position order) when given, instead of drawing them.
  Gradients loss_and_gradients(const HostBatch& batch, bool dropout, const std::vector<int32_t>& samples = {});

  // ELECTRA pre-training: evaluation mode, replacements drawn with `sample_seed` (the same seed, the same draws).
  ElectraEvaluation evaluate_electra(const HostBatch& batch, uint64_t sample_seed);

  // (K, B, num_labels) logits or (K, B, H) first-token states, CPU float32, in evaluation mode.
  torch::Tensor predict(const HostBatch& batch, PredictOutput output);

  // predict(kLogits) and, from the same pass, every layer's pooled states (engine/layer_states.h).
  LayerPrediction predict_layers(const HostBatch& batch);

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
  int64_t members_ = 1;
  std::vector<bool> active_;
  std::vector<ParamSpec> layout_;
  std::vector<torch::Tensor> tensors_;
  Weights weights_;
  // bf16 mixed precision on the CPU: a bf16 copy of every tensor the matrix products read (linear weights and
  // biases; the word embeddings when they are the tied MLM decoder), made once per change of the float32
  // master instead of once per use (autocast's cast per forward pass). The forward pass binds
  // compute_weights_ (the copies where there are some, the masters elsewhere: embeddings and LayerNorms
  // stay float32, as under autocast). The copies are leaves: their bf16 gradients are what autocast's cast
  // would have handed back to the master, and AdamW reads them (adamw.h) and rewrites the copies in its
  // update. Anything else that writes the masters marks the copies stale; the next forward pass refreshes them.
  std::vector<torch::Tensor> copies_;  // aligned with tensors_, undefined where none
  std::vector<size_t> compute_copy_indices_;
  Weights compute_weights_;
  // ELECTRA pre-training: the generator as a config of its own (generator_view), the model's tensors it uses,
  // and its weights (float32 masters, and the compute copies where there are some).
  ModelConfig gen_config_;
  std::vector<size_t> gen_indices_;
  Weights gen_weights_, gen_compute_weights_;
  mutable bool copies_stale_ = true;
  torch::Device device_;
  torch::ScalarType compute_;
  at::Generator dropout_generator_;
  uint64_t seed_;
  bool fused_attention_;
  bool pack_padding_;
  std::unique_ptr<AdamW> optimizer_;
  std::vector<int64_t> optimizer_slot_;  // layout index -> AdamW slot, -1 when frozen
  std::map<std::string, std::vector<torch::Tensor>> snapshots_;

  void initialise(uint64_t seed);
  void make_compute_copies();
  // The weights the forward pass reads, the copies refreshed first where stale.
  const Weights& forward_weights();
  // The generator's weights (after forward_weights(), which refreshes the copies they share).
  const Weights& generator_weights() const;
  // Binds the generator's weights from the model's tensors (or their compute copies), as bind_weights does.
  Weights bind_generator(const std::vector<torch::Tensor>& tensors) const;
  // ELECTRA pre-training (model_electra.cc): the generator's MLM loss and the discriminator's RTD loss on a
  // masked batch, with replacements drawn from the generator's softmax by `sample_seed`, or `forced`.
  struct ElectraLoss {
    torch::Tensor generator, discriminator;  // float32 scalars
    torch::Tensor samples;                   // (N) int64 replacement per masked position
    torch::Tensor rtd_logits, replaced;      // (B, T) float32 logits, (B, T) float32 labels
  };
  ElectraLoss electra_loss(const DeviceBatch& batch, const ForwardContext& ctx, uint64_t sample_seed,
                           const torch::Tensor& forced);
  // Folds the copies' bf16 gradients into their masters' float32 gradients: every one (all), or only where
  // the master has a gradient of its own too (the tied word embeddings: lookup and decoder).
  void fold_copy_gradients(bool all);
  ForwardContext context(bool training);
  // Each member's training loss on one batch, (K): classification/regression, or MLM when it carries
  // mlm_labels.
  torch::Tensor batch_loss(const DeviceBatch& batch, bool is_mlm, const ForwardContext& ctx);
  void zero_grad();
  // The active members' indices on the device, or undefined when every member is active.
  torch::Tensor driving_members() const;
  torch::Tensor& target_of(size_t index, TensorSlot slot);  // stacked
  void check_member(int64_t member, bool allow_all) const;
};

}  // namespace healbert
