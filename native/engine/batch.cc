#include "engine/batch.h"

#include <algorithm>
#include <cmath>

#include "engine/errors.h"

namespace healbert {

namespace {

void check_length(size_t actual, int64_t expected, const char* what) {
  HB_CHECK(static_cast<int64_t>(actual) == expected, code::kShape, what, " has ", actual, " entries, expected ",
           expected);
}

}  // namespace

void validate_batch(const HostBatch& b, const ModelConfig& c, bool need_labels) {
  HB_CHECK(b.batch_size >= 1, code::kShape, "batch size must be >= 1, got ", b.batch_size);
  HB_CHECK(b.seq_len >= 1, code::kShape, "sequence length must be >= 1, got ", b.seq_len);
  HB_CHECK(b.seq_len <= c.max_sequence_length(), code::kShape, "sequence length ", b.seq_len,
           " exceeds the model's maximum of ", c.max_sequence_length(), " positions");
  const int64_t n = b.batch_size * b.seq_len;
  check_length(b.input_ids.size(), n, "inputIds");
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = b.input_ids[i];
    HB_CHECK(id >= 0 && id < c.vocab_size, code::kArgument, "inputIds[", i, "] (row ", i / b.seq_len, ", position ",
             i % b.seq_len, ") = ", id, " is outside the vocabulary [0, ", c.vocab_size, ")");
  }
  if (!b.attention_mask.empty()) {
    check_length(b.attention_mask.size(), n, "attentionMask");
    for (int64_t row = 0; row < b.batch_size; ++row) {
      const auto* m = &b.attention_mask[row * b.seq_len];
      HB_CHECK(std::any_of(m, m + b.seq_len, [](uint8_t v) { return v != 0; }), code::kArgument, "attentionMask row ",
               row, " masks every position");
    }
  }
  if (!b.token_type_ids.empty()) {
    check_length(b.token_type_ids.size(), n, "tokenTypeIds");
    // A model without token-type embeddings ignores them, as transformers' DeBERTa (type_vocab_size 0) and
    // ModernBERT do: a tokenizer's pair encodings still carry 1s in the second segment.
    const int64_t types = c.type_vocab_size > 0 ? c.type_vocab_size : INT32_MAX;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t t = b.token_type_ids[i];
      HB_CHECK(t >= 0 && t < types, code::kArgument, "tokenTypeIds[", i, "] = ", t, " is outside [0, ", types, ")");
    }
  }
  if (c.head == HeadKind::kRegression) {
    HB_CHECK(b.class_labels.empty(), code::kArgument, "this is a regression model: labels must be a Float32Array");
    if (!b.regression_labels.empty()) {
      check_length(b.regression_labels.size(), b.batch_size, "labels");
      for (int64_t i = 0; i < b.batch_size; ++i)
        HB_CHECK(std::isfinite(b.regression_labels[i]), code::kArgument, "labels[", i, "] is not finite");
    }
  } else {
    HB_CHECK(b.regression_labels.empty(), code::kArgument,
             "this is a classification model: labels must be class ids (Int32Array)");
    if (!b.class_labels.empty()) {
      check_length(b.class_labels.size(), b.batch_size, "labels");
      for (int64_t i = 0; i < b.batch_size; ++i) {
        const int32_t y = b.class_labels[i];
        HB_CHECK(y >= 0 && y < c.num_labels, code::kArgument, "labels[", i, "] = ", y, " is outside [0, ", c.num_labels,
                 ")");
      }
    }
  }
  if (!b.mlm_labels.empty()) {
    HB_CHECK(c.mlm_head || c.has_generator(), code::kArgument,
             "mlmLabels need a model with an MLM head (load it with mlmHead: true)");
    HB_CHECK(b.class_labels.empty() && b.regression_labels.empty(), code::kArgument,
             "a batch has either class labels or mlmLabels, not both");
    check_length(b.mlm_labels.size(), n, "mlmLabels");
    int64_t labelled = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t y = b.mlm_labels[i];
      HB_CHECK(y == -100 || (y >= 0 && y < c.vocab_size), code::kArgument, "mlmLabels[", i, "] = ", y,
               " is neither -100 nor a token id in [0, ", c.vocab_size, ")");
      labelled += y != -100;
    }
    HB_CHECK(labelled > 0, code::kArgument, "mlmLabels label no position (all -100)");
  }
  HB_CHECK(!need_labels || b.has_labels(), code::kArgument, "this call needs labels");
}

namespace {

// The positions in [0, values.size()) where keep(value) holds, as an int64 tensor on `device`: (N).
template <typename T, typename Keep>
torch::Tensor positions_on(const std::vector<T>& values, Keep keep, const torch::Device& device) {
  std::vector<int64_t> rows;
  rows.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    if (keep(values[i])) rows.push_back(static_cast<int64_t>(i));
  auto host = torch::from_blob(rows.data(), {static_cast<int64_t>(rows.size())}, torch::kInt64);
  return device.is_cpu() ? host.clone() : host.to(device);
}

}  // namespace

DeviceBatch to_device(const HostBatch& b, const torch::Device& device) {
  DeviceBatch out;
  const std::vector<int64_t> shape{b.batch_size, b.seq_len};
  auto ids = torch::from_blob(const_cast<int32_t*>(b.input_ids.data()), shape, torch::kInt32);
  out.input_ids = ids.to(device, torch::kInt64);
  const bool any_padding =
      std::any_of(b.attention_mask.begin(), b.attention_mask.end(), [](uint8_t v) { return v == 0; });
  if (any_padding) {
    auto mask = torch::from_blob(const_cast<uint8_t*>(b.attention_mask.data()), shape, torch::kUInt8);
    out.key_mask = mask.to(device, torch::kBool);
    out.real_rows = positions_on(
        b.attention_mask, [](uint8_t v) { return v != 0; }, device);
  }
  if (!b.token_type_ids.empty()) {
    auto types = torch::from_blob(const_cast<int32_t*>(b.token_type_ids.data()), shape, torch::kInt32);
    out.token_type_ids = types.to(device, torch::kInt64);
  }
  if (!b.mlm_labels.empty()) {
    auto labels = torch::from_blob(const_cast<int32_t*>(b.mlm_labels.data()), shape, torch::kInt32);
    out.mlm_labels = labels.to(device, torch::kInt64);
    out.mlm_positions = positions_on(
        b.mlm_labels, [](int32_t v) { return v != -100; }, device);
  }
  if (!b.class_labels.empty()) {
    auto labels = torch::from_blob(const_cast<int32_t*>(b.class_labels.data()), {b.batch_size}, torch::kInt32);
    out.labels = labels.to(device, torch::kInt64);
  } else if (!b.regression_labels.empty()) {
    auto labels = torch::from_blob(const_cast<float*>(b.regression_labels.data()), {b.batch_size}, torch::kFloat32);
    out.labels = labels.to(device).clone();
  }
  return out;
}

}  // namespace healbert
