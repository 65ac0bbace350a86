// CUDA builds only: device buffers for the corruption kernel's targets, starts and counts, and the launch on
// the current stream of the model's device (the kernel itself: corruption_kernel.cu).
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/torch.h>

#include <cstring>

#include "engine/corruption_kernel.h"

namespace healbert::kernel {

namespace {

// A host array's bytes as a tensor on the device (a synchronous copy: the arrays are small).
torch::Tensor device_bytes(const void* data, size_t n, const torch::Device& device) {
  auto host = torch::from_blob(const_cast<void*>(data), {static_cast<int64_t>(n)}, torch::kUInt8);
  return host.to(device);
}

}  // namespace

void run_on_cuda(const std::vector<Target>& targets, const std::vector<int64_t>& starts, const Params& params,
                 std::vector<Counts>& counts, int device_index) {
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index));
  const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_index));
  auto t = device_bytes(targets.data(), targets.size() * sizeof(Target), device);
  auto s = device_bytes(starts.data(), starts.size() * sizeof(int64_t), device);
  auto c =
      torch::zeros({static_cast<int64_t>(counts.size() * sizeof(Counts))}, torch::dtype(torch::kUInt8).device(device));
  launch_corruption(reinterpret_cast<const Target*>(t.data_ptr<uint8_t>()),
                    reinterpret_cast<const int64_t*>(s.data_ptr<uint8_t>()), static_cast<int>(targets.size()),
                    starts.back(), params, reinterpret_cast<Counts*>(c.data_ptr<uint8_t>()),
                    at::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_index)).stream());
  auto host = c.to(torch::kCPU);  // waits for the kernel (same stream)
  std::memcpy(counts.data(), host.data_ptr<uint8_t>(), counts.size() * sizeof(Counts));
}

}  // namespace healbert::kernel
