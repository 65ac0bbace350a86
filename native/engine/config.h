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
// How position ids count: from 0 (BERT), or from pad_token_id + 1 over the non-padding tokens (RoBERTa); or no
// position embeddings (DeBERTa-v3, ModernBERT: the attention carries positions).
enum class PositionKind { kAbsolute, kOffset, kNone };
// Where the LayerNorms sit: after each residual sum (BERT), or before each block with a final norm (ModernBERT).
enum class NormPlacement { kPost, kPre };
// softmax(QK^T / sqrt(d)) (BERT); DeBERTa's disentangled attention (attention_disentangled.h); rotary position
// embeddings on the query and key, global or sliding-window per layer (attention_rotary.h).
enum class AttentionKind { kAbsolute, kDisentangled, kRotary };
// What the classification head reads: the first token's state, or the mean over the real tokens.
enum class Pooling { kFirst, kMean };

// DeBERTa's relative positions (transformers' make_log_bucket_position and DisentangledSelfAttention).
struct RelativeAttention {
  int64_t buckets = -1;        // position_buckets; <= 0: none
  int64_t max_relative = 512;  // max_relative_positions
  bool c2p = true, p2c = true;
  bool share_keys = true;  // share_att_key: positions projected by the content key and query projections
  int64_t span() const { return buckets > 0 ? buckets : max_relative; }  // the embeddings have 2 * span rows
};

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
  double hidden_dropout = 0.1;      // FFN output where the structure has it; DeBERTa's relative embeddings
                                    // (the other sites' probabilities below default to it)
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
  NormPlacement norm = NormPlacement::kPost;
  AttentionKind attention = AttentionKind::kAbsolute;
  bool glu = false;  // the FFN input's rows are [input; gate]: act(input) * gate (ModernBERT's GeGLU)
  // The embeddings' LayerNorm after the projection (DeBERTa's embed_proj), not before it (ELECTRA, ALBERT).
  bool embedding_norm_after_projection = false;
  // Dropout probabilities by site, 0 where a family has none (the TypeScript config resolves them):
  double embedding_dropout = 0.1;         // on the embeddings' output
  double attention_output_dropout = 0.1;  // on the attention projection's output (DistilBERT: none)
  double ffn_inner_dropout = 0;           // on the FFN's activation, before its output projection (ModernBERT)
  double ffn_output_dropout = 0.1;        // on the FFN's output (ALBERT, ModernBERT: none)
  // The classification head on the pooled state x: dropout(head_input_dropout) -> dense -> activation ->
  // [norm] -> dropout(classifier_dropout) -> classifier. BERT and ALBERT (the pooler as the dense, tanh) and
  // DistilBERT (relu) have no dropout before the dense; RoBERTa (tanh), ELECTRA (gelu) and DeBERTa (its
  // ContextPooler's pooler_dropout) have one; ModernBERT a norm after the activation (its head.norm).
  double head_input_dropout = 0;
  Activation head_activation = Activation::kTanh;
  Pooling pooling = Pooling::kFirst;
  RelativeAttention relative;  // attention == kDisentangled
  // attention == kRotary, per layer: the rotary theta, and the half-window w of a sliding-window layer (a token
  // attends to |i - j| <= w), -1 for a global one.
  std::vector<double> rope_theta;
  std::vector<int64_t> layer_window;

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
  // The FFN input's rows: the intermediate size, twice that for a GLU.
  int64_t ffn_in_rows() const { return glu ? 2 * intermediate_size : intermediate_size; }
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
