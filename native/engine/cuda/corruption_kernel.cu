// The corruption kernel (CUDA builds only): one thread per Philox counter of every target, running the
// host-shared body in engine/corruption_kernel.h. Compiled with -fmad=false and IEEE division and square
// root (CMakeLists.txt), so it makes the fused CPU pass's bits. No libtorch here: corruption_kernel_path.cc
// prepares the targets and corruption_launch.cc the device buffers and the stream.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "engine/corruption_kernel.h"

namespace healbert::kernel {

namespace {

constexpr unsigned kFullWarp = 0xFFFFFFFFu;

// Adds a lane's counts to its target's: one atomic per warp where the warp's 32 counters belong to one
// target (all but the few warps at tensor boundaries), one per lane otherwise. Every lane of the warp calls.
__device__ void add_counts(Counts* counts, int j, unsigned long long selected, unsigned long long bits) {
  const int j0 = __shfl_sync(kFullWarp, j, 0);
  if (__all_sync(kFullWarp, j == j0)) {
    for (int offset = 16; offset > 0; offset >>= 1) {
      selected += __shfl_down_sync(kFullWarp, selected, offset);
      bits += __shfl_down_sync(kFullWarp, bits, offset);
    }
    if ((threadIdx.x & 31) != 0) return;
  }
  if (selected != 0) atomicAdd(&counts[j].selected, selected);
  if (bits != 0) atomicAdd(&counts[j].bits, bits);
}

// Thread g handles counter g - starts[j] of its target j (a run of the target, and four entries of it).
// The grid stride is a multiple of the warp size and every lane runs every iteration (idle past the end),
// so the warp-wide count reduction sees all 32 lanes.
__global__ void corruption_kernel(const Target* targets, const int64_t* starts, int n, int64_t total, Params params,
                                  Counts* counts, bool count_selected, bool count_bits) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t lane0 = static_cast<int64_t>(blockIdx.x) * blockDim.x + (threadIdx.x & ~31u);
  for (int64_t warp = lane0; warp < total; warp += stride) {
    const int64_t g = warp + (threadIdx.x & 31);
    const bool valid = g < total;
    const int j = target_of(starts, n, valid ? g : total - 1);
    unsigned long long selected = 0, bits = 0;
    if (valid) corrupt_counter(targets[j], g - starts[j], params, selected, bits);
    if (count_selected || count_bits) add_counts(counts, j, count_selected ? selected : 0, count_bits ? bits : 0);
  }
}

}  // namespace

void launch_corruption(const Target* targets, const int64_t* starts, int n, int64_t total, const Params& params,
                       Counts* counts, void* stream) {
  if (total <= 0) return;
  constexpr int kThreads = 256;
  // Enough blocks to fill any current GPU several times over; the grid-stride loop covers the rest.
  const int64_t wanted = (total + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 65536 ? wanted : 65536);
  // Without a mask every entry is selected and the host knows the count; only bit flips have bits to count.
  const bool count_selected = params.mask_cut < crng::kSelectAll;
  const bool count_bits = !params.flips.never;
  corruption_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(targets, starts, n, total, params,
                                                                                counts, count_selected, count_bits);
  const cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess)
    throw std::runtime_error(std::string("corruption kernel launch: ") + cudaGetErrorString(error));
}

}  // namespace healbert::kernel
