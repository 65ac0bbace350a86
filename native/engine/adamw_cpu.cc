#include "engine/adamw_cpu.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>

#include "engine/errors.h"

namespace healbert {

namespace {

// Elements per parallel task: large enough that a task's start costs nothing next to its memory traffic.
constexpr int64_t kGrain = 1 << 15;

inline float to_float(float x) { return x; }
inline float to_float(c10::BFloat16 x) { return static_cast<float>(x); }

// The loop body is plain arithmetic on restrict pointers, which the compiler vectorises (this file is
// compiled with -fno-math-errno so that sqrt vectorises too; see CMakeLists.txt).
template <typename G, bool kCopy>
void update(float* __restrict p, const G* __restrict g, float* __restrict m, float* __restrict v,
            c10::BFloat16* __restrict copy, int64_t begin, int64_t end, const AdamWCpuScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    const float grad = to_float(g[i]) * s.grad_scale;
    const float mi = m[i] * s.beta1 + s.one_minus_beta1 * grad;
    const float vi = v[i] * s.beta2 + s.one_minus_beta2 * grad * grad;
    const float denom = std::sqrt(vi) / s.bias2_sqrt + s.eps;
    const float pi = p[i] * s.decay - s.step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
    if (kCopy) copy[i] = c10::BFloat16(pi);  // round to nearest even, as a cast does
  }
}

template <typename G>
void run(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
         const torch::Tensor& exp_avg_sq, const torch::Tensor& copy, const AdamWCpuScalars& s) {
  float* p = param.data_ptr<float>();
  const G* g = grad.data_ptr<G>();
  float* m = exp_avg.data_ptr<float>();
  float* v = exp_avg_sq.data_ptr<float>();
  c10::BFloat16* c = copy.defined() ? copy.data_ptr<c10::BFloat16>() : nullptr;
  at::parallel_for(0, param.numel(), kGrain, [&](int64_t begin, int64_t end) {
    if (c != nullptr) {
      update<G, true>(p, g, m, v, c, begin, end, s);
    } else {
      update<G, false>(p, g, m, v, c, begin, end, s);
    }
  });
}

}  // namespace

bool adamw_cpu_supports(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& copy) {
  const bool grad_ok = (grad.scalar_type() == torch::kFloat32 || grad.scalar_type() == torch::kBFloat16) &&
                       grad.is_cpu() && grad.is_contiguous() && grad.numel() == param.numel();
  const bool copy_ok = !copy.defined() || (copy.scalar_type() == torch::kBFloat16 && copy.is_contiguous() &&
                                           copy.numel() == param.numel());
  return param.is_cpu() && param.scalar_type() == torch::kFloat32 && param.is_contiguous() && grad_ok && copy_ok;
}

void adamw_cpu_step(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                    const torch::Tensor& exp_avg_sq, const torch::Tensor& copy, const AdamWCpuScalars& s) {
  HB_CHECK(adamw_cpu_supports(param, grad, copy) && exp_avg.is_contiguous() && exp_avg_sq.is_contiguous() &&
               exp_avg.scalar_type() == torch::kFloat32 && exp_avg_sq.scalar_type() == torch::kFloat32,
           code::kInternal, "adamw_cpu_step: unsupported tensors (param ", param.sizes(), " ", param.scalar_type(),
           ", grad ", grad.sizes(), " ", grad.scalar_type(), ")");
  if (grad.scalar_type() == torch::kBFloat16) {
    run<c10::BFloat16>(param, grad, exp_avg, exp_avg_sq, copy, s);
  } else {
    run<float>(param, grad, exp_avg, exp_avg_sq, copy, s);
  }
}

}  // namespace healbert
