#include "engine/runtime_info.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>

#include "engine/device.h"
#include "engine/errors.h"

namespace healbert {

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  info.torch_major = TORCH_VERSION_MAJOR;
  info.torch_minor = TORCH_VERSION_MINOR;
#ifdef HEALBERT_WITH_CUDA
  info.built_with_cuda = true;
#endif
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.cuda_devices = cuda_device_details(info.cuda_device_count);
  info.cudnn_available = info.cuda_available && torch::cuda::cudnn_is_available();
  info.mkldnn_available = at::hasMKLDNN();
  info.cxx11_abi = _GLIBCXX_USE_CXX11_ABI != 0;
  info.num_threads = at::get_num_threads();
  info.parallel_info = at::get_parallel_info();
  return info;
}

#ifndef HEALBERT_WITH_CUDA
std::vector<CudaDeviceInfo> cuda_device_details(int count) {
  std::vector<CudaDeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    CudaDeviceInfo info;
    info.index = i;
    out.push_back(info);
  }
  return out;
}
#endif

SmokeResult smoke_test(const std::string& device_name, int64_t size) {
  HB_CHECK(size >= 1 && size <= 8192, code::kArgument, "smoke test size must be in [1, 8192], got ", size);
  const torch::Device device = parse_device(device_name);
  torch::NoGradGuard no_grad;

  // (n, n) @ (n, n) in float32 on the device, against float64 on the CPU.
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(1234);
  auto a = torch::randn({size, size}, gen, torch::kFloat64);
  auto b = torch::randn({size, size}, gen, torch::kFloat64);
  auto reference = torch::mm(a, b);

  auto a_dev = a.to(device, torch::kFloat32);
  auto b_dev = b.to(device, torch::kFloat32);
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  auto product = torch::mm(a_dev, b_dev);
  synchronize(device);
  const auto stop = std::chrono::steady_clock::now();

  SmokeResult result;
  result.device = device.str();
  result.size = size;
  result.milliseconds = std::chrono::duration<double, std::milli>(stop - start).count();
  result.max_abs_diff = (product.to(torch::kCPU, torch::kFloat64) - reference).abs().max().item<double>();
  // float32 accumulation over n terms of unit-variance products (TF32 may be on for CUDA matmuls).
  result.ok =
      std::isfinite(result.max_abs_diff) && result.max_abs_diff < 1e-2 * std::sqrt(static_cast<double>(size)) + 1e-3;
  return result;
}

}  // namespace healbert
