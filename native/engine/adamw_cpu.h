// AdamW's update of one parameter slice in one pass over memory, on the CPU: the clipping factor, weight
// decay, both moments, the bias-corrected step and (in bf16 mixed precision) the refresh of the parameter's
// bf16 compute copy, element by element.
//
// Why: libtorch's multi-tensor (foreach) ops fall back to one kernel per op and tensor on the CPU, so the
// foreach update made about ten passes over every parameter, moment and gradient (about 90 bytes of memory
// traffic per parameter; with clipping and the bf16 casts about 105); this pass moves 28 to 30 bytes. The
// fused kernel libtorch has from 2.4 on needs the gradient in the parameter's dtype and is absent from
// Debian's 1.13, which this runs on too.
#pragma once

#include <torch/torch.h>

namespace healbert {

struct AdamWCpuScalars {
  float grad_scale = 1.0f;  // the clipping factor, min(1, max_norm / (norm + 1e-6))
  float decay = 1.0f;       // 1 - lr * weight_decay
  float beta1 = 0.9f, one_minus_beta1 = 0.1f;
  float beta2 = 0.999f, one_minus_beta2 = 0.001f;
  float bias2_sqrt = 1.0f;  // sqrt(1 - beta2^step)
  float eps = 1e-8f;
  float step_size = 0.0f;  // lr / (1 - beta1^step)
};

// True when adamw_cpu_step can update these: CPU, float32 and contiguous, the gradient float32 or bfloat16
// and contiguous, the copy undefined or a contiguous bfloat16 tensor of the same size.
bool adamw_cpu_supports(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& copy);

// param, exp_avg, exp_avg_sq: float32 (N...); grad: float32 or bfloat16, same size; copy: bfloat16 or
// undefined. Per element, in float32 and in torch.optim.AdamW's order:
//   g = grad * grad_scale; p *= decay; m = m * b1 + (1 - b1) g; v = v * b2 + (1 - b2) g g;
//   p -= step_size * m / (sqrt(v) / bias2_sqrt + eps); copy = bf16(p) (round to nearest even)
void adamw_cpu_step(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                    const torch::Tensor& exp_avg_sq, const torch::Tensor& copy, const AdamWCpuScalars& s);

}  // namespace healbert
