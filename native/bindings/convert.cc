#include "bindings/convert.h"

#include <cstring>

#include "bindings/js_errors.h"
#include "engine/counter_random.h"
#include "engine/errors.h"

namespace healbert::js {

namespace {

[[noreturn]] void bad(Napi::Env env, const std::string& message) { throw_error(env, code::kArgument, message); }

Napi::Value field(const Napi::Object& obj, const char* key) { return obj.Get(key); }

template <typename T, napi_typedarray_type Type>
std::vector<T> copy_typed_array(const Napi::Object& obj, const char* key, const char* expected) {
  Napi::Value value = obj.Get(key);
  if (value.IsUndefined() || value.IsNull()) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != Type)
    bad(obj.Env(), std::string("batch.") + key + " must be " + expected);
  auto array = value.As<Napi::TypedArrayOf<T>>();
  std::vector<T> out(array.ElementLength());
  if (!out.empty()) std::memcpy(out.data(), array.Data(), out.size() * sizeof(T));
  return out;
}

// The value of a string field that names one of `choices`.
template <typename E>
E enum_field(const Napi::Object& obj, const char* key, std::initializer_list<std::pair<const char*, E>> choices) {
  const std::string value = string_field(obj, key);
  std::string known;
  for (const auto& [name, e] : choices) {
    if (value == name) return e;
    known += known.empty() ? name : std::string(", ") + name;
  }
  bad(obj.Env(), std::string(key) + " must be one of " + known + ", got '" + value + "'");
}

}  // namespace

double number_field(const Napi::Object& obj, const char* key) {
  Napi::Value v = field(obj, key);
  if (!v.IsNumber()) bad(obj.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t int_field(const Napi::Object& obj, const char* key) {
  const double v = number_field(obj, key);
  if (v != static_cast<double>(static_cast<int64_t>(v))) bad(obj.Env(), std::string(key) + " must be an integer");
  return static_cast<int64_t>(v);
}

std::string string_field(const Napi::Object& obj, const char* key) {
  Napi::Value v = field(obj, key);
  if (!v.IsString()) bad(obj.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

bool bool_field(const Napi::Object& obj, const char* key, bool fallback) {
  Napi::Value v = field(obj, key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) bad(obj.Env(), std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

namespace {

const std::initializer_list<std::pair<const char*, Activation>> kActivations = {{"gelu", Activation::kGeluErf},
                                                                                {"gelu_tanh", Activation::kGeluTanh},
                                                                                {"relu", Activation::kRelu},
                                                                                {"silu", Activation::kSilu},
                                                                                {"tanh", Activation::kTanh}};

const std::initializer_list<std::pair<const char*, ParamKind>> kKinds = {
    {"linear.weight", ParamKind::kLinearWeight},
    {"bias", ParamKind::kBias},
    {"layernorm.weight", ParamKind::kLayerNormWeight},
    {"layernorm.bias", ParamKind::kLayerNormBias},
    {"embedding", ParamKind::kEmbedding}};

std::vector<int64_t> int_list(const Napi::Object& obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return {};
  if (!v.IsArray()) bad(obj.Env(), std::string(key) + " must be an array of integers");
  auto array = v.As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) bad(obj.Env(), std::string(key) + " must be an array of integers");
    out.push_back(item.As<Napi::Number>().Int64Value());
  }
  return out;
}

ParamSpec to_param_spec(const Napi::Value& value, int64_t num_layers, int64_t generator_layers) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) bad(env, "config.params entries must be objects");
  const auto obj = value.As<Napi::Object>();
  ParamSpec p;
  p.name = string_field(obj, "name");
  p.shape = int_list(obj, "shape");
  p.kind = enum_field<ParamKind>(obj, "kind", kKinds);
  const std::string role = string_field(obj, "role");
  const auto parsed = role_from_name(role);
  if (!parsed) bad(env, p.name + ": unknown role '" + role + "'");
  p.role = *parsed;
  p.layer = int_field(obj, "layer");
  p.layers = int_list(obj, "layers");
  p.component = string_field(obj, "component");
  p.is_head = bool_field(obj, "isHead", false);
  p.padding_idx = obj.Get("paddingIdx").IsUndefined() ? -1 : int_field(obj, "paddingIdx");
  const auto init = obj.Get("init");
  if (!init.IsUndefined()) {
    if (!init.IsObject()) bad(env, p.name + ": init must be an object");
    const auto o = init.As<Napi::Object>();
    p.init_std = number_field(o, "std");
    p.init_cutoff = o.Get("cutoff").IsUndefined() ? 0.0 : number_field(o, "cutoff");
    const auto row = o.Get("paddingRow");
    p.init_zero_padding = row.IsUndefined() || string_field(o, "paddingRow") == "zero";
    if (!(p.init_std > 0) || !(p.init_cutoff >= 0)) bad(env, p.name + ": init needs std > 0 and cutoff >= 0");
  }
  p.network = obj.Get("network").IsUndefined() ? 0 : static_cast<int>(int_field(obj, "network"));
  if (p.network != 0 && p.network != 1) bad(env, p.name + ": network must be 0 or 1");
  if (p.shape.empty() || p.shape.size() > 2) bad(env, p.name + ": a parameter has 1 or 2 dimensions");
  for (int64_t d : p.shape)
    if (d < 1) bad(env, p.name + ": shape sizes must be positive");
  if (is_layer_role(p.role) == p.layers.empty()) bad(env, p.name + ": layer roles, and only they, list their layers");
  for (int64_t l : p.layers)
    if (l < 0 || l >= (p.network == 1 ? generator_layers : num_layers))
      bad(env, p.name + ": layer " + std::to_string(l) + " does not exist");
  return p;
}

}  // namespace

ModelConfig to_model_config(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) bad(env, "config must be an object");
  const auto obj = value.As<Napi::Object>();
  ModelConfig c;
  c.family = string_field(obj, "arch");
  c.vocab_size = int_field(obj, "vocabSize");
  c.hidden_size = int_field(obj, "hiddenSize");
  c.embedding_size = int_field(obj, "embeddingSize");
  c.num_layers = int_field(obj, "numLayers");
  c.num_heads = int_field(obj, "numHeads");
  c.intermediate_size = int_field(obj, "intermediateSize");
  c.max_positions = int_field(obj, "maxPositions");
  c.type_vocab_size = int_field(obj, "typeVocabSize");
  c.pad_token_id = int_field(obj, "padTokenId");
  c.layer_norm_eps = number_field(obj, "layerNormEps");
  c.activation = enum_field<Activation>(obj, "activation", kActivations);
  c.hidden_dropout = number_field(obj, "hiddenDropout");
  c.attention_dropout = number_field(obj, "attentionDropout");
  c.classifier_dropout = number_field(obj, "classifierDropout");
  c.initializer_range = number_field(obj, "initializerRange");
  c.num_labels = int_field(obj, "numLabels");
  c.head = enum_field<HeadKind>(obj, "head",
                                {{"classification", HeadKind::kClassification}, {"regression", HeadKind::kRegression}});
  // Structural sanity, so a careless config cannot make the engine divide by zero or allocate nonsense.
  if (c.vocab_size < 1 || c.hidden_size < 1 || c.embedding_size < 1 || c.num_layers < 0 || c.num_heads < 1 ||
      c.intermediate_size < 1 || c.max_positions < 1 || c.type_vocab_size < 0 || c.num_labels < 1)
    bad(env, "config sizes must be positive");
  if (c.hidden_size % c.num_heads != 0) bad(env, "config.hiddenSize must be divisible by config.numHeads");
  if (c.head == HeadKind::kRegression && c.num_labels != 1) bad(env, "a regression head has exactly one output");
  c.mlm_head = bool_field(obj, "mlmHead", false);
  c.mlm_tied = bool_field(obj, "mlmTied", true);
  const auto structure = obj.Get("structure");
  if (!structure.IsObject()) bad(env, "config.structure must be an object");
  const auto s = structure.As<Napi::Object>();
  c.positions = enum_field<PositionKind>(
      s, "positions",
      {{"absolute", PositionKind::kAbsolute}, {"offset", PositionKind::kOffset}, {"none", PositionKind::kNone}});
  const auto optional_enum = [&](const char* key, auto fallback, auto choices) {
    return s.Get(key).IsUndefined() ? fallback : enum_field<decltype(fallback)>(s, key, choices);
  };
  c.norm = optional_enum("norm", NormPlacement::kPost,
                         std::initializer_list<std::pair<const char*, NormPlacement>>{{"post", NormPlacement::kPost},
                                                                                      {"pre", NormPlacement::kPre}});
  c.attention = optional_enum(
      "attention", AttentionKind::kAbsolute,
      std::initializer_list<std::pair<const char*, AttentionKind>>{{"absolute", AttentionKind::kAbsolute},
                                                                   {"disentangled", AttentionKind::kDisentangled},
                                                                   {"rotary", AttentionKind::kRotary}});
  c.glu = !s.Get("ffn").IsUndefined() && string_field(s, "ffn") == "glu";
  c.embedding_norm_after_projection = bool_field(s, "embeddingNormAfterProjection", false);
  c.pooling = optional_enum(
      "pooling", Pooling::kFirst,
      std::initializer_list<std::pair<const char*, Pooling>>{{"first", Pooling::kFirst}, {"mean", Pooling::kMean}});
  c.head_activation = enum_field<Activation>(s, "headActivation", kActivations);
  // Dropout by site: the structure says where a family has one, the config (or its hidden dropout) how much.
  const auto probability = [&](const char* key, double fallback) {
    return obj.Get(key).IsUndefined() ? fallback : number_field(obj, key);
  };
  c.embedding_dropout = probability("embeddingDropout", c.hidden_dropout);
  c.attention_output_dropout =
      bool_field(s, "attentionOutputDropout", true) ? probability("attentionOutputDropout", c.hidden_dropout) : 0.0;
  c.ffn_inner_dropout = probability("ffnInnerDropout", 0.0);
  c.ffn_output_dropout = bool_field(s, "ffnOutputDropout", true) ? c.hidden_dropout : 0.0;
  c.head_input_dropout =
      bool_field(s, "headDropoutBeforeDense", false) ? probability("headInputDropout", c.classifier_dropout) : 0.0;
  for (double p : {c.embedding_dropout, c.attention_output_dropout, c.ffn_inner_dropout, c.head_input_dropout})
    if (!(p >= 0.0 && p < 1.0)) bad(env, "dropout probabilities must be in [0, 1)");
  if (c.attention == AttentionKind::kDisentangled) {
    const auto r = obj.Get("relative");
    if (!r.IsObject()) bad(env, "disentangled attention needs config.relative");
    const auto o = r.As<Napi::Object>();
    c.relative.buckets = int_field(o, "buckets");
    c.relative.max_relative = int_field(o, "maxRelative");
    c.relative.c2p = bool_field(o, "c2p", false);
    c.relative.p2c = bool_field(o, "p2c", false);
    c.relative.share_keys = bool_field(o, "shareKeys", false);
    if (c.relative.span() < 1 || !(c.relative.c2p || c.relative.p2c))
      bad(env, "config.relative needs a positive span and at least one of c2p and p2c");
  }
  if (c.attention == AttentionKind::kRotary) {
    const auto r = obj.Get("rotary");
    if (!r.IsObject()) bad(env, "rotary attention needs config.rotary");
    const auto o = r.As<Napi::Object>();
    const double global = number_field(o, "globalTheta"), local = number_field(o, "localTheta");
    const int64_t window = int_field(o, "window");
    if (!(global > 0) || !(local > 0) || window < 0) bad(env, "config.rotary needs positive thetas and a window >= 0");
    c.rope_theta.assign(static_cast<size_t>(c.num_layers), global);
    c.layer_window.assign(static_cast<size_t>(c.num_layers), -1);
    for (int64_t l : int_list(o, "localLayers")) {
      if (l < 0 || l >= c.num_layers) bad(env, "config.rotary.localLayers names a layer that does not exist");
      c.rope_theta[static_cast<size_t>(l)] = local;
      c.layer_window[static_cast<size_t>(l)] = window;
    }
  }
  const auto generator = obj.Get("generator");
  if (generator.IsObject()) {
    const auto g = generator.As<Napi::Object>();
    c.generator.hidden_size = int_field(g, "hiddenSize");
    c.generator.num_heads = int_field(g, "numHeads");
    c.generator.intermediate_size = int_field(g, "intermediateSize");
    c.generator.num_layers = int_field(g, "numLayers");
    if (c.generator.hidden_size < 1 || c.generator.num_heads < 1 || c.generator.intermediate_size < 1 ||
        c.generator.num_layers < 1 || c.generator.hidden_size % c.generator.num_heads != 0)
      bad(env, "config.generator sizes must be positive, the hidden size divisible by the heads");
    c.rtd_weight = obj.Get("rtdWeight").IsUndefined() ? 50.0 : number_field(obj, "rtdWeight");
  }
  const auto params = obj.Get("params");
  if (!params.IsArray()) bad(env, "config.params must be an array (the layout)");
  const auto list = params.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i)
    c.params.push_back(to_param_spec(list.Get(i), c.num_layers, c.generator.num_layers));
  return c;  // the engine checks the layout against the config (check_layout)
}

HostBatch to_host_batch(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) bad(env, "batch must be an object");
  const auto obj = value.As<Napi::Object>();
  HostBatch b;
  b.batch_size = int_field(obj, "batchSize");
  b.seq_len = int_field(obj, "seqLen");
  b.input_ids = copy_typed_array<int32_t, napi_int32_array>(obj, "inputIds", "an Int32Array");
  b.attention_mask = copy_typed_array<uint8_t, napi_uint8_array>(obj, "attentionMask", "a Uint8Array");
  b.token_type_ids = copy_typed_array<int32_t, napi_int32_array>(obj, "tokenTypeIds", "an Int32Array");
  b.mlm_labels = copy_typed_array<int32_t, napi_int32_array>(obj, "mlmLabels", "an Int32Array");
  Napi::Value labels = obj.Get("labels");
  if (labels.IsTypedArray()) {
    const auto type = labels.As<Napi::TypedArray>().TypedArrayType();
    if (type == napi_int32_array) {
      b.class_labels = copy_typed_array<int32_t, napi_int32_array>(obj, "labels", "an Int32Array");
    } else if (type == napi_float32_array) {
      b.regression_labels = copy_typed_array<float, napi_float32_array>(obj, "labels", "a Float32Array");
    } else {
      bad(env, "batch.labels must be an Int32Array (classes) or a Float32Array (regression)");
    }
  } else if (!labels.IsUndefined() && !labels.IsNull()) {
    bad(env, "batch.labels must be an Int32Array (classes) or a Float32Array (regression)");
  }
  return b;
}

AdamWOptions to_adamw_options(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) bad(env, "optimizer options must be an object");
  const auto obj = value.As<Napi::Object>();
  AdamWOptions o;
  o.lr = number_field(obj, "lr");
  o.beta1 = number_field(obj, "beta1");
  o.beta2 = number_field(obj, "beta2");
  o.eps = number_field(obj, "eps");
  o.weight_decay = number_field(obj, "weightDecay");
  o.warmup_steps = int_field(obj, "warmupSteps");
  o.total_steps = int_field(obj, "totalSteps");
  o.max_grad_norm = number_field(obj, "maxGradNorm");
  o.allow_fused = bool_field(obj, "fused", true);
  o.fused_on_cpu = bool_field(obj, "fusedOnCpu", false);
  o.clip_on_device = bool_field(obj, "clipOnDevice", true);
  o.one_pass_cpu = bool_field(obj, "onePass", true);
  return o;
}

CorruptionRequest to_corruption_request(const Napi::Value& value, size_t num_params) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) bad(env, "corruption request must be an object");
  const auto obj = value.As<Napi::Object>();
  CorruptionRequest r;
  r.method = enum_field<CorruptionMethod>(obj, "method",
                                          {{"reinit", CorruptionMethod::kReinit},
                                           {"gaussian", CorruptionMethod::kGaussian},
                                           {"zero", CorruptionMethod::kZero},
                                           {"uniform", CorruptionMethod::kUniform},
                                           {"scale", CorruptionMethod::kScale},
                                           {"sign-flip", CorruptionMethod::kSignFlip},
                                           {"bit-flip", CorruptionMethod::kBitFlip},
                                           {"revert", CorruptionMethod::kRevert}});
  Napi::Value targets = obj.Get("targets");
  if (!targets.IsArray()) bad(env, "targets must be an array of parameter indices");
  auto array = targets.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array[i];
    if (!v.IsNumber()) bad(env, "targets must hold numbers");
    const int64_t index = v.As<Napi::Number>().Int64Value();
    if (index < 0 || static_cast<size_t>(index) >= num_params) bad(env, "target index out of range");
    r.targets.push_back(static_cast<size_t>(index));
  }
  // slices: per target, [offset, length, stride, count] quadruples one after the other (empty: the whole).
  Napi::Value slices = obj.Get("slices");
  if (!slices.IsUndefined()) {
    if (!slices.IsArray() || slices.As<Napi::Array>().Length() != array.Length())
      bad(env, "slices must be an array with one entry per target");
    auto lists = slices.As<Napi::Array>();
    for (uint32_t i = 0; i < lists.Length(); ++i) {
      Napi::Value list = lists[i];
      if (!list.IsArray() || list.As<Napi::Array>().Length() % 4 != 0)
        bad(env, "slices[i] must be an array of [offset, length, stride, count] quadruples");
      auto q = list.As<Napi::Array>();
      std::vector<Slice> parts;
      for (uint32_t k = 0; k + 3 < q.Length(); k += 4) {
        int64_t v[4];
        for (uint32_t m = 0; m < 4; ++m) {
          Napi::Value x = q[k + m];
          if (!x.IsNumber()) bad(env, "slices must hold numbers");
          v[m] = x.As<Napi::Number>().Int64Value();
        }
        parts.push_back(Slice{v[0], v[1], v[2], v[3]});
      }
      r.slices.push_back(std::move(parts));
    }
  }
  r.level = number_field(obj, "level");
  r.relative = bool_field(obj, "relative", false);
  r.init = enum_field<InitVariant>(obj, "init",
                                   {{"kaiming-sqrt5", InitVariant::kKaimingSqrt5},
                                    {"kaiming-0", InitVariant::kKaimingZero},
                                    {"bert-normal", InitVariant::kBertNormal}});
  r.fraction = number_field(obj, "fraction");
  if (!(r.fraction >= 0.0 && r.fraction <= 1.0)) bad(env, "fraction must be in [0, 1]");
  r.exponent_bits_only = bool_field(obj, "exponentBitsOnly", false);
  Napi::Value snapshot = obj.Get("snapshot");
  if (snapshot.IsString()) r.snapshot = snapshot.As<Napi::String>().Utf8Value();
  const double seed = number_field(obj, "seed");
  if (seed < 0 || seed != static_cast<double>(static_cast<uint64_t>(seed)))
    bad(env, "seed must be a non-negative integer");
  r.seed = static_cast<uint64_t>(seed);
  r.report = bool_field(obj, "exactReport", true) ? ReportLevel::kExact : ReportLevel::kNone;
  r.tensor_ops = bool_field(obj, "tensorOps", false);
  r.kernel_on_host = bool_field(obj, "kernelOnHost", false);
  Napi::Value member = obj.Get("member");
  if (!member.IsUndefined()) {
    if (!member.IsNumber()) bad(env, "member must be a number");
    r.member = member.As<Napi::Number>().Int64Value();
  }
  return r;
}

Napi::Object corruption_report_to_js(Napi::Env env, const CorruptionReport& report) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Array tensors = Napi::Array::New(env, report.tensors.size());
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    const auto& t = report.tensors[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", static_cast<double>(t.index));
    o.Set("numel", static_cast<double>(t.numel));
    o.Set("selected", static_cast<double>(t.selected));
    o.Set("changed", static_cast<double>(t.changed));
    o.Set("normBefore", t.norm_before);
    o.Set("normChange", t.norm_change);
    o.Set("nonFinite", static_cast<double>(t.non_finite));
    o.Set("bitsFlipped", static_cast<double>(t.bits_flipped));
    if (!t.slice_selected.empty()) {
      Napi::Array selected = Napi::Array::New(env, t.slice_selected.size());
      Napi::Array changed = Napi::Array::New(env, t.slice_changed.size());
      for (size_t k = 0; k < t.slice_selected.size(); ++k) {
        selected[k] = static_cast<double>(t.slice_selected[k]);
        changed[k] = static_cast<double>(t.slice_changed[k]);
      }
      o.Set("sliceSelected", selected);
      o.Set("sliceChanged", changed);
    }
    tensors[i] = o;
  }
  out.Set("tensors", tensors);
  out.Set("milliseconds", report.milliseconds);
  out.Set("fused", report.fused);
  out.Set("kernel", report.kernel);
  out.Set("streamVersion", crng::kStreamVersion);
  return out;
}

torch::ScalarType to_dtype(Napi::Env env, const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float16") return torch::kFloat16;
  if (name == "bfloat16") return torch::kBFloat16;
  bad(env, "dtype must be float32, float16 or bfloat16, got '" + name + "'");
}

TensorSlot to_slot(Napi::Env env, const Napi::Value& value) {
  if (value.IsUndefined()) return TensorSlot::kValue;
  if (!value.IsString()) bad(env, "slot must be a string");
  const std::string name = value.As<Napi::String>().Utf8Value();
  if (name == "value") return TensorSlot::kValue;
  if (name == "exp_avg") return TensorSlot::kExpAvg;
  if (name == "exp_avg_sq") return TensorSlot::kExpAvgSq;
  bad(env, "slot must be value, exp_avg or exp_avg_sq, got '" + name + "'");
}

const char* dtype_name(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32:
      return "float32";
    case torch::kFloat16:
      return "float16";
    case torch::kBFloat16:
      return "bfloat16";
    default:
      return "other";
  }
}

Napi::Array layout_to_js(Napi::Env env, const std::vector<ParamSpec>& layout) {
  Napi::Array out = Napi::Array::New(env, layout.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    const auto& s = layout[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", s.name);
    Napi::Array shape = Napi::Array::New(env, s.shape.size());
    for (size_t d = 0; d < s.shape.size(); ++d) shape[d] = Napi::Number::New(env, static_cast<double>(s.shape[d]));
    o.Set("shape", shape);
    o.Set("kind", param_kind_name(s.kind));
    o.Set("role", role_name(s.role));
    o.Set("layer", static_cast<double>(s.layer));
    Napi::Array layers = Napi::Array::New(env, s.layers.size());
    for (size_t l = 0; l < s.layers.size(); ++l) layers[l] = Napi::Number::New(env, static_cast<double>(s.layers[l]));
    o.Set("layers", layers);
    o.Set("component", s.component);
    o.Set("isHead", s.is_head);
    if (s.padding_idx >= 0) o.Set("paddingIdx", static_cast<double>(s.padding_idx));
    if (s.network != 0) o.Set("network", static_cast<double>(s.network));
    out[i] = o;
  }
  return out;
}

Napi::Float32Array tensor_to_float32(Napi::Env env, const torch::Tensor& cpu_float) {
  auto t = cpu_float.contiguous();
  auto out = Napi::Float32Array::New(env, t.numel());
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<float>(), t.numel() * sizeof(float));
  return out;
}

Napi::Float64Array doubles_to_js(Napi::Env env, const std::vector<double>& values) {
  auto out = Napi::Float64Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return out;
}

}  // namespace healbert::js
