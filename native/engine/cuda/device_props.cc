// CUDA builds only (CMakeLists.txt adds this folder when libtorch has torch_cuda).
#include <ATen/cuda/CUDAContext.h>

#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include "engine/device.h"
#include "engine/errors.h"
#include "engine/runtime_info.h"

namespace healbert {

std::vector<CudaDeviceInfo> cuda_device_details(int count) {
  std::vector<CudaDeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    const cudaDeviceProp* props = at::cuda::getDeviceProperties(i);
    CudaDeviceInfo info;
    info.index = i;
    info.name = props->name;
    info.major = props->major;
    info.minor = props->minor;
    info.total_memory = static_cast<int64_t>(props->totalGlobalMem);
    out.push_back(info);
  }
  return out;
}

DeviceMemory cuda_memory(const std::string& device_name) {
  const torch::Device device = parse_device(device_name);
  HB_CHECK(device.is_cuda(), code::kDevice, "device memory is known for CUDA devices only, not ", device_name);
  const c10::cuda::CUDAGuard guard(device);
  size_t free = 0, total = 0;
  HB_CHECK(cudaMemGetInfo(&free, &total) == cudaSuccess, code::kDevice, "cudaMemGetInfo failed on ", device_name);
  return DeviceMemory{static_cast<int64_t>(free), static_cast<int64_t>(total)};
}

}  // namespace healbert
