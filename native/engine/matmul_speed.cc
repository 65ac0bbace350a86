#include "engine/matmul_speed.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "engine/device.h"
#include "engine/errors.h"

namespace healbert {

namespace {

// Best wall time in ms of `reps` products a @ b, after one untimed warm-up (which lets oneDNN build and
// cache its kernel for these shapes, and brings the operands into cache as a training step would find them).
double best_ms(const torch::Tensor& a, const torch::Tensor& b, const torch::Device& device, int64_t reps) {
  auto out = torch::mm(a, b);
  synchronize(device);
  double best = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    torch::mm_out(out, a, b);
    synchronize(device);
    const auto stop = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(stop - start).count());
  }
  return best;
}

}  // namespace

MatmulSpeed matmul_speed(const std::string& device_name, int64_t m, int64_t k, int64_t n, int64_t reps) {
  for (const auto& [name, side] : {std::pair<const char*, int64_t>{"m", m}, {"k", k}, {"n", n}}) {
    HB_CHECK(side >= 1 && side <= 8192, code::kArgument, "matmul speed: ", name, " must be in [1, 8192], got ", side);
  }
  HB_CHECK(reps >= 1 && reps <= 50, code::kArgument, "matmul speed: reps must be in [1, 50], got ", reps);
  const torch::Device device = parse_device(device_name);
  torch::NoGradGuard no_grad;

  // (m, k) @ (k, n), unit-variance entries; the bf16 operands are the float32 ones rounded.
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(1234);
  auto a = torch::randn({m, k}, gen, torch::kFloat32).to(device);
  auto b = torch::randn({k, n}, gen, torch::kFloat32).to(device);

  MatmulSpeed result;
  result.device = device.str();
  result.m = m;
  result.k = k;
  result.n = n;
  result.reps = reps;
  result.float32_ms = best_ms(a, b, device, reps);
  result.bfloat16_ms = best_ms(a.to(torch::kBFloat16), b.to(torch::kBFloat16), device, reps);
  return result;
}

}  // namespace healbert
