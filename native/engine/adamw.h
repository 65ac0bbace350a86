// AdamW with decoupled weight decay (torch.optim.AdamW's arithmetic), the linear warm-up/decay schedule of
// transformers' get_linear_schedule_with_warmup, and clipping by global gradient norm
// (torch.nn.utils.clip_grad_norm_). Multi-tensor (foreach) kernels everywhere; the fused AdamW kernel
// where libtorch has it (CUDA 2.2+, CPU 2.4+, on request).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace healbert {

struct AdamWOptions {
  double lr = 2e-5;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;     // 0: no decay after warm-up
  double max_grad_norm = 1.0;  // <= 0: no clipping
  bool allow_fused = true;     // use the fused kernel on CUDA when libtorch has it (2.2+)
  bool fused_on_cpu = false;   // ... and on the CPU too (libtorch 2.4+); off by default, as torch.optim's is
  bool clip_on_device = true;  // clip with a device-side factor where libtorch can (2.1+): no host sync
};

struct ParamTraining {
  bool decay = true;      // weight decay applies
  double lr_scale = 1.0;  // multiplies the scheduled learning rate (layer-wise rates)
};

class AdamW {
 public:
  // `params`: the trainable leaf tensors; `traits`: one entry per param.
  AdamW(std::vector<torch::Tensor> params, std::vector<ParamTraining> traits, AdamWOptions options);

  // Learning-rate multiplier of the schedule at optimizer step `step` (0-based), as transformers computes it.
  double schedule(int64_t step) const;

  // Clips gradients in place; returns the global norm before clipping (a 0-dim device tensor).
  torch::Tensor clip_gradients();

  // One update of every parameter that has a gradient. Returns the learning rate used.
  double step();

  int64_t steps_taken() const { return steps_taken_; }

  // State for checkpoints, per optimizer slot (the order of `params` given to the constructor).
  torch::Tensor& exp_avg(size_t slot) { return exp_avg_.at(slot); }
  torch::Tensor& exp_avg_sq(size_t slot) { return exp_avg_sq_.at(slot); }
  const std::vector<int64_t>& param_steps() const { return param_steps_; }
  // Restores the step counters (after the moments were copied in through exp_avg / exp_avg_sq).
  void restore_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps);
  bool fused() const { return use_fused_; }
  // True when clipping scales gradients by a device tensor (no host synchronisation).
  bool clips_on_device() const;

 private:
  struct Group {
    double lr_scale;
    double weight_decay;
    std::vector<size_t> members;  // indices into params_
  };
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::vector<int64_t> param_steps_;         // per-parameter step counts, as torch keeps them
  std::vector<torch::Tensor> step_tensors_;  // the same, as float32 device scalars for the fused kernel
  std::vector<Group> groups_;
  AdamWOptions options_;
  int64_t steps_taken_ = 0;
  bool use_fused_ = false;

  void step_group_foreach(const Group& group, const std::vector<size_t>& active, double lr);
  void step_group_fused(const Group& group, const std::vector<size_t>& active, double lr);
};

}  // namespace healbert
