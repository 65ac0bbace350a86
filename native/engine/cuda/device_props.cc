// CUDA builds only (CMakeLists.txt adds this folder when libtorch has torch_cuda).
#include <ATen/cuda/CUDAContext.h>

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

}  // namespace healbert
