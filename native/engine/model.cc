#include "engine/model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>

#include "engine/device.h"
#include "engine/errors.h"
#include "engine/vocab_loss.h"

namespace healbert {

namespace {

// The MLM head's inputs to vocab_loss.h (one member: states (N, H), decoder (V, H), bias (V), labels (N)).
struct VocabLossInputs {
  torch::Tensor states, decoder, bias, labels;
};

// For a solo model on the CPU, where the (N, V) logits were most of a pre-training step, the loss runs in
// chunks over the vocabulary; fleets and CUDA take the logits path (nullopt).
std::optional<VocabLossInputs> vocab_loss_inputs(const ModelConfig& config, const Weights& w, int64_t members,
                                                 const torch::Device& device, const torch::Tensor& hidden,
                                                 const DeviceBatch& batch, const ForwardContext& ctx) {
  if (members != 1 || !device.is_cpu()) return std::nullopt;
  auto [states, labels] = mlm_states(config, w, hidden, batch, ctx);
  auto [decoder, bias] = mlm_decoder(config, w);
  return VocabLossInputs{states.squeeze(0), decoder.squeeze(0), bias.squeeze(0), labels};
}

// torch.nn.init.trunc_normal_(mean 0, std, a = -cutoff std, b = cutoff std): uniform draws between the normal
// CDF's values at the bounds, mapped back through the inverse CDF, clamped.
torch::Tensor truncated_normal(const std::vector<int64_t>& shape, double sd, double cutoff, at::Generator& gen) {
  const auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lo = cdf(-cutoff), hi = cdf(cutoff);
  auto t = torch::empty(shape, torch::kFloat32).uniform_(2 * lo - 1, 2 * hi - 1, gen);
  t.erfinv_().mul_(sd * std::sqrt(2.0));
  return t.clamp_(-cutoff * sd, cutoff * sd);
}

}  // namespace

Model::Model(ModelConfig config, torch::Device device, torch::ScalarType compute, uint64_t seed, bool fused_attention,
             bool pack_padding, int64_t members)
    : config_(config),
      members_(members),
      active_(static_cast<size_t>(std::max<int64_t>(members, 1)), true),
      layout_(config.params),
      device_(device),
      compute_(compute),
      dropout_generator_(make_device_generator(device, seed)),
      seed_(seed),
      fused_attention_(fused_attention && has_fused_attention()),
      pack_padding_(pack_padding) {
  HB_CHECK(members >= 1, code::kArgument, "a model needs at least one member, got ", members);
  check_layout(config_);
  if (config_.has_generator()) {
    HB_CHECK(members == 1, code::kArgument, "ELECTRA pre-training runs one model, not a fleet of ", members);
    gen_config_ = generator_view(config_, &gen_indices_);
  }
  initialise(seed);
  weights_ = bind_weights(config_, layout_, tensors_);
  if (config_.has_generator()) gen_weights_ = bind_generator(tensors_);
  make_compute_copies();
}

Weights Model::bind_generator(const std::vector<torch::Tensor>& tensors) const {
  std::vector<torch::Tensor> view;
  for (size_t i : gen_indices_) view.push_back(tensors.at(i));
  return bind_weights(gen_config_, gen_config_.params, view);
}

const Weights& Model::generator_weights() const {
  return compute_copy_indices_.empty() ? gen_weights_ : gen_compute_weights_;
}

void Model::make_compute_copies() {
  copies_.assign(tensors_.size(), torch::Tensor());
  // On the CPU only: on CUDA the casts are cheap next to the products, and that path keeps autocast's shape.
  if (compute_ != torch::kBFloat16 || !device_.is_cpu()) return;
  bool has_mlm_head = false;
  for (const auto& spec : layout_) has_mlm_head = has_mlm_head || spec.role == Role::kMlmBias;
  std::vector<torch::Tensor> bound = tensors_;
  torch::Tensor tied;
  for (size_t i = 0; i < layout_.size(); ++i) {
    const auto& spec = layout_[i];
    const bool word_decoder = spec.role == Role::kWord && has_mlm_head && config_.mlm_tied;
    if (spec.kind != ParamKind::kLinearWeight && spec.kind != ParamKind::kBias && !word_decoder) continue;
    copies_[i] = torch::empty_like(tensors_[i], tensors_[i].options().dtype(compute_))
                     .set_requires_grad(tensors_[i].requires_grad());
    compute_copy_indices_.push_back(i);
    if (word_decoder) {
      tied = copies_[i];  // the lookup keeps reading the float32 table
    } else {
      bound[i] = copies_[i];
    }
  }
  compute_weights_ = bind_weights(config_, layout_, bound);
  if (tied.defined()) compute_weights_.tied_decoder = tied;
  if (config_.has_generator()) {
    gen_compute_weights_ = bind_generator(bound);
    if (tied.defined()) gen_compute_weights_.tied_decoder = tied;
  }
  copies_stale_ = true;
}

const Weights& Model::forward_weights() {
  if (compute_copy_indices_.empty()) return weights_;
  if (copies_stale_) {
    torch::NoGradGuard no_grad;
    for (size_t i : compute_copy_indices_) copies_[i].detach().copy_(tensors_[i].detach());
    copies_stale_ = false;
  }
  return compute_weights_;
}

void Model::fold_copy_gradients(bool all) {
  torch::NoGradGuard no_grad;
  for (size_t i : compute_copy_indices_) {
    const auto& copy_grad = copies_[i].grad();
    auto& master = tensors_[i];
    if (!copy_grad.defined() || (!all && !master.grad().defined())) continue;
    auto widened = copy_grad.to(torch::kFloat32);
    master.mutable_grad() = master.grad().defined() ? master.grad() + widened : widened;
    copies_[i].mutable_grad().reset();
  }
}

void Model::check_member(int64_t member, bool allow_all) const {
  HB_CHECK((allow_all && member == -1) || (member >= 0 && member < members_), code::kArgument, "member ", member,
           " out of range: this model has ", members_, members_ == 1 ? " member" : " members");
}

std::vector<torch::Tensor> Model::member_tensors(int64_t member) const {
  check_member(member, false);
  copies_stale_ = true;
  std::vector<torch::Tensor> views;
  for (const auto& t : tensors_) views.push_back(t.detach().select(0, member));
  return views;
}

void Model::set_member_active(int64_t member, bool active) {
  check_member(member, false);
  active_[static_cast<size_t>(member)] = active;
}

void Model::initialise(uint64_t seed) {
  // Hugging Face's _init_weights: N(0, initializer_range) for Linear and Embedding weights (padding rows
  // zero: the layout's padding_idx), zero biases, LayerNorm 1 and 0; where the layout says otherwise (ModernBERT),
  // its own std, truncated at +-cutoff std. Drawn on the CPU so the same seed gives the same bytes on every
  // device; the checkpoint then overwrites whatever it has.
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& spec : layout_) {
    torch::Tensor t;
    const double sd = spec.init_std > 0 ? spec.init_std : config_.initializer_range;
    switch (spec.kind) {
      case ParamKind::kLinearWeight:
      case ParamKind::kEmbedding:
        t = spec.init_cutoff > 0 ? truncated_normal(spec.shape, sd, spec.init_cutoff, gen)
                                 : torch::empty(spec.shape, torch::kFloat32).normal_(0.0, sd, gen);
        break;
      case ParamKind::kBias:
      case ParamKind::kLayerNormBias:
        t = torch::zeros(spec.shape, torch::kFloat32);
        break;
      case ParamKind::kLayerNormWeight:
        t = torch::ones(spec.shape, torch::kFloat32);
        break;
    }
    if (spec.init_zero_padding && spec.padding_idx >= 0 && spec.padding_idx < spec.shape[0])
      t[spec.padding_idx].zero_();
    // Every member starts from the same values: (K, ...).
    auto stacked = spec.shape;
    stacked.insert(stacked.begin(), members_);
    t = t.unsqueeze(0).expand(stacked).contiguous();
    tensors_.push_back(t.to(device_).set_requires_grad(true));
  }
}

void Model::load_from_file(const std::string& path, const std::vector<FileTensor>& entries, int64_t member) {
  check_member(member, true);
  torch::NoGradGuard no_grad;
  copies_stale_ = true;
  std::ifstream in(path, std::ios::binary);
  HB_CHECK(in.good(), code::kIo, "cannot open ", path);
  for (const auto& e : entries) {
    HB_CHECK(e.index < layout_.size(), code::kInternal, "tensor index out of range");
    const auto& spec = layout_[e.index];
    auto staging = torch::empty(spec.shape, torch::TensorOptions().dtype(e.dtype));
    HB_CHECK(static_cast<int64_t>(staging.nbytes()) == e.nbytes, code::kCheckpoint, spec.name, ": ", e.nbytes,
             " bytes in the file, but its shape and dtype need ", staging.nbytes());
    in.seekg(e.offset);
    in.read(static_cast<char*>(staging.data_ptr()), e.nbytes);
    HB_CHECK(in.gcount() == e.nbytes, code::kCheckpoint, path, " ended while reading ", spec.name,
             " (file truncated?)");
    auto& target = target_of(e.index, e.slot);
    (member < 0 ? target : target.select(0, member)).copy_(staging.to(torch::kFloat32));  // broadcasts over members
  }
}

void Model::save_to_file(const std::string& path, const std::string& header, const std::vector<size_t>& order,
                         const std::vector<torch::ScalarType>& dtypes, const std::vector<TensorSlot>& slots,
                         int64_t member) {
  HB_CHECK(order.size() == dtypes.size(), code::kInternal, "one dtype per saved tensor expected");
  check_member(member, false);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  HB_CHECK(out.good(), code::kIo, "cannot write ", path);
  const uint64_t header_len = header.size();
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>((header_len >> (8 * i)) & 0xFF);
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (size_t k = 0; k < order.size(); ++k) {
    const TensorSlot slot = slots.empty() ? TensorSlot::kValue : slots.at(k);
    auto cpu = target_of(order[k], slot).detach().select(0, member).to(torch::kCPU, dtypes[k]).contiguous();
    out.write(static_cast<const char*>(cpu.data_ptr()), static_cast<std::streamsize>(cpu.nbytes()));
  }
  out.flush();
  HB_CHECK(out.good(), code::kIo, "writing ", path, " failed (disk full?)");
}

torch::Tensor Model::get_parameter(size_t index, int64_t member) const {
  check_member(member, false);
  return tensors_.at(index).detach().select(0, member).to(torch::kCPU, torch::kFloat32).clone();
}

void Model::set_parameter(size_t index, const torch::Tensor& value, int64_t member) {
  check_member(member, true);
  torch::NoGradGuard no_grad;
  copies_stale_ = true;
  auto& stacked = tensors_.at(index);
  auto target = member < 0 ? stacked.detach() : stacked.detach().select(0, member);
  const auto expected = stacked.sizes().slice(1);
  HB_CHECK(value.sizes() == expected, code::kShape, layout_.at(index).name, ": expected shape ", expected, ", got ",
           value.sizes());
  target.copy_(value);  // broadcasts over the members when member is -1
}

void Model::configure_training(const AdamWOptions& options, const std::vector<bool>& trainable,
                               const std::vector<double>& lr_scales) {
  const size_t count = layout_.size(), k = static_cast<size_t>(members_);
  const auto covers = [&](size_t n) { return n == count || n == count * k; };
  HB_CHECK(covers(trainable.size()) && covers(lr_scales.size()), code::kArgument,
           "per-parameter settings must cover every parameter (", count, " entries, or ", count * k,
           " for every member)");
  zero_grad();
  const auto entry = [&](const auto& values, size_t member, size_t i) {
    return values.size() == count ? values[i] : values[member * count + i];
  };
  std::vector<torch::Tensor> params;
  std::vector<OptimizerSlot> slots;
  optimizer_slot_.assign(count, -1);
  for (size_t i = 0; i < count; ++i) {
    bool any = false;
    for (size_t m = 0; m < k; ++m) {
      if (!entry(trainable, m, i)) continue;
      if (!any) {
        optimizer_slot_[i] = static_cast<int64_t>(params.size());
        params.push_back(tensors_[i]);
        any = true;
      }
      slots.push_back(
          OptimizerSlot{static_cast<size_t>(optimizer_slot_[i]), static_cast<int64_t>(m),
                        ParamTraining{!excluded_from_weight_decay(layout_[i].kind), entry(lr_scales, m, i)}});
    }
    tensors_[i].set_requires_grad(any);
    if (copies_[i].defined()) copies_[i].set_requires_grad(any);
  }
  std::vector<torch::Tensor> param_copies;
  for (size_t i = 0; i < count; ++i)
    if (optimizer_slot_[i] >= 0) param_copies.push_back(copies_[i]);
  active_.assign(k, true);
  optimizer_ = std::make_unique<AdamW>(params, slots, members_, options, param_copies);
}

ForwardContext Model::context(bool training) {
  ForwardContext ctx;
  ctx.training = training;
  ctx.compute = compute_;
  ctx.generator = &dropout_generator_;
  ctx.fused_attention = fused_attention_;
  ctx.pack_padding = pack_padding_;
  ctx.members = members_;
  if (training) {
    // A fresh seed per optimizer step, derived from (model seed, steps taken): the same at that step whether
    // the run was interrupted and resumed or not. It seeds our dropout masks and, call by call, fused
    // attention's (ops.cc). No global generator is seeded.
    const uint64_t seed = mix_seed(seed_, static_cast<uint64_t>(optimizer_ ? optimizer_->steps_taken() : 0));
    {
      std::lock_guard<std::mutex> lock(dropout_generator_.mutex());
      dropout_generator_.set_current_seed(seed);
    }
    ctx.dropout_seed = seed;
  }
  return ctx;
}

torch::Tensor Model::batch_loss(const DeviceBatch& batch, bool is_mlm, const ForwardContext& ctx) {
  const Weights& w = forward_weights();
  if (is_mlm && config_.has_generator()) {
    // The replacements of a step are drawn from its own stream: the same at that step after a resume.
    const auto loss = electra_loss(batch, ctx, mix_seed(ctx.dropout_seed, 0x454C45435452ULL), {});
    return (loss.generator + config_.rtd_weight * loss.discriminator).unsqueeze(0);
  }
  if (is_mlm) {
    auto hidden = encode(config_, w, batch, ctx);
    if (auto in = vocab_loss_inputs(config_, w, members_, device_, hidden, batch, ctx))
      return chunked_vocab_cross_entropy(in->states, in->decoder, in->bias, in->labels, ctx.compute).unsqueeze(0);
    auto [logits, labels] = mlm_logits(config_, w, hidden, batch, ctx);
    return member_cross_entropy(logits, labels);
  }
  auto result = forward(config_, w, batch, ctx);
  return task_loss(config_, result.logits, batch.labels);
}

MlmEvaluation Model::evaluate_mlm(const HostBatch& host) {
  validate_batch(host, config_, /*need_labels=*/true);
  HB_CHECK(host.is_mlm(), code::kArgument, "evaluateMlm needs a batch with mlmLabels");
  const Weights& w = forward_weights();  // refreshed outside inference mode
  c10::InferenceMode inference;
  const DeviceBatch batch = to_device(host, device_);
  const ForwardContext ctx = context(false);
  auto hidden = encode(config_, w, batch, ctx);
  if (auto in = vocab_loss_inputs(config_, w, members_, device_, hidden, batch, ctx)) {
    const auto [loss, correct] =
        chunked_vocab_loss_and_correct(in->states, in->decoder, in->bias, in->labels, ctx.compute);
    MlmEvaluation out;
    out.loss_sum.push_back(loss);
    out.correct.push_back(correct);
    out.count = in->labels.numel();
    return out;
  }
  auto [logits, labels] = mlm_logits(config_, w, hidden, batch, ctx);
  const int64_t k = logits.size(0);
  auto loss = member_token_losses(logits, labels).to(torch::kFloat64).sum(1);
  auto correct = logits.argmax(-1).eq(labels.unsqueeze(0)).sum(1);
  auto host_values = torch::stack({loss, correct.to(torch::kFloat64)}).cpu();
  MlmEvaluation out;
  for (int64_t m = 0; m < k; ++m) {
    out.loss_sum.push_back(host_values[0][m].item<double>());
    out.correct.push_back(static_cast<int64_t>(host_values[1][m].item<double>()));
  }
  out.count = labels.numel();
  return out;
}

torch::Tensor& Model::target_of(size_t index, TensorSlot slot) {
  HB_CHECK(index < tensors_.size(), code::kInternal, "tensor index out of range");
  if (slot == TensorSlot::kValue) return tensors_[index];
  HB_CHECK(optimizer_ != nullptr, code::kArgument, "configure training before reading or writing optimizer state");
  const int64_t s = optimizer_slot_[index];
  HB_CHECK(s >= 0, code::kArgument, layout_[index].name, " is frozen: it has no optimizer state");
  return slot == TensorSlot::kExpAvg ? optimizer_->exp_avg(s) : optimizer_->exp_avg_sq(s);
}

std::pair<int64_t, std::vector<int64_t>> Model::optimizer_counters() const {
  HB_CHECK(optimizer_ != nullptr, code::kArgument, "configure training first");
  return {optimizer_->steps_taken(), optimizer_->param_steps()};
}

void Model::restore_optimizer_counters(int64_t steps_taken, const std::vector<int64_t>& param_steps) {
  HB_CHECK(optimizer_ != nullptr, code::kArgument, "configure training first");
  optimizer_->restore_counters(steps_taken, param_steps);
}

torch::Tensor Model::driving_members() const {
  std::vector<int64_t> active;
  for (int64_t m = 0; m < members_; ++m)
    if (active_[static_cast<size_t>(m)]) active.push_back(m);
  if (static_cast<int64_t>(active.size()) == members_) return {};
  return torch::tensor(active, torch::kInt64).to(device_);
}

void Model::zero_grad() {
  for (auto& t : tensors_) t.mutable_grad().reset();  // set_to_none, as torch 2.x optimizers do
  for (size_t i : compute_copy_indices_) copies_[i].mutable_grad().reset();
}

StepResult Model::train_step(const std::vector<HostBatch>& micro_batches, bool dropout) {
  HB_CHECK(optimizer_ != nullptr, code::kArgument, "configure training before the first training step");
  HB_CHECK(!micro_batches.empty(), code::kArgument, "a training step needs at least one batch");
  for (const auto& mb : micro_batches) validate_batch(mb, config_, /*need_labels=*/true);
  zero_grad();
  const ForwardContext ctx = context(dropout);
  const double scale = 1.0 / static_cast<double>(micro_batches.size());
  torch::Tensor loss_sum = torch::zeros({members_}, torch::TensorOptions().device(device_));
  const auto driving = driving_members();
  for (const auto& mb : micro_batches) {
    const DeviceBatch batch = to_device(mb, device_);
    auto losses = batch_loss(batch, mb.is_mlm(), ctx) * scale;  // (K)
    // Members are independent, so the gradient of the sum is each member's own; an inactive member's
    // (diverged) loss is left out, so it gets none.
    (driving.defined() ? losses.index_select(0, driving) : losses).sum().backward();
    loss_sum += losses.detach();
    // Micro-batches accumulate in float32, as autocast's float32 gradients do; one batch's bf16 gradients
    // go to the optimizer as they are.
    fold_copy_gradients(/*all=*/micro_batches.size() > 1);
  }
  auto grad_norm = optimizer_->clip_gradients(active_);
  StepResult out;
  out.lr = optimizer_->step(active_);
  if (!optimizer_->refreshes_copies()) copies_stale_ = true;
  out.step = optimizer_->steps_taken();
  auto both = torch::stack({loss_sum.to(torch::kFloat32), grad_norm.to(loss_sum.device(), torch::kFloat32)}).cpu();
  for (int64_t m = 0; m < members_; ++m) {
    out.loss.push_back(both[0][m].item<double>());
    out.grad_norm.push_back(both[1][m].item<double>());
  }
  return out;
}

Gradients Model::loss_and_gradients(const HostBatch& host, bool dropout, const std::vector<int32_t>& samples) {
  validate_batch(host, config_, /*need_labels=*/true);
  zero_grad();
  const DeviceBatch batch = to_device(host, device_);
  Gradients out;
  torch::Tensor losses;
  if (host.is_mlm() && config_.has_generator()) {
    forward_weights();
    const ForwardContext ctx = context(dropout);
    torch::Tensor forced;
    if (!samples.empty()) {
      HB_CHECK(static_cast<int64_t>(samples.size()) == batch.mlm_positions.size(0), code::kArgument, "samples has ",
               samples.size(), " entries for ", batch.mlm_positions.size(0), " masked positions");
      forced = torch::tensor(std::vector<int64_t>(samples.begin(), samples.end()), torch::kInt64).to(device_);
    }
    const auto parts = electra_loss(batch, ctx, mix_seed(ctx.dropout_seed, 0x454C45435452ULL), forced);
    losses = (parts.generator + config_.rtd_weight * parts.discriminator).unsqueeze(0);
    out.parts = {parts.generator.item<double>(), parts.discriminator.item<double>()};
  } else {
    HB_CHECK(samples.empty(), code::kArgument, "samples are for ELECTRA pre-training models");
    losses = batch_loss(batch, host.is_mlm(), context(dropout));
  }
  losses.sum().backward();
  fold_copy_gradients(/*all=*/true);
  auto host_losses = losses.detach().to(torch::kCPU, torch::kFloat64);
  for (int64_t m = 0; m < members_; ++m) out.loss.push_back(host_losses[m].item<double>());
  for (auto& t : tensors_) {
    out.grads.push_back(t.grad().defined() ? t.grad().detach().to(torch::kCPU, torch::kFloat32).clone()
                                           : torch::Tensor());
  }
  zero_grad();
  return out;
}

torch::Tensor Model::predict(const HostBatch& host, PredictOutput output) {
  validate_batch(host, config_, /*need_labels=*/false);
  const Weights& w = forward_weights();  // refreshed outside inference mode
  c10::InferenceMode inference;
  const DeviceBatch batch = to_device(host, device_);
  if (output == PredictOutput::kMlm) {
    HB_CHECK(host.is_mlm(), code::kArgument,
             "predict with output 'mlm' needs a batch with mlmLabels (the positions to predict)");
    auto hidden = encode(config_, w, batch, context(false));
    return mlm_logits(config_, w, hidden, batch, context(false)).first.to(torch::kCPU, torch::kFloat32).contiguous();
  }
  auto result = forward(config_, w, batch, context(false));
  auto chosen = output == PredictOutput::kLogits ? result.logits : result.cls;
  return chosen.to(torch::kCPU, torch::kFloat32).contiguous();
}

}  // namespace healbert

namespace healbert {

void Model::take_snapshot(const std::string& name) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> copies;
  for (const auto& t : tensors_) copies.push_back(t.detach().clone());
  snapshots_[name] = std::move(copies);
}

void Model::drop_snapshot(const std::string& name) { snapshots_.erase(name); }

const std::vector<torch::Tensor>& Model::snapshot(const std::string& name) const {
  auto found = snapshots_.find(name);
  HB_CHECK(found != snapshots_.end(), code::kArgument, "no snapshot named '", name, "'");
  return found->second;
}

std::vector<std::string> Model::snapshot_names() const {
  std::vector<std::string> names;
  for (const auto& entry : snapshots_) names.push_back(entry.first);
  return names;
}

}  // namespace healbert
