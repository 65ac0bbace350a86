#include "engine/counter_random.h"

#include <cmath>

// The two hot loops are compiled for AVX-512 and AVX2 machines as well, picked at load time (GCC and Clang
// function multiversioning on x86-64). Every version makes the same bits: the same operations, correctly
// rounded, no fused multiply-add (this file is compiled with -ffp-contract=off).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define HB_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HB_VECTOR_CLONES
#endif

namespace healbert::crng {

namespace {

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

constexpr int64_t kLanes = 64;  // counters per vectorised batch

}  // namespace

Key key_for(uint64_t seed, const std::string& name, Purpose purpose) {
  const uint64_t k = splitmix64(seed ^ splitmix64(fnv1a64(name) ^ splitmix64(static_cast<uint64_t>(purpose))));
  return Key{static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32)};
}

HB_VECTOR_CLONES void philox_words(Key key, uint64_t first, uint32_t c2, int64_t n, uint32_t* out) {
  uint32_t x0[kLanes], x1[kLanes], x2[kLanes], x3[kLanes];
  for (int64_t base = 0; base < n; base += kLanes) {
    const int64_t lanes = n - base < kLanes ? n - base : kLanes;
    for (int64_t j = 0; j < kLanes; ++j) {
      const uint64_t c = first + static_cast<uint64_t>(base + j);
      x0[j] = static_cast<uint32_t>(c);
      x1[j] = static_cast<uint32_t>(c >> 32);
      x2[j] = c2;
      x3[j] = 0;
    }
    uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
      for (int64_t j = 0; j < kLanes; ++j) philox_round(x0[j], x1[j], x2[j], x3[j], k0, k1);
      k0 += kW0;
      k1 += kW1;
    }
    for (int64_t j = 0; j < lanes; ++j) {
      out[4 * (base + j) + 0] = x0[j];
      out[4 * (base + j) + 1] = x1[j];
      out[4 * (base + j) + 2] = x2[j];
      out[4 * (base + j) + 3] = x3[j];
    }
  }
}

HB_VECTOR_CLONES void normals_from_words(const uint32_t* words, int64_t n, float* out) {
  for (int64_t p = 0; p < n / 2; ++p) normal_pair(words[2 * p], words[2 * p + 1], out[2 * p], out[2 * p + 1]);
}

BitFlipTable::BitFlipTable(double rate, bool exponent_only) {
  nbits = exponent_only ? 8 : 32;
  first_bit = exponent_only ? 23 : 0;
  never = !(rate > 0.0);
  if (never) return;
  // P(K > k) for K ~ Binomial(nbits, rate), summed from the top so that small tails keep their precision.
  long double pmf[33];
  const long double p = rate, q = 1.0L - p;
  for (int k = 0; k <= nbits; ++k) {
    const long double log_choose = std::lgamma(static_cast<long double>(nbits + 1)) -
                                   std::lgamma(static_cast<long double>(k + 1)) -
                                   std::lgamma(static_cast<long double>(nbits - k + 1));
    const long double lp = k == 0 ? 0.0L : k * std::log(p);
    const long double lq = k == nbits ? 0.0L : (nbits - k) * std::log1p(-p);
    pmf[k] = (p >= 1.0L) ? (k == nbits ? 1.0L : 0.0L) : (q <= 0.0L ? 0.0L : std::exp(log_choose + lp + lq));
  }
  long double tail = 0.0L;
  for (int k = nbits; k >= 1; --k) {
    tail += pmf[k];  // P(K >= k) = P(K > k - 1)
    const long double cut = (1.0L - tail) * 18446744073709551616.0L;
    threshold[k - 1] = cut <= 0.0L ? 0 : (cut >= 18446744073709551615.0L ? UINT64_MAX : static_cast<uint64_t>(cut));
  }
}

}  // namespace healbert::crng
