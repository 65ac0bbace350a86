// Counter-based random numbers for corruption (stream version 2): the value for element i of a parameter
// under seed s is a pure function of (s, the parameter's Hugging Face name, the purpose, i). Nothing is drawn
// serially, so any range of any tensor can be generated on its own, by any number of threads, in any
// order, and the numbers a tensor gets do not depend on which other tensors are corrupted.
//
// The generator is Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// key = hash(seed, name, purpose), counter = (element / 4, word), four 32-bit words per counter; element i
// takes word i % 4 of counter i / 4. Transformations to floats use only integer operations and correctly
// rounded float32 +, -, *, / and sqrt (no libm, no fused multiply-add), so they give the same bits on every
// CPU and with any vector width; the normal deviates come from Box-Muller with this file's own log, sin
// and cos polynomials.
//
// Everything marked HB_HD is compiled for the host and, in CUDA builds, for the device too (the corruption
// kernel, native/engine/cuda/), from this one source: the CPU pass and the kernel share every operation,
// and nvcc compiles them with -fmad=false and IEEE division and square root, so the bits agree.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__CUDACC__)
#define HB_HD __host__ __device__
#else
#define HB_HD
#endif

namespace healbert::crng {

// Recorded with every corrupted cell: results made with another stream are never mixed with these.
constexpr int kStreamVersion = 2;

// Independent purposes, so the fraction mask does not depend on whether noise was drawn.
enum Purpose : uint64_t { kValues = 1, kMask = 2, kBits = 3 };

struct Key {
  uint32_t k0 = 0, k1 = 0;
};

Key key_for(uint64_t seed, const std::string& name, Purpose purpose);

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

// One Philox4x32 round on (x0, x1, x2, x3) with round key (k0, k1).
HB_HD inline void philox_round(uint32_t& x0, uint32_t& x1, uint32_t& x2, uint32_t& x3, uint32_t k0, uint32_t k1) {
  const uint64_t p0 = static_cast<uint64_t>(kM0) * x0;
  const uint64_t p1 = static_cast<uint64_t>(kM1) * x2;
  const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1 ^ k0;
  const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3 ^ k1;
  x1 = static_cast<uint32_t>(p1);
  x3 = static_cast<uint32_t>(p0);
  x0 = y0;
  x2 = y2;
}

// Philox4x32-10 of counter (c, c2): out[0..3].
HB_HD inline void philox(Key key, uint64_t c, uint32_t c2, uint32_t* out) {
  uint32_t x0 = static_cast<uint32_t>(c), x1 = static_cast<uint32_t>(c >> 32), x2 = c2, x3 = 0;
  uint32_t k0 = key.k0, k1 = key.k1;
  for (int round = 0; round < 10; ++round) {
    philox_round(x0, x1, x2, x3, k0, k1);
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

// Philox4x32-10 of counters (first + j, c2) for j in [0, n): word k of counter j goes to out[4 * j + k].
// The host's vectorised version of philox() (same rounds, lanes side by side).
void philox_words(Key key, uint64_t first, uint32_t c2, int64_t n, uint32_t* out);

// The words of elements [begin, begin + n) of one tensor (begin a multiple of 4, n of 4): out[i - begin].
inline void element_words(Key key, int64_t begin, int64_t n, uint32_t* out) {
  philox_words(key, static_cast<uint64_t>(begin) / 4, 0, n / 4, out);
}

HB_HD inline float as_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}
HB_HD inline uint32_t as_bits(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

// [0, 1) in steps of 2^-24 (exact).
HB_HD inline float unit(uint32_t w) { return static_cast<float>(w >> 8) * 5.9604644775390625e-8f; }
// [-1, 1) in steps of 2^-23 (exact).
HB_HD inline float symmetric(uint32_t w) { return static_cast<float>(w >> 8) * 1.1920928955078125e-7f - 1.0f; }
// [-1/2, 1/2) in steps of 2^-24 (exact).
HB_HD inline float half_symmetric(uint32_t w) { return unit(w) - 0.5f; }

// log(u) for u in (0, 1], u >= 2^-24: exponent and mantissa split, then log(m) = 2 atanh((m-1)/(m+1)) on
// [sqrt(1/2), sqrt(2)) by its series to s^9 (|s| <= 0.1716: truncation below 1e-9).
HB_HD inline float log_unit(float u) {
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
HB_HD inline void sincos_turn(float v, float& sin_out, float& cos_out) {
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

// Box-Muller: two standard normal deviates from two words (the pair's first takes the cosine).
HB_HD inline void normal_pair(uint32_t w0, uint32_t w1, float& first, float& second) {
  const float u1 = static_cast<float>((w0 >> 8) + 1) * 5.9604644775390625e-8f;  // (0, 1]
  const float r = sqrtf(-2.0f * log_unit(u1));
  float s, c;
  sincos_turn(unit(w1), s, c);
  first = r * c;
  second = r * s;
}

// Standard normal deviates for elements [0, n) (n even) from their words: Box-Muller on consecutive pairs.
void normals_from_words(const uint32_t* words, int64_t n, float* out);

// The mask threshold for a fraction p: an element is selected when its mask word is below it.
constexpr uint64_t kSelectAll = uint64_t{1} << 32;  // above every word: no mask is drawn
inline uint64_t mask_threshold(double fraction) {
  if (fraction >= 1.0) return kSelectAll;
  if (fraction <= 0.0) return 0;
  return static_cast<uint64_t>(fraction * 4294967296.0);
}

// Bit flips: each of `nbits` bits of an entry flips with probability `rate`, independently. Per entry, one
// 64-bit uniform picks how many bits flip (Binomial(nbits, rate) by its inverse CDF), then that many distinct
// bits are drawn without replacement: the same distribution, with one Philox call per entry in the common
// case of no flip. Plain data, so that the kernel gets it by value.
struct BitFlipParams {
  int nbits = 0;
  int first_bit = 0;            // bits first_bit .. first_bit + nbits - 1 of the float32
  uint64_t threshold[33] = {};  // k flips when the 64-bit uniform lies in [threshold[k-1], threshold[k])
  bool never = true;
};

// The XOR pattern for entry `element`, from the words of its counter (element, 0): 0 when nothing flips.
HB_HD inline uint32_t flip_pattern(const BitFlipParams& t, Key key, int64_t element, const uint32_t* w) {
  if (t.never) return 0;
  const uint64_t u = (static_cast<uint64_t>(w[0]) << 32) | w[1];
  int k = 0;
  while (k < t.nbits && u >= t.threshold[k]) ++k;
  if (k == 0) return 0;
  // k distinct bits, uniformly: a partial Fisher-Yates shuffle driven by w[2], w[3], then further counters.
  int order[32];
  for (int b = 0; b < t.nbits; ++b) order[b] = b;
  uint32_t extra[4] = {0, 0, 0, 0};
  uint32_t pattern = 0;
  for (int m = 0; m < k; ++m) {
    uint32_t r;
    if (m < 2) {
      r = w[2 + m];
    } else {
      if ((m - 2) % 4 == 0) philox(key, static_cast<uint64_t>(element), static_cast<uint32_t>(1 + (m - 2) / 4), extra);
      r = extra[(m - 2) % 4];
    }
    const int pick = m + static_cast<int>((static_cast<uint64_t>(r) * static_cast<uint64_t>(t.nbits - m)) >> 32);
    const int bit = order[pick];
    order[pick] = order[m];
    order[m] = bit;
    pattern |= 1u << (t.first_bit + bit);
  }
  return pattern;
}

struct BitFlipTable : BitFlipParams {
  BitFlipTable(double rate, bool exponent_only);
  uint32_t pattern(Key key, int64_t element, const uint32_t* first_words) const {
    return flip_pattern(*this, key, element, first_words);
  }
};

}  // namespace healbert::crng
