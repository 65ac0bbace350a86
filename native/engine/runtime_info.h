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

// The libtorch this process has actually loaded, read from the loaded libraries themselves.
struct LoadedTorch {
  std::string version;                 // TORCH_VERSION from at::show_config(), e.g. "2.13.0"; "" if absent
  std::string library_dir;             // real folder of the loaded libc10 (or libtorch_cpu)
  std::vector<std::string> libraries;  // real paths of every loaded libtorch*/libc10* library
};

struct RuntimeInfo {
  std::string torch_version;  // compiled against (the headers' TORCH_VERSION), e.g. "1.13.0"
  int torch_major = 0, torch_minor = 0;
  std::string torch_library_dir;  // compiled against: the folder the build linked and put in RPATH
  LoadedTorch loaded;
  // Why the loaded libtorch is not the one compiled against (version or folder); "" when it is.
  std::string torch_mismatch;
  bool built_with_cuda = false;  // the addon was compiled against a CUDA libtorch
  bool cuda_available = false;   // a driver and at least one device answer now
  int cuda_device_count = 0;
  std::vector<CudaDeviceInfo> cuda_devices;
  bool cudnn_available = false;
  bool mkldnn_available = false;
  bool cxx11_abi = false;
  int cxx_standard = 17;      // the C++ standard this build was compiled with
  int num_threads = 0;        // intra-op CPU threads
  std::string parallel_info;  // libtorch's at::get_parallel_info(), trimmed
};

RuntimeInfo runtime_info();

LoadedTorch loaded_torch();

// torch_mismatch() of what this process has loaded against the libtorch this build was compiled against:
// the load-time check, which needs none of runtime_info()'s device queries (no CUDA initialisation). A
// non-empty `version` or `library_dir` replaces the compiled-in one (what `doctor` and the tests use to
// ask "is this process running on that libtorch?").
std::string loaded_torch_mismatch(const std::string& version = "", const std::string& library_dir = "");

// "" when `loaded` is the libtorch of `compiled_version` in `compiled_dir`, else what differs.
std::string torch_mismatch(const std::string& compiled_version, const std::string& compiled_dir,
                           const LoadedTorch& loaded);

// Filled by native/engine/cuda/ in CUDA builds; the CPU build returns indices only.
std::vector<CudaDeviceInfo> cuda_device_details(int count);

struct DeviceMemory {
  int64_t free = 0, total = 0;  // bytes
};
// Free and total memory of a CUDA device, as the driver reports it (creates the device's context). ERR_DEVICE
// for the CPU or a build without CUDA.
DeviceMemory cuda_memory(const std::string& device_name);

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
