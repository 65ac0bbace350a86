// The architecture of a model, as the engine needs it. Built and validated by the TypeScript layer from a
// Hugging Face config.json (src/model/config.ts); the engine trusts it (DESIGN.md: JS validates).
#pragma once

#include <cstdint>
#include <string>

namespace healbert {

enum class Arch { kBert, kRoberta, kDistilBert };
enum class Activation { kGeluErf, kGeluTanh, kRelu, kSilu };
enum class HeadKind { kClassification, kRegression };

struct ModelConfig {
  Arch arch = Arch::kBert;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_positions = 0;
  int64_t type_vocab_size = 0;  // 0: no token-type embeddings (DistilBERT)
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  Activation activation = Activation::kGeluErf;
  double hidden_dropout = 0.1;      // embeddings, attention output, FFN output
  double attention_dropout = 0.1;   // attention probabilities
  double classifier_dropout = 0.1;  // before the classifier (and inside RoBERTa's head)
  double initializer_range = 0.02;  // N(0, r) for freshly initialised heads, as Hugging Face does
  int64_t num_labels = 2;
  HeadKind head = HeadKind::kClassification;
  // BERT's masked-language-model head (cls.predictions.*), for pre-training and MLM healing. Present
  // alongside the classification head. Tied (Hugging Face's default): the decoder is the word embedding
  // matrix and cls.predictions.bias its bias. Untied (tie_word_embeddings: false): the decoder has its own
  // cls.predictions.decoder.weight and .bias, as BertForMaskedLM then has (its cls.predictions.bias stays,
  // unused, like transformers').
  bool mlm_head = false;
  bool mlm_tied = true;

  int64_t head_dim() const { return hidden_size / num_heads; }
  // RoBERTa numbers positions from pad_token_id + 1, so positions 0..pad are never used.
  int64_t position_offset() const { return arch == Arch::kRoberta ? pad_token_id + 1 : 0; }
  int64_t max_sequence_length() const { return max_positions - position_offset(); }
};

const char* arch_name(Arch arch);

}  // namespace healbert
