#include "engine/adamw.h"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "engine/adamw_cpu.h"
#include "engine/errors.h"

// at::_fused_adamw_ (multi-tensor CUDA kernel) is public from libtorch 2.2 on; _foreach_mul_ with a tensor
// factor from 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
#define HEALBERT_HAS_FUSED_ADAMW 1
#endif
// The fused kernel's CPU implementation arrived in 2.4.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define HEALBERT_HAS_FUSED_ADAMW_CPU 1
#endif
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define HEALBERT_HAS_TENSOR_FOREACH_MUL 1
#endif

namespace healbert {

AdamW::AdamW(std::vector<torch::Tensor> params, std::vector<OptimizerSlot> slots, int64_t members, AdamWOptions options,
             std::vector<torch::Tensor> compute_copies)
    : params_(std::move(params)),
      copies_(std::move(compute_copies)),
      slots_(std::move(slots)),
      members_(members),
      options_(options),
      pending_grad_scale_(static_cast<size_t>(members), 1.0f) {
  torch::NoGradGuard no_grad;
  copies_.resize(params_.size());
  for (const auto& p : params_) {
    HB_CHECK(p.dim() >= 1 && p.size(0) == members_, code::kInternal, "optimizer parameters must be stacked by member");
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
  std::map<std::pair<double, double>, size_t> group_of;
  for (size_t s = 0; s < slots_.size(); ++s) {
    const auto& slot = slots_[s];
    HB_CHECK(slot.param < params_.size() && slot.member >= 0 && slot.member < members_, code::kInternal,
             "optimizer slot out of range");
    value_.push_back(params_[slot.param].select(0, slot.member));
    avg_.push_back(exp_avg_[slot.param].select(0, slot.member));
    avg_sq_.push_back(exp_avg_sq_[slot.param].select(0, slot.member));
    param_steps_.push_back(0);
    const double wd = slot.training.decay ? options_.weight_decay : 0.0;
    const auto key = std::make_pair(slot.training.lr_scale, wd);
    auto found = group_of.find(key);
    if (found == group_of.end()) {
      found = group_of.emplace(key, groups_.size()).first;
      groups_.push_back(Group{slot.training.lr_scale, wd, {}});
    }
    groups_[found->second].members.push_back(s);
  }
#ifdef HEALBERT_HAS_FUSED_ADAMW
  bool cpu_allowed = false;
#ifdef HEALBERT_HAS_FUSED_ADAMW_CPU
  cpu_allowed = options_.fused_on_cpu;
#endif
  // libtorch's fused kernel needs the gradient in the param's dtype: not with bf16 compute copies.
  bool has_copies = false;
  for (const auto& c : copies_) has_copies = has_copies || c.defined();
  bool all_fp32_fusable = !params_.empty();
  for (const auto& p : params_) {
    all_fp32_fusable =
        all_fp32_fusable && p.scalar_type() == torch::kFloat32 && (p.is_cuda() || (p.is_cpu() && cpu_allowed));
  }
  use_fused_ = options_.allow_fused && all_fp32_fusable && !has_copies;
  if (use_fused_) {
    for (const auto& v : value_) step_tensors_.push_back(torch::zeros({}, v.options()));
  }
#endif
  bool one_pass = options_.one_pass_cpu && !use_fused_ && !params_.empty();
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    one_pass = one_pass && p.is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_contiguous() &&
               (!copies_[i].defined() || copies_[i].is_contiguous());
  }
  use_one_pass_ = one_pass;
}

torch::Tensor AdamW::grad_of(size_t slot, const std::vector<bool>& active) const {
  const auto& s = slots_[slot];
  if (!active.at(static_cast<size_t>(s.member))) return {};
  const auto& copy = copies_[s.param];
  const auto& grad = copy.defined() && copy.grad().defined() ? copy.grad() : params_[s.param].grad();
  return grad.defined() ? grad.select(0, s.member) : torch::Tensor();
}

void AdamW::restore_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps) {
  HB_CHECK(param_steps.size() == slots_.size(), code::kArgument,
           "one step count per trainable parameter expected, got ", param_steps.size(), " for ", slots_.size());
  torch::NoGradGuard no_grad;
  steps_taken_ = steps_taken;
  param_steps_ = param_steps;
  for (size_t i = 0; i < step_tensors_.size(); ++i) step_tensors_[i].fill_(static_cast<double>(param_steps_[i]));
}

double AdamW::schedule(int64_t step) const {
  const int64_t warmup = options_.warmup_steps;
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  if (options_.total_steps <= 0) return 1.0;
  const double remaining = static_cast<double>(options_.total_steps - step);
  return std::max(0.0, remaining / static_cast<double>(std::max<int64_t>(1, options_.total_steps - warmup)));
}

torch::Tensor AdamW::clip_gradients(const std::vector<bool>& active) {
  torch::NoGradGuard no_grad;
  // Each member's gradient slices, in slot order.
  std::vector<std::vector<torch::Tensor>> grads(static_cast<size_t>(members_));
  for (size_t s = 0; s < slots_.size(); ++s) {
    auto g = grad_of(s, active);
    if (g.defined()) grads[static_cast<size_t>(slots_[s].member)].push_back(g);
  }
  const auto device = params_.empty() ? torch::Device(torch::kCPU) : params_.front().device();
  std::vector<torch::Tensor> norms;
  for (size_t k = 0; k < grads.size(); ++k) {
    auto& member = grads[k];
    if (member.empty()) {
      norms.push_back(torch::zeros({}, torch::TensorOptions().device(device)));
      continue;
    }
    // ||g|| over the member's parameters = || (||g_1||, ..., ||g_n||) ||. bf16 gradients (of compute
    // copies) are normed in float32, as clip_grad_norm_ norms autocast's float32 gradients.
    std::vector<torch::Tensor> fp32, partial;
    for (const auto& g : member) {
      if (g.scalar_type() == torch::kFloat32) {
        fp32.push_back(g);
      } else {
        partial.push_back(at::linalg_vector_norm(g, 2, c10::nullopt, false, torch::kFloat32));
      }
    }
    if (!fp32.empty()) {
      auto norms_fp32 = at::_foreach_norm(fp32, 2);
      partial.insert(partial.begin(), norms_fp32.begin(), norms_fp32.end());
    }
    auto total = torch::stack(partial).norm();
    norms.push_back(total);
    if (options_.max_grad_norm <= 0) continue;
    // As clip_grad_norm_: scale by min(1, max_norm / (norm + 1e-6)), without a host synchronisation.
    auto coef = (options_.max_grad_norm / (total + 1e-6)).clamp_max(1.0);
    if (use_one_pass_) {  // a CPU value: applied as the update reads each gradient
      pending_grad_scale_[k] = coef.item<float>();
      continue;
    }
#ifdef HEALBERT_HAS_TENSOR_FOREACH_MUL
    if (options_.clip_on_device) {
      at::_foreach_mul_(member, coef);  // stays on the device: no synchronisation
      continue;
    }
#endif
    at::_foreach_mul_(member, coef.item());  // 1.13 has no tensor-scalar foreach multiply
  }
  return torch::stack(norms);
}

bool AdamW::clips_on_device() const {
#ifdef HEALBERT_HAS_TENSOR_FOREACH_MUL
  return options_.clip_on_device;
#else
  return false;
#endif
}

double AdamW::step(const std::vector<bool>& active_members) {
  torch::NoGradGuard no_grad;
  const double lr = options_.lr * schedule(steps_taken_);
  std::vector<torch::Tensor> grads;  // per slot, looked up once
  for (size_t s = 0; s < slots_.size(); ++s) grads.push_back(grad_of(s, active_members));
  for (const auto& group : groups_) {
    std::vector<size_t> active;
    for (size_t s : group.members)
      if (grads[s].defined()) active.push_back(s);
    if (active.empty()) continue;
    if (use_one_pass_) {
      step_group_one_pass(group, active, grads, lr * group.lr_scale);
    } else if (use_fused_) {
      step_group_fused(group, active, grads, lr * group.lr_scale);
    } else {
      step_group_foreach(group, active, grads, lr * group.lr_scale);
    }
  }
  ++steps_taken_;
  std::fill(pending_grad_scale_.begin(), pending_grad_scale_.end(), 1.0f);
  return lr;
}

void AdamW::step_group_one_pass(const Group& group, const std::vector<size_t>& active,
                                const std::vector<torch::Tensor>& grads, double lr) {
  // The scalars in float32, as the foreach ops convert them (ops on float tensors compute in float).
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (size_t i : active) {
    const auto step = static_cast<double>(++param_steps_[i]);
    const auto& slot = slots_[i];
    AdamWCpuScalars s;
    s.grad_scale = pending_grad_scale_[static_cast<size_t>(slot.member)];
    s.decay = static_cast<float>(1.0 - lr * group.weight_decay);
    s.beta1 = static_cast<float>(b1);
    s.one_minus_beta1 = static_cast<float>(1.0 - b1);
    s.beta2 = static_cast<float>(b2);
    s.one_minus_beta2 = static_cast<float>(1.0 - b2);
    s.bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(b2, step)));
    s.eps = static_cast<float>(options_.eps);
    s.step_size = static_cast<float>(lr / (1.0 - std::pow(b1, step)));
    const auto& copy = copies_[slot.param];
    adamw_cpu_step(value_[i], grads[i], avg_[i], avg_sq_[i],
                   copy.defined() ? copy.detach().select(0, slot.member) : torch::Tensor(), s);
  }
}

void AdamW::step_group_foreach(const Group& group, const std::vector<size_t>& active,
                               const std::vector<torch::Tensor>& grads, double lr) {
  // Parameters of one group normally share a step count; split by count so bias corrections stay exact.
  std::map<int64_t, std::vector<size_t>> by_step;
  for (size_t i : active) by_step[++param_steps_[i]].push_back(i);
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (const auto& [step, members] : by_step) {
    std::vector<torch::Tensor> p, g, m, v;
    for (size_t i : members) {
      p.push_back(value_[i]);
      g.push_back(grads[i]);
      m.push_back(avg_[i]);
      v.push_back(avg_sq_[i]);
    }
    if (group.weight_decay != 0.0) at::_foreach_mul_(p, 1.0 - lr * group.weight_decay);
    at::_foreach_mul_(m, b1);
    at::_foreach_add_(m, g, 1.0 - b1);
    at::_foreach_mul_(v, b2);
    at::_foreach_addcmul_(v, g, g, 1.0 - b2);
    const double bias1 = 1.0 - std::pow(b1, static_cast<double>(step));
    const double bias2 = 1.0 - std::pow(b2, static_cast<double>(step));
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bias2));
    at::_foreach_add_(denom, options_.eps);
    at::_foreach_addcdiv_(p, m, denom, -lr / bias1);
  }
}

void AdamW::step_group_fused(const Group& group, const std::vector<size_t>& active,
                             const std::vector<torch::Tensor>& grads, double lr) {
#ifdef HEALBERT_HAS_FUSED_ADAMW
  std::vector<torch::Tensor> p, g, m, v, steps;
  for (size_t i : active) {
    ++param_steps_[i];
    p.push_back(value_[i]);
    g.push_back(grads[i]);
    m.push_back(avg_[i]);
    v.push_back(avg_sq_[i]);
    steps.push_back(step_tensors_[i]);
  }
  // The kernel reads the already-incremented step (torch.optim does the same increment first).
  at::_foreach_add_(steps, 1.0);
  at::_fused_adamw_(p, g, m, v, /*max_exp_avg_sqs=*/{}, steps, lr, options_.beta1, options_.beta2, group.weight_decay,
                    options_.eps, /*amsgrad=*/false, /*maximize=*/false);
#else
  step_group_foreach(group, active, grads, lr);
#endif
}

}  // namespace healbert
