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

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int64_t kLanes = 64;  // counters per vectorised batch

// log(u) for u in (0, 1], u >= 2^-24: exponent and mantissa split, then log(m) = 2 atanh((m-1)/(m+1)) on
// [sqrt(1/2), sqrt(2)) by its series to s^9 (|s| <= 0.1716: truncation below 1e-9).
inline float log_unit(float u) {
  const uint32_t b = as_bits(u);
  // m in [1, 2), halved (exactly, through its exponent) when above sqrt(2): mantissa bits above sqrt(2)'s.
  const uint32_t big = (b & 0x7FFFFFu) > 0x3504F3u ? 1u : 0u;
  const int32_t e = static_cast<int32_t>(b >> 23) - 127 + static_cast<int32_t>(big);
  const float m = as_float((b & 0x7FFFFFu) | (0x3F800000u - (big << 23)));
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float p = 1.0f + s2 * (0.333333343f + s2 * (0.2f + s2 * (0.142857149f + s2 * 0.111111112f)));
  return static_cast<float>(e) * 0.693147182f + 2.0f * s * p;
}

// sin and cos of 2*pi*v for v in [0, 1) (a multiple of 2^-24): the quarter turn is exact, then Taylor series
// on [0, pi/2) to x^13 and x^14 (truncation below 1e-7), rotated into the quadrant.
inline void sincos_turn(float v, float& sin_out, float& cos_out) {
  const float t = v * 4.0f;
  const int32_t q = static_cast<int32_t>(t);
  const float x = (t - static_cast<float>(q)) * 1.57079637f;
  const float x2 = x * x;
  const float sn =
      x * (1.0f +
           x2 * (-1.66666672e-1f +
                 x2 * (8.33333377e-3f + x2 * (-1.98412701e-4f +
                                              x2 * (2.75573188e-6f + x2 * (-2.50521079e-8f + x2 * 1.60590444e-10f))))));
  const float cs =
      1.0f + x2 * (-0.5f + x2 * (4.16666679e-2f +
                                 x2 * (-1.38888892e-3f +
                                       x2 * (2.48015876e-5f +
                                             x2 * (-2.75573188e-7f + x2 * (2.08767570e-9f + x2 * -1.14707454e-11f))))));
  // Quadrant q: the angle is q * pi/2 + x. Odd quadrants swap sin and cos; signs by bit operations.
  const uint32_t uq = static_cast<uint32_t>(q);
  const uint32_t swap = 0u - (uq & 1u);
  const uint32_t sn_bits = as_bits(sn), cs_bits = as_bits(cs);
  const uint32_t s_bits = (cs_bits & swap) | (sn_bits & ~swap);
  const uint32_t c_bits = (sn_bits & swap) | (cs_bits & ~swap);
  sin_out = as_float(s_bits ^ (((uq >> 1) & 1u) << 31));
  cos_out = as_float(c_bits ^ (((uq ^ (uq >> 1)) & 1u) << 31));
}

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
      for (int64_t j = 0; j < kLanes; ++j) {
        const uint64_t p0 = static_cast<uint64_t>(kM0) * x0[j];
        const uint64_t p1 = static_cast<uint64_t>(kM1) * x2[j];
        const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1[j] ^ k0;
        const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3[j] ^ k1;
        x1[j] = static_cast<uint32_t>(p1);
        x3[j] = static_cast<uint32_t>(p0);
        x0[j] = y0;
        x2[j] = y2;
      }
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
  for (int64_t p = 0; p < n / 2; ++p) {
    const float u1 = static_cast<float>((words[2 * p] >> 8) + 1) * 5.9604644775390625e-8f;  // (0, 1]
    const float r = std::sqrt(-2.0f * log_unit(u1));
    float s, c;
    sincos_turn(unit(words[2 * p + 1]), s, c);
    out[2 * p] = r * c;
    out[2 * p + 1] = r * s;
  }
}

BitFlipTable::BitFlipTable(double rate, bool exponent_only)
    : nbits(exponent_only ? 8 : 32), first_bit(exponent_only ? 23 : 0) {
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

uint32_t BitFlipTable::pattern(Key key, int64_t element, const uint32_t* w) const {
  if (never) return 0;
  const uint64_t u = (static_cast<uint64_t>(w[0]) << 32) | w[1];
  int k = 0;
  while (k < nbits && u >= threshold[k]) ++k;
  if (k == 0) return 0;
  // k distinct bits, uniformly: a partial Fisher-Yates shuffle driven by w[2], w[3], then further counters.
  int order[32];
  for (int b = 0; b < nbits; ++b) order[b] = b;
  uint32_t extra[4];
  uint32_t pattern = 0;
  for (int m = 0; m < k; ++m) {
    uint32_t r;
    if (m < 2) {
      r = w[2 + m];
    } else {
      if ((m - 2) % 4 == 0) philox_words(key, static_cast<uint64_t>(element), 1 + (m - 2) / 4, 1, extra);
      r = extra[(m - 2) % 4];
    }
    const int pick = m + static_cast<int>((static_cast<uint64_t>(r) * static_cast<uint64_t>(nbits - m)) >> 32);
    const int bit = order[pick];
    order[pick] = order[m];
    order[m] = bit;
    pattern |= 1u << (first_bit + bit);
  }
  return pattern;
}

}  // namespace healbert::crng
