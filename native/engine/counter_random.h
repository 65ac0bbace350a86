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
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace healbert::crng {

// Recorded with every corrupted cell: results made with another stream are never mixed with these.
constexpr int kStreamVersion = 2;

// Independent purposes, so the fraction mask does not depend on whether noise was drawn.
enum Purpose : uint64_t { kValues = 1, kMask = 2, kBits = 3 };

struct Key {
  uint32_t k0 = 0, k1 = 0;
};

Key key_for(uint64_t seed, const std::string& name, Purpose purpose);

// Philox4x32-10 of counters (first + j, c2) for j in [0, n): word k of counter j goes to out[4 * j + k].
void philox_words(Key key, uint64_t first, uint32_t c2, int64_t n, uint32_t* out);

// The words of elements [begin, begin + n) of one tensor (begin a multiple of 4, n of 4): out[i - begin].
inline void element_words(Key key, int64_t begin, int64_t n, uint32_t* out) {
  philox_words(key, static_cast<uint64_t>(begin) / 4, 0, n / 4, out);
}

inline float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline uint32_t as_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// [0, 1) in steps of 2^-24 (exact).
inline float unit(uint32_t w) { return static_cast<float>(w >> 8) * 5.9604644775390625e-8f; }
// [-1, 1) in steps of 2^-23 (exact).
inline float symmetric(uint32_t w) { return static_cast<float>(w >> 8) * 1.1920928955078125e-7f - 1.0f; }
// [-1/2, 1/2) in steps of 2^-24 (exact).
inline float half_symmetric(uint32_t w) { return unit(w) - 0.5f; }

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
// case of no flip.
struct BitFlipTable {
  int nbits = 0;
  int first_bit = 0;            // bits first_bit .. first_bit + nbits - 1 of the float32
  uint64_t threshold[33] = {};  // k flips when the 64-bit uniform lies in [threshold[k-1], threshold[k])
  bool never = true;
  BitFlipTable(double rate, bool exponent_only);
  // The XOR pattern for entry `element` (0 when nothing flips).
  uint32_t pattern(Key key, int64_t element, const uint32_t* first_words) const;
};

}  // namespace healbert::crng
