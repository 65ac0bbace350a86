// Device names as users write them ("cpu", "cuda", "cuda:1") and the checks that they exist.
#pragma once

#include <torch/torch.h>

#include <string>

namespace healbert {

// Parses and validates a device name; throws ERR_DEVICE naming what is available when it is unusable.
torch::Device parse_device(const std::string& name);

// A generator of the device's kind, seeded: CPU (mt19937) or CUDA (Philox), independent of the global one.
at::Generator make_device_generator(const torch::Device& device, uint64_t seed);

// Lends the device's default generator a seed for the scope of one call that can only draw from it (fused
// attention's dropout), then restores the generator's state exactly: no one else's stream changes.
class DefaultGeneratorLoan {
 public:
  DefaultGeneratorLoan(const torch::Device& device, uint64_t seed);
  ~DefaultGeneratorLoan();
  DefaultGeneratorLoan(const DefaultGeneratorLoan&) = delete;
  DefaultGeneratorLoan& operator=(const DefaultGeneratorLoan&) = delete;

 private:
  at::Generator generator_;
  torch::Tensor saved_state_;
};

// Waits for all queued work on the device (no-op on the CPU).
void synchronize(const torch::Device& device);

}  // namespace healbert
