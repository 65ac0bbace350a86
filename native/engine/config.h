// The architecture of a model, as the engine needs it: sizes, the few structural options in which the BERT
// family differs, and the parameter layout. Built and validated by the TypeScript layer from a Hugging Face
// config.json and the family's descriptor (src/model/families/); the engine trusts it (DESIGN.md: JS
// validates). There is no switch on the family here: a family is data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/layout.h"

namespace healbert {

enum class Activation { kGeluErf, kGeluTanh, kRelu, kSilu, kTanh };
enum class HeadKind { kClassification, kRegression };
// How position ids count: from 0 (BERT), or from pad_token_id + 1 over the non-padding tokens (RoBERTa).
enum class PositionKind { kAbsolute, kOffset };

struct ModelConfig {
  std::string family;  // "bert", "roberta", "electra", ... (messages only)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t embedding_size = 0;  // the embeddings' width; a projection maps it to hidden_size where they differ
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
  double classifier_dropout = 0.1;  // in the classification head
  double initializer_range = 0.02;  // N(0, r) for freshly initialised weights, as Hugging Face does
  int64_t num_labels = 2;
  HeadKind head = HeadKind::kClassification;
  // BERT's masked-language-model head (cls.predictions.*), for pre-training and MLM healing. Present
  // alongside the classification head. Tied (Hugging Face's default): the decoder is the word embedding
  // matrix and cls.predictions.bias its bias. Untied (tie_word_embeddings: false): the decoder has its own
  // cls.predictions.decoder.weight and .bias, as BertForMaskedLM then has (its cls.predictions.bias stays,
  // unused, like transformers').
  bool mlm_head = false;
  bool mlm_tied = true;

  // The structure, where the families differ:
  PositionKind positions = PositionKind::kAbsolute;
  bool attention_output_dropout = true;  // dropout on the attention projection's output (DistilBERT: none)
  bool ffn_output_dropout = true;        // dropout on the FFN's output (ALBERT: none)
  // The classification head on the first token's state x: [dropout] -> dense -> activation -> dropout ->
  // classifier. BERT and ALBERT (the pooler as the dense, tanh) and DistilBERT (relu) have no dropout before the
  // dense; RoBERTa (tanh) and ELECTRA (gelu) have one.
  bool head_dropout_before_dense = false;
  Activation head_activation = Activation::kTanh;

  // ELECTRA pre-training (replaced-token detection, Clark et al. 2020): a generator, an encoder of the same
  // family that shares this model's embedding tables and has its own projection, layers and masked-LM head
  // (the params of network 1), proposes replacements for the masked tokens; this model, the discriminator,
  // learns to tell replaced tokens from original ones (its rtd.* head). The loss is the generator's MLM loss plus
  // rtd_weight times the discriminator's. Sizes 0: no generator.
  struct GeneratorSizes {
    int64_t hidden_size = 0, num_heads = 0, intermediate_size = 0, num_layers = 0;
  } generator;
  double rtd_weight = 50.0;
  bool has_generator() const { return generator.hidden_size > 0; }
  // The sequence-classification head (pooler or dense, classifier): every model but a generator's view.
  bool classification_head = true;
  // The network of the layout this config describes: 0, or 1 for a generator's view (generator_view).
  int network = 0;

  // Every parameter, in the order of the model's tensors: its checkpoint name, shape, role in the forward
  // pass and the layers that use it (layout.h).
  std::vector<ParamSpec> params;

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t position_offset() const { return positions == PositionKind::kOffset ? pad_token_id + 1 : 0; }
  int64_t max_sequence_length() const { return max_positions - position_offset(); }
};

// Checks that the layout fits the config: every role the structure needs bound once (per layer for the layer
// roles), none it does not, and every shape the config's; a generator's too. Throws ERR_ARGUMENT naming the
// tensor.
void check_layout(const ModelConfig& config);

// The generator of an ELECTRA pre-training model as a model config of its own: the generator's sizes, a tied
// masked-LM head, no classification head, and as params the embedding tables of network 0 and the params of
// network 1 (all marked network 1 in the view); `indices` maps the view's params to the model's.
ModelConfig generator_view(const ModelConfig& config, std::vector<size_t>* indices);

}  // namespace healbert
