// What libtorch this build runs on and which devices it can use: the engine side of `healbert doctor`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace healbert {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;          // "" when the build has no CUDA headers
  int major = 0, minor = 0;  // compute capability
  int64_t total_memory = 0;  // bytes
};

struct RuntimeInfo {
  std::string torch_version;  // e.g. "1.13.0"
  int torch_major = 0, torch_minor = 0;
  bool built_with_cuda = false;  // the addon was compiled against a CUDA libtorch
  bool cuda_available = false;   // a driver and at least one device answer now
  int cuda_device_count = 0;
  std::vector<CudaDeviceInfo> cuda_devices;
  bool cudnn_available = false;
  bool mkldnn_available = false;
  bool cxx11_abi = false;
  int num_threads = 0;        // intra-op CPU threads
  std::string parallel_info;  // libtorch's at::get_parallel_info(), trimmed
};

RuntimeInfo runtime_info();

// Filled by native/engine/cuda/ in CUDA builds; the CPU build returns indices only.
std::vector<CudaDeviceInfo> cuda_device_details(int count);

// A small matmul on `device` ("cpu", "cuda", "cuda:1"), checked against the same product on the CPU.
struct SmokeResult {
  std::string device;
  int64_t size = 0;
  double max_abs_diff = 0;  // vs the CPU float64 reference
  double milliseconds = 0;  // of the device op, synchronised
  bool ok = false;
};
SmokeResult smoke_test(const std::string& device, int64_t size);

}  // namespace healbert
