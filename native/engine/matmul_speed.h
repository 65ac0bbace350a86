// How fast one matrix product runs in float32 and in bfloat16 on a device: the measurement behind
// `healbert doctor`'s bf16 speed-up and `--dtype auto`'s choice on the CPU.
#pragma once

#include <cstdint>
#include <string>

namespace healbert {

struct MatmulSpeed {
  std::string device;
  int64_t m = 0, k = 0, n = 0;  // (m, k) @ (k, n)
  int64_t reps = 0;             // timed repetitions of each dtype, after one untimed warm-up
  double float32_ms = 0;        // best of `reps`, synchronised
  double bfloat16_ms = 0;       // best of `reps`: bf16 inputs and output, as the engine's bf16 matmuls run
};

// Times (m, k) @ (k, n) in both dtypes on `device` ("cpu", "cuda", "cuda:1"). Every side in [1, 8192],
// reps in [1, 50] (ERR_ARGUMENT otherwise).
MatmulSpeed matmul_speed(const std::string& device, int64_t m, int64_t k, int64_t n, int64_t reps);

}  // namespace healbert
