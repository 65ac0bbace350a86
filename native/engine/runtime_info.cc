#include "engine/runtime_info.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <link.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <set>

#include "engine/device.h"
#include "engine/errors.h"

#ifndef HEALBERT_TORCH_LIBDIR
#define HEALBERT_TORCH_LIBDIR ""
#endif

namespace healbert {

namespace {

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) != nullptr ? std::string(buffer) : path;
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// libtorch's own libraries (libc10*, libtorch*, not the Python extension): the ones that must all come from
// the libtorch the addon was compiled against.
bool is_torch_library(const std::string& name) {
  const bool torch = name.rfind("libtorch", 0) == 0 || name.rfind("libc10", 0) == 0;
  return torch && name.rfind("libtorch_python", 0) != 0 && name.find(".so") != std::string::npos;
}

int collect_library(struct dl_phdr_info* info, size_t, void* data) {
  auto* found = static_cast<std::set<std::string>*>(data);
  if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
    const std::string path = real_path(info->dlpi_name);
    if (is_torch_library(base_name(info->dlpi_name)) || is_torch_library(base_name(path))) found->insert(path);
  }
  return 0;
}

// "major.minor.patch" of a version string ("2.13.0+cpu" -> "2.13.0").
std::string release_of(const std::string& version) {
  const auto end = version.find_first_not_of("0123456789.");
  return end == std::string::npos ? version : version.substr(0, end);
}

}  // namespace

LoadedTorch loaded_torch() {
  LoadedTorch loaded;
  // Build settings of the loaded libtorch_cpu: "... TORCH_VERSION=2.13.0, USE_CUDA=..." (1.13 and 2.x).
  const std::string config = at::show_config();
  const auto at = config.find("TORCH_VERSION=");
  if (at != std::string::npos) {
    const auto start = at + std::string("TORCH_VERSION=").size();
    const auto end = config.find_first_of(", \n", start);
    loaded.version = config.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  std::set<std::string> libraries;
  dl_iterate_phdr(collect_library, &libraries);
  loaded.libraries.assign(libraries.begin(), libraries.end());
  for (const auto& lib : loaded.libraries) {
    const std::string name = base_name(lib);
    if (name.rfind("libc10.so", 0) == 0 || (loaded.library_dir.empty() && name.rfind("libtorch_cpu.so", 0) == 0)) {
      loaded.library_dir = folder_of(lib);
    }
  }
  return loaded;
}

std::string torch_mismatch(const std::string& compiled_version, const std::string& compiled_dir,
                           const LoadedTorch& loaded) {
  std::string why;
  if (!loaded.version.empty() && release_of(loaded.version) != release_of(compiled_version)) {
    why += "compiled against libtorch " + compiled_version + " but libtorch " + loaded.version + " is loaded";
  }
  if (!compiled_dir.empty()) {
    const std::string want = real_path(compiled_dir);
    for (const auto& lib : loaded.libraries) {
      if (folder_of(lib) == want) continue;
      if (!why.empty()) why += "; ";
      why += lib + " is loaded, from outside " + want;
    }
  }
  if (why.empty()) return why;
  return "the addon was compiled against libtorch " + compiled_version + " in " + compiled_dir +
         ", but this process runs on another: " + why +
         ". Fix: remove the LD_LIBRARY_PATH / LD_PRELOAD entries that point at another libtorch, or rebuild against "
         "the one you want (LIBTORCH=<its folder> npm run build:native); README, \"Troubleshooting: two libtorches\"";
}

std::string loaded_torch_mismatch(const std::string& version, const std::string& library_dir) {
  return torch_mismatch(version.empty() ? TORCH_VERSION : version,
                        library_dir.empty() ? HEALBERT_TORCH_LIBDIR : library_dir, loaded_torch());
}

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  info.torch_major = TORCH_VERSION_MAJOR;
  info.torch_minor = TORCH_VERSION_MINOR;
  info.torch_library_dir = HEALBERT_TORCH_LIBDIR;
  info.loaded = loaded_torch();
  info.torch_mismatch = torch_mismatch(info.torch_version, info.torch_library_dir, info.loaded);
#ifdef HEALBERT_WITH_CUDA
  info.built_with_cuda = true;
#endif
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.cuda_devices = cuda_device_details(info.cuda_device_count);
  info.cudnn_available = info.cuda_available && torch::cuda::cudnn_is_available();
  info.mkldnn_available = at::hasMKLDNN();
  info.cxx11_abi = _GLIBCXX_USE_CXX11_ABI != 0;
  info.cxx_standard = __cplusplus >= 202302L ? 23 : __cplusplus >= 202002L ? 20 : 17;
  info.num_threads = at::get_num_threads();
  info.parallel_info = at::get_parallel_info();
  return info;
}

#ifndef HEALBERT_WITH_CUDA
DeviceMemory cuda_memory(const std::string& device_name) {
  fail(code::kDevice, "this build of healbert has no CUDA: no memory to report for ", device_name);
}

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
