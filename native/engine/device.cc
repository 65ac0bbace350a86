#include "engine/device.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "engine/errors.h"

namespace healbert {

torch::Device parse_device(const std::string& name) {
  c10::optional<torch::Device> device;
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    fail(code::kDevice, "unknown device '", name, "': expected 'cpu', 'cuda' or 'cuda:<index>'");
  }
  if (device->is_cpu()) return *device;
  HB_CHECK(device->is_cuda(), code::kDevice, "device '", name, "' is not supported: use 'cpu' or 'cuda[:index]'");
  HB_CHECK(torch::cuda::is_available(), code::kDevice, "device '", name,
           "' requested but CUDA is not available (this libtorch ",
#ifdef HEALBERT_WITH_CUDA
           "has CUDA, but no driver or device answered)"
#else
           "was built without CUDA; point LIBTORCH at a CUDA build and reinstall)"
#endif
  );
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (!device->has_index()) return torch::Device(torch::kCUDA, 0);
  HB_CHECK(device->index() < count, code::kDevice, "device '", name, "' does not exist: ", count,
           " CUDA device(s) visible");
  return *device;
}

at::Generator make_device_generator(const torch::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Generator gen = at::globalContext().defaultGenerator(device).clone();
  gen.set_current_seed(seed);
  return gen;
}

DefaultGeneratorLoan::DefaultGeneratorLoan(const torch::Device& device, uint64_t seed)
    : generator_(at::globalContext().defaultGenerator(device)) {
  std::lock_guard<std::mutex> lock(generator_.mutex());
  saved_state_ = generator_.get_state();
  generator_.set_current_seed(seed);  // CUDA (Philox): also restarts the offset at 0
}

DefaultGeneratorLoan::~DefaultGeneratorLoan() {
  std::lock_guard<std::mutex> lock(generator_.mutex());
  generator_.set_state(saved_state_);
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace healbert
