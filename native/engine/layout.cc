#include "engine/layout.h"

namespace healbert {

const char* arch_name(Arch arch) {
  switch (arch) {
    case Arch::kBert:
      return "bert";
    case Arch::kRoberta:
      return "roberta";
    case Arch::kDistilBert:
      return "distilbert";
  }
  return "unknown";
}

const char* param_kind_name(ParamKind kind) {
  switch (kind) {
    case ParamKind::kLinearWeight:
      return "linear.weight";
    case ParamKind::kBias:
      return "bias";
    case ParamKind::kLayerNormWeight:
      return "layernorm.weight";
    case ParamKind::kLayerNormBias:
      return "layernorm.bias";
    case ParamKind::kEmbedding:
      return "embedding";
  }
  return "unknown";
}

namespace {

class Builder {
 public:
  std::vector<ParamSpec> specs;

  void linear(const std::string& prefix, int64_t out, int64_t in, int64_t layer, const std::string& component,
              bool head = false) {
    specs.push_back({prefix + ".weight", {out, in}, ParamKind::kLinearWeight, layer, component, head});
    specs.push_back({prefix + ".bias", {out}, ParamKind::kBias, layer, component, head});
  }
  void layer_norm(const std::string& prefix, int64_t size, int64_t layer, const std::string& component) {
    specs.push_back({prefix + ".weight", {size}, ParamKind::kLayerNormWeight, layer, component, false});
    specs.push_back({prefix + ".bias", {size}, ParamKind::kLayerNormBias, layer, component, false});
  }
  void embedding(const std::string& name, int64_t rows, int64_t dim, const std::string& component) {
    specs.push_back({name, {rows, dim}, ParamKind::kEmbedding, -1, component, false});
  }
};

// BERT and RoBERTa share the encoder; only the prefix and the classification head differ.
void bert_like(Builder& b, const ModelConfig& c, const std::string& base) {
  const int64_t h = c.hidden_size;
  b.embedding(base + ".embeddings.word_embeddings.weight", c.vocab_size, h, "embeddings.word");
  b.embedding(base + ".embeddings.position_embeddings.weight", c.max_positions, h, "embeddings.position");
  b.embedding(base + ".embeddings.token_type_embeddings.weight", c.type_vocab_size, h, "embeddings.token_type");
  b.layer_norm(base + ".embeddings.LayerNorm", h, -1, "embeddings.layernorm");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string l = base + ".encoder.layer." + std::to_string(i);
    b.linear(l + ".attention.self.query", h, h, i, "attention.query");
    b.linear(l + ".attention.self.key", h, h, i, "attention.key");
    b.linear(l + ".attention.self.value", h, h, i, "attention.value");
    b.linear(l + ".attention.output.dense", h, h, i, "attention.output");
    b.layer_norm(l + ".attention.output.LayerNorm", h, i, "attention.layernorm");
    b.linear(l + ".intermediate.dense", c.intermediate_size, h, i, "ffn.intermediate");
    b.linear(l + ".output.dense", h, c.intermediate_size, i, "ffn.output");
    b.layer_norm(l + ".output.LayerNorm", h, i, "ffn.layernorm");
  }
}

void distilbert(Builder& b, const ModelConfig& c) {
  const int64_t h = c.hidden_size;
  b.embedding("distilbert.embeddings.word_embeddings.weight", c.vocab_size, h, "embeddings.word");
  b.embedding("distilbert.embeddings.position_embeddings.weight", c.max_positions, h, "embeddings.position");
  b.layer_norm("distilbert.embeddings.LayerNorm", h, -1, "embeddings.layernorm");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string l = "distilbert.transformer.layer." + std::to_string(i);
    b.linear(l + ".attention.q_lin", h, h, i, "attention.query");
    b.linear(l + ".attention.k_lin", h, h, i, "attention.key");
    b.linear(l + ".attention.v_lin", h, h, i, "attention.value");
    b.linear(l + ".attention.out_lin", h, h, i, "attention.output");
    b.layer_norm(l + ".sa_layer_norm", h, i, "attention.layernorm");
    b.linear(l + ".ffn.lin1", c.intermediate_size, h, i, "ffn.intermediate");
    b.linear(l + ".ffn.lin2", h, c.intermediate_size, i, "ffn.output");
    b.layer_norm(l + ".output_layer_norm", h, i, "ffn.layernorm");
  }
}

}  // namespace

std::vector<ParamSpec> parameter_layout(const ModelConfig& c) {
  Builder b;
  const int64_t h = c.hidden_size;
  switch (c.arch) {
    case Arch::kBert:
      bert_like(b, c, "bert");
      b.linear("bert.pooler.dense", h, h, -1, "pooler");
      b.linear("classifier", c.num_labels, h, -1, "classifier", true);
      if (c.mlm_head) {
        // BertForMaskedLM's head; its decoder weight is the word embedding matrix (tied), so only its bias
        // is a parameter of its own.
        b.linear("cls.predictions.transform.dense", h, h, -1, "mlm.transform", true);
        b.layer_norm("cls.predictions.transform.LayerNorm", h, -1, "mlm.layernorm");
        b.specs.back().is_head = true;
        b.specs[b.specs.size() - 2].is_head = true;
        b.specs.push_back({"cls.predictions.bias", {c.vocab_size}, ParamKind::kBias, -1, "mlm.bias", true});
        if (!c.mlm_tied) b.linear("cls.predictions.decoder", c.vocab_size, h, -1, "mlm.decoder", true);
      }
      break;
    case Arch::kRoberta:
      // RobertaForSequenceClassification has no pooler: its head is dense + tanh + out_proj on <s>.
      bert_like(b, c, "roberta");
      b.linear("classifier.dense", h, h, -1, "classifier.dense", true);
      b.linear("classifier.out_proj", c.num_labels, h, -1, "classifier", true);
      break;
    case Arch::kDistilBert:
      distilbert(b, c);
      b.linear("pre_classifier", h, h, -1, "classifier.dense", true);
      b.linear("classifier", c.num_labels, h, -1, "classifier", true);
      break;
  }
  return b.specs;
}

}  // namespace healbert
