// In-place corruption of a model's parameters: re-initialisation, noise, zeroing, scaling, sign and bit
// flips, reverting to a snapshot; each on a chosen set of tensors and, optionally, a seeded fraction of
// their entries. The targets arrive resolved and validated (src/corruption/targets.ts).
//
// Random numbers are counter-based (engine/counter_random.h): the number for entry i of a tensor is a pure
// function of (seed, the tensor's Hugging Face name, purpose, i), so the noise a tensor receives does not
// depend on which other tensors were selected: corrupting layers 0-2 and layers 0-5 with the same seed gives
// layers 0-2 the same noise (common random numbers across experiments), and corrupting one layer generates
// only that layer's numbers. On the CPU one multi-threaded pass per tensor chunk makes the numbers, writes
// the new values and gathers the report. On other devices the same numbers are made on the CPU and applied
// with tensor ops that round as the CPU pass does, so a CPU rehearsal reproduces the device's bytes (the
// methods scaled by each tensor's standard deviation excepted: that reduction runs on the device).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model.h"

namespace healbert {

enum class CorruptionMethod { kReinit, kGaussian, kZero, kUniform, kScale, kSignFlip, kBitFlip, kRevert };
// Re-initialisation of Linear weights: PyTorch's nn.Linear default (Kaiming uniform, a = sqrt(5): bound
// 1/sqrt(fan_in)), Kaiming uniform with a = 0 (bound sqrt(6/fan_in)), or BERT's N(0, initializer_range).
enum class InitVariant { kKaimingSqrt5, kKaimingZero, kBertNormal };
enum class ReportLevel { kNone, kSummary, kExact };

// A part of a target tensor (an attention head's rows or columns, an FFN neuron's): `count` runs of `length`
// entries, run r starting at flat entry offset + r * stride (row-major). A head's rows of a (H, H) query
// weight: {h * d * H, d * H, 0, 1}; its columns of the output weight: {h * d, d, H, H}.
struct Slice {
  int64_t offset = 0, length = 0, stride = 0, count = 1;
  int64_t numel() const { return length * count; }
};

struct CorruptionRequest {
  CorruptionMethod method = CorruptionMethod::kGaussian;
  std::vector<size_t> targets;  // indices into the layout
  // Per target (empty, or one list per target): the parts corrupted, disjoint; an empty list, the whole
  // tensor. Statistics a method scales by (relative, uniform) are the selected parts' together; reinit's
  // fan-in is the whole matrix's. Every entry draws the numbers it draws when its whole tensor is corrupted.
  std::vector<std::vector<Slice>> slices;
  double level = 0.0;     // sigma (gaussian), lambda (uniform), factor (scale), rate (bit-flip)
  bool relative = false;  // gaussian: sigma times each tensor's own std
  InitVariant init = InitVariant::kKaimingSqrt5;
  double fraction = 1.0;  // share of each tensor's entries affected
  bool exponent_bits_only = false;
  std::string snapshot;  // revert: the snapshot to restore from (the same member's values in it)
  uint64_t seed = 0;
  // The fleet member whose parameters are corrupted (ops.h); 0 for a solo model. The numbers depend on
  // (seed, tensor name, purpose, entry) only, so a member gets the same noise as the same model alone.
  int64_t member = 0;
  ReportLevel report = ReportLevel::kExact;
  bool tensor_ops = false;  // apply with tensor ops even where the fused CPU pass could (tests: same bytes)
  // Run the device kernel's body (engine/corruption_kernel.h) on the host, counter by counter, as the CUDA
  // kernel does on the GPU (tests: same bytes as the fused pass, on machines without a GPU).
  bool kernel_on_host = false;
};

struct TensorReport {
  size_t index = 0;
  int64_t numel = 0;
  int64_t selected = 0;      // entries inside the fraction mask
  int64_t changed = -1;      // entries whose value differs afterwards (-1: not measured)
  double norm_before = 0;    // Frobenius norm before
  double norm_change = 0;    // Frobenius norm of (after - before); NaN if non-finite values appeared
  int64_t non_finite = -1;   // NaN/inf entries afterwards (-1: not measured)
  int64_t bits_flipped = 0;  // bit-flip only
  // A sliced target: per slice, in the request's order, the entries inside the fraction mask and those whose
  // value differs afterwards (-1: not measured). numel, selected and the norms are then the slices' together.
  std::vector<int64_t> slice_selected, slice_changed;
};

struct CorruptionReport {
  std::vector<TensorReport> tensors;
  double milliseconds = 0;  // the corruption, synchronised (with the exact report, gathered in the same pass)
  bool fused = false;       // the fused CPU pass ran
  bool kernel = false;      // the counter kernel ran (CUDA, or its host emulation); neither: tensor ops
};

CorruptionReport corrupt(Model& model, const CorruptionRequest& request);

}  // namespace healbert
