// AdamW with decoupled weight decay (torch.optim.AdamW's arithmetic), the linear warm-up/decay schedule of
// transformers' get_linear_schedule_with_warmup, and clipping by global gradient norm
// (torch.nn.utils.clip_grad_norm_). On the CPU a one-pass update of our own (adamw_cpu.h); elsewhere
// multi-tensor (foreach) kernels, or the fused AdamW kernel where libtorch has it (CUDA 2.2+, CPU 2.4+ on
// request).
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
  // The one-pass CPU update (adamw_cpu.h) where every trained tensor is a contiguous float32 CPU tensor
  // (and fused_on_cpu did not ask for libtorch's kernel); false: the multi-tensor (foreach) ops.
  bool one_pass_cpu = true;
};

struct ParamTraining {
  bool decay = true;      // weight decay applies
  double lr_scale = 1.0;  // multiplies the scheduled learning rate (layer-wise rates)
};

// One trained slice: member `member` of stacked parameter `param` ((K, ...) tensors, ops.h). A solo model
// has one slot per trainable parameter; a fleet one per (parameter, member that trains it), so freezing and
// learning-rate scales are per member.
struct OptimizerSlot {
  size_t param;
  int64_t member;
  ParamTraining training;
};

class AdamW {
 public:
  // `params`: the trainable stacked leaf tensors (K, ...); `slots`: the member slices that train. The update
  // is elementwise, so each member's slice gets exactly the update it would get alone. `compute_copies`
  // (bf16 mixed precision on the CPU, model.h): per param, its bf16 copy that the forward pass uses, or
  // undefined. A param's gradient is its copy's (bf16) when the copy has one, else its own; the one-pass
  // update rewrites the copy from the updated param.
  AdamW(std::vector<torch::Tensor> params, std::vector<OptimizerSlot> slots, int64_t members, AdamWOptions options,
        std::vector<torch::Tensor> compute_copies = {});

  // Learning-rate multiplier of the schedule at optimizer step `step` (0-based), as transformers computes it.
  double schedule(int64_t step) const;

  // Clips each active member's gradients in place by that member's own global norm; returns the norms before
  // clipping, (K) on the device (0 for inactive members).
  torch::Tensor clip_gradients(const std::vector<bool>& active);

  // One update of every active member's slices that have a gradient. Returns the learning rate used.
  double step(const std::vector<bool>& active);

  int64_t steps_taken() const { return steps_taken_; }

  // State for checkpoints: the stacked moments of params[param] (the order given to the constructor), and
  // the step counts per slot.
  torch::Tensor& exp_avg(size_t param) { return exp_avg_.at(param); }
  torch::Tensor& exp_avg_sq(size_t param) { return exp_avg_sq_.at(param); }
  const std::vector<int64_t>& param_steps() const { return param_steps_; }
  // Restores the step counters (after the moments were copied in through exp_avg / exp_avg_sq).
  void restore_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps);
  bool fused() const { return use_fused_; }
  bool one_pass() const { return use_one_pass_; }
  // True when step() leaves every compute copy equal to its param (the one-pass update rewrites them).
  bool refreshes_copies() const { return use_one_pass_; }
  // True when clipping scales gradients by a device tensor (no host synchronisation).
  bool clips_on_device() const;

 private:
  struct Group {
    double lr_scale;
    double weight_decay;
    std::vector<size_t> members;  // indices into slots_
  };
  std::vector<torch::Tensor> params_;                // stacked leaves
  std::vector<torch::Tensor> copies_;                // per param: its bf16 compute copy, or undefined
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;  // stacked, as params_
  std::vector<OptimizerSlot> slots_;
  std::vector<torch::Tensor> value_, avg_, avg_sq_;  // per slot: its member's views of the above
  std::vector<int64_t> param_steps_;                 // per-slot step counts, as torch keeps them per parameter
  std::vector<torch::Tensor> step_tensors_;          // the same, as float32 device scalars for the fused kernel
  std::vector<Group> groups_;
  int64_t members_ = 1;
  AdamWOptions options_;
  int64_t steps_taken_ = 0;
  bool use_fused_ = false;
  bool use_one_pass_ = false;
  // Per member: the clipping factor clip_gradients found, applied by the one-pass update (which scales each
  // gradient as it reads it instead of rewriting the gradients first).
  std::vector<float> pending_grad_scale_;

  // The slot's gradient slice, or undefined when its parameter has no gradient or its member is inactive.
  torch::Tensor grad_of(size_t slot, const std::vector<bool>& active) const;

  // `active`: the group's slots that step; `grads`: every slot's gradient slice (grad_of).
  void step_group_foreach(const Group& group, const std::vector<size_t>& active,
                          const std::vector<torch::Tensor>& grads, double lr);
  void step_group_one_pass(const Group& group, const std::vector<size_t>& active,
                           const std::vector<torch::Tensor>& grads, double lr);
  void step_group_fused(const Group& group, const std::vector<size_t>& active, const std::vector<torch::Tensor>& grads,
                        double lr);
};

}  // namespace healbert
