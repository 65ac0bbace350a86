#include "engine/dropout_mask.h"

#include <ATen/Parallel.h>

#include <vector>

#include "engine/errors.h"
#include "engine/ops.h"

namespace healbert {

namespace {

// Elements per task of the flat mask (a multiple of 4: Philox gives four words per counter).
constexpr int64_t kChunk = 1 << 14;

// Writes the mask of elements [begin, begin + n) of the layout to out[0, n).
template <typename T>
void fill(crng::Key key, int64_t begin, int64_t n, uint64_t threshold, T kept, T* out, std::vector<uint32_t>& words) {
  // Words come four per counter: cover [begin rounded down to 4, begin + n rounded up to 4).
  const int64_t first = begin / 4 * 4, last = (begin + n + 3) / 4 * 4;
  words.resize(static_cast<size_t>(last - first));
  crng::element_words(key, first, last - first, words.data());
  const uint32_t* w = words.data() + (begin - first);
  const T dropped = T(0.0f);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<uint64_t>(w[i]) < threshold ? dropped : kept;
}

template <typename T>
void fill_rows(crng::Key key, const int64_t* rows, int64_t count, int64_t width, uint64_t threshold, T kept, T* out) {
  at::parallel_for(0, count, std::max<int64_t>(1, kChunk / std::max<int64_t>(width, 1)), [&](int64_t b, int64_t e) {
    std::vector<uint32_t> words;
    for (int64_t j = b; j < e; ++j) fill(key, rows[j] * width, width, threshold, kept, out + j * width, words);
  });
}

template <typename T>
void fill_flat(crng::Key key, int64_t numel, uint64_t threshold, T kept, T* out) {
  at::parallel_for(0, (numel + kChunk - 1) / kChunk, 1, [&](int64_t b, int64_t e) {
    std::vector<uint32_t> words;
    for (int64_t c = b; c < e; ++c) {
      const int64_t begin = c * kChunk;
      fill(key, begin, std::min(kChunk, numel - begin), threshold, kept, out + begin, words);
    }
  });
}

void check_dtype(torch::ScalarType dtype) {
  HB_CHECK(dtype == torch::kFloat32 || dtype == torch::kBFloat16, code::kInternal,
           "dropout masks are float32 or bfloat16, got ", dtype);
}

}  // namespace

crng::Key dropout_key(uint64_t step_seed, uint64_t call) {
  // Its own domain, apart from fused attention's per-call seeds (mix_seed(step_seed, call), ops.cc).
  const uint64_t k = mix_seed(mix_seed(step_seed, 0x64726F706F7574ULL), call);
  return crng::Key{static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32)};
}

torch::Tensor dropout_mask(torch::IntArrayRef shape, torch::ScalarType dtype, double p, crng::Key key) {
  check_dtype(dtype);
  auto mask = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  const uint64_t threshold = crng::mask_threshold(p);
  const float kept = static_cast<float>(1.0 / (1.0 - p));
  if (dtype == torch::kFloat32) {
    fill_flat(key, mask.numel(), threshold, kept, mask.data_ptr<float>());
  } else {
    fill_flat(key, mask.numel(), threshold, c10::BFloat16(kept), mask.data_ptr<c10::BFloat16>());
  }
  return mask;
}

torch::Tensor dropout_mask_rows(const torch::Tensor& rows, int64_t width, torch::ScalarType dtype, double p,
                                crng::Key key) {
  check_dtype(dtype);
  HB_CHECK(rows.is_cpu() && rows.scalar_type() == torch::kInt64 && rows.dim() == 1, code::kInternal,
           "dropout_mask_rows: rows must be a 1-d int64 CPU tensor, got ", rows.sizes());
  const auto r = rows.contiguous();
  auto mask = torch::empty({r.size(0), width}, torch::TensorOptions().dtype(dtype));
  const uint64_t threshold = crng::mask_threshold(p);
  const float kept = static_cast<float>(1.0 / (1.0 - p));
  if (dtype == torch::kFloat32) {
    fill_rows(key, r.data_ptr<int64_t>(), r.size(0), width, threshold, kept, mask.data_ptr<float>());
  } else {
    fill_rows(key, r.data_ptr<int64_t>(), r.size(0), width, threshold, c10::BFloat16(kept),
              mask.data_ptr<c10::BFloat16>());
  }
  return mask;
}

}  // namespace healbert
