// Device names as users write them ("cpu", "cuda", "cuda:1") and the checks that they exist.
#pragma once

#include <torch/torch.h>

#include <string>

namespace healbert {

// Parses and validates a device name; throws ERR_DEVICE naming what is available when it is unusable.
torch::Device parse_device(const std::string& name);

// Waits for all queued work on the device (no-op on the CPU).
void synchronize(const torch::Device& device);

}  // namespace healbert
