// NativeModel: the JS handle on an engine Model. Every operation runs on the libuv thread pool and
// returns a Promise; one operation at a time per model (ERR_BUSY otherwise), none after dispose()
// (ERR_DISPOSED). The TypeScript Model class queues calls, so its users never see ERR_BUSY.
#include <torch/torch.h>

#include <atomic>
#include <memory>

#include "bindings/args.h"
#include "bindings/async.h"
#include "bindings/convert.h"
#include "bindings/module.h"
#include "engine/corruption.h"
#include "engine/device.h"
#include "engine/model.h"
#include "engine/ops.h"

namespace healbert::js {
namespace {

class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::FunctionReference* constructor;

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {
                           InstanceMethod<&NativeModel::Layout>("layout"),
                           InstanceMethod<&NativeModel::Info>("info"),
                           InstanceMethod<&NativeModel::LoadFromFile>("loadFromFile"),
                           InstanceMethod<&NativeModel::SaveToFile>("saveToFile"),
                           InstanceMethod<&NativeModel::GetParameter>("getParameter"),
                           InstanceMethod<&NativeModel::SetParameter>("setParameter"),
                           InstanceMethod<&NativeModel::ConfigureTraining>("configureTraining"),
                           InstanceMethod<&NativeModel::TrainStep>("trainStep"),
                           InstanceMethod<&NativeModel::LossAndGradients>("lossAndGradients"),
                           InstanceMethod<&NativeModel::EvaluateElectra>("evaluateElectra"),
                           InstanceMethod<&NativeModel::Predict>("predict"),
                           InstanceMethod<&NativeModel::PredictLayers>("predictLayers"),
                           InstanceMethod<&NativeModel::EvaluateMlm>("evaluateMlm"),
                           InstanceMethod<&NativeModel::OptimizerCounters>("optimizerCounters"),
                           InstanceMethod<&NativeModel::RestoreOptimizerCounters>("restoreOptimizerCounters"),
                           InstanceMethod<&NativeModel::Corrupt>("corrupt"),
                           InstanceMethod<&NativeModel::TakeSnapshot>("takeSnapshot"),
                           InstanceMethod<&NativeModel::DropSnapshot>("dropSnapshot"),
                           InstanceMethod<&NativeModel::Snapshots>("snapshots"),
                           InstanceMethod<&NativeModel::SetMemberActive>("setMemberActive"),
                           InstanceMethod<&NativeModel::Dispose>("dispose"),
                       });
  }

  explicit NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw_error(info.Env(), code::kArgument, "NativeModel is created by createModel(), not with new");
    model_ = *info[0].As<Napi::External<std::shared_ptr<Model>>>().Data();
  }

 private:
  std::shared_ptr<Model> model_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);

  // Claims the model for one operation; the returned guard releases it when the work ends.
  std::shared_ptr<void> claim(Napi::Env env) {
    if (!model_) throw_error(env, code::kDisposed, "this model was disposed");
    bool expected = false;
    if (!busy_->compare_exchange_strong(expected, true))
      throw_error(env, code::kBusy, "this model is already running an operation; await it first");
    auto busy = busy_;
    return std::shared_ptr<void>(nullptr, [busy](void*) { busy->store(false); });
  }

  // Runs `work(model)` on the engine thread with this model claimed for it (ERR_BUSY, ERR_DISPOSED otherwise).
  template <typename Work>
  Napi::Promise schedule(Napi::Env env, Work work) {
    auto guard = claim(env);
    auto model = model_;
    return run_async(env, {Value()}, [model, guard, work = std::move(work)]() -> Converter { return work(*model); });
  }

  Model& sync_model(Napi::Env env) {
    if (!model_) throw_error(env, code::kDisposed, "this model was disposed");
    return *model_;
  }

  Napi::Value Layout(const Napi::CallbackInfo& info) {
    return layout_to_js(info.Env(), sync_model(info.Env()).layout());
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Model& m = sync_model(env);
    Napi::Object out = Napi::Object::New(env);
    out.Set("device", m.device().str());
    out.Set("computeDtype", dtype_name(m.compute_dtype()));
    out.Set("fusedAttention", m.fused_attention());
    out.Set("packPadding", m.pack_padding());
    out.Set("optimizer", m.optimizer_kind());
    out.Set("clipOnDevice", m.clips_on_device());
    out.Set("members", static_cast<double>(m.members()));
    return out;
  }

  // An optional member argument: undefined means `fallback` (-1: every member).
  static int64_t member_arg(const Napi::CallbackInfo& info, size_t i, int64_t fallback) {
    if (info.Length() <= i || info[i].IsUndefined()) return fallback;
    if (!info[i].IsNumber()) throw_error(info.Env(), code::kArgument, "member must be a number");
    return info[i].As<Napi::Number>().Int64Value();
  }

  // setMemberActive(member, active): a diverged member stops training; the others go on.
  Napi::Value SetMemberActive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    const int64_t member = int_arg(info, 0, "member");
    const bool active = info.Length() > 1 && info[1].ToBoolean().Value();
    return schedule(env, [member, active](Model& model) -> Converter {
      model.set_member_active(member, active);
      return nullptr;
    });
  }

  // loadFromFile(path, entries: {index, dtype, offset, nbytes}[], member?: number (default: every member))
  Napi::Value LoadFromFile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string path = string_arg(info, 0, "path");
    if (info.Length() < 2 || !info[1].IsArray()) throw_error(env, code::kArgument, "entries must be an array");
    auto array = info[1].As<Napi::Array>();
    std::vector<FileTensor> entries;
    const size_t count = sync_model(env).layout().size();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value v = array[i];
      if (!v.IsObject()) throw_error(env, code::kArgument, "entries must hold objects");
      auto o = v.As<Napi::Object>();
      FileTensor e{static_cast<size_t>(int_field(o, "index")), to_slot(env, o.Get("slot")),
                   to_dtype(env, string_field(o, "dtype")), int_field(o, "offset"), int_field(o, "nbytes")};
      if (e.index >= count || e.offset < 0 || e.nbytes < 0) throw_error(env, code::kArgument, "entry out of range");
      entries.push_back(e);
    }
    const int64_t member = member_arg(info, 2, -1);
    return schedule(env, [path, entries, member](Model& model) -> Converter {
      model.load_from_file(path, entries, member);
      return nullptr;
    });
  }

  // saveToFile(path, header, order: number[], dtypes: string[], slots?: string[], member?: number (default 0))
  Napi::Value SaveToFile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string path = string_arg(info, 0, "path");
    const std::string header = string_arg(info, 1, "header");
    if (info.Length() < 4 || !info[2].IsArray() || !info[3].IsArray())
      throw_error(env, code::kArgument, "order and dtypes must be arrays");
    auto order_js = info[2].As<Napi::Array>();
    auto dtypes_js = info[3].As<Napi::Array>();
    if (order_js.Length() != dtypes_js.Length()) throw_error(env, code::kArgument, "order and dtypes differ in length");
    std::vector<size_t> order;
    std::vector<torch::ScalarType> dtypes;
    const size_t count = sync_model(env).layout().size();
    for (uint32_t i = 0; i < order_js.Length(); ++i) {
      Napi::Value idx = order_js[i];
      Napi::Value dt = dtypes_js[i];
      if (!idx.IsNumber() || !dt.IsString()) throw_error(env, code::kArgument, "order holds numbers, dtypes strings");
      const auto index = static_cast<size_t>(idx.As<Napi::Number>().Int64Value());
      if (index >= count) throw_error(env, code::kArgument, "order holds an index out of range");
      order.push_back(index);
      dtypes.push_back(to_dtype(env, dt.As<Napi::String>().Utf8Value()));
    }
    std::vector<TensorSlot> slots;
    if (info.Length() > 4 && info[4].IsArray()) {
      auto slots_js = info[4].As<Napi::Array>();
      if (slots_js.Length() != order.size()) throw_error(env, code::kArgument, "slots and order differ in length");
      for (uint32_t i = 0; i < slots_js.Length(); ++i) slots.push_back(to_slot(env, slots_js.Get(i)));
    }
    const int64_t member = member_arg(info, 5, 0);
    return schedule(env, [path, header, order, dtypes, slots, member](Model& model) -> Converter {
      model.save_to_file(path, header, order, dtypes, slots, member);
      return nullptr;
    });
  }

  Napi::Value GetParameter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto index = static_cast<size_t>(int_arg(info, 0, "index"));
    if (index >= sync_model(env).layout().size()) throw_error(env, code::kArgument, "parameter index out of range");
    const int64_t member = member_arg(info, 1, 0);
    return schedule(env, [index, member](Model& model) -> Converter {
      auto tensor = model.get_parameter(index, member);
      return [tensor](Napi::Env env) -> Napi::Value { return tensor_to_float32(env, tensor); };
    });
  }

  Napi::Value SetParameter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto index = static_cast<size_t>(int_arg(info, 0, "index"));
    Model& m = sync_model(env);
    if (index >= m.layout().size()) throw_error(env, code::kArgument, "parameter index out of range");
    if (info.Length() < 2 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw_error(env, code::kArgument, "value must be a Float32Array");
    auto array = info[1].As<Napi::Float32Array>();
    const auto& shape = m.layout()[index].shape;
    int64_t numel = 1;
    for (auto d : shape) numel *= d;
    if (static_cast<int64_t>(array.ElementLength()) != numel)
      throw_error(env, code::kShape,
                  m.layout()[index].name + ": expected " + std::to_string(numel) + " values, got " +
                      std::to_string(array.ElementLength()));
    auto value = torch::from_blob(array.Data(), shape, torch::kFloat32).clone();
    const int64_t member = member_arg(info, 2, -1);
    return schedule(env, [index, value, member](Model& model) -> Converter {
      model.set_parameter(index, value, member);
      return nullptr;
    });
  }

  // configureTraining(options, trainable: Uint8Array, lrScales: Float64Array)
  Napi::Value ConfigureTraining(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const AdamWOptions options = to_adamw_options(info[0]);
    const size_t count = sync_model(env).layout().size();
    const size_t members = static_cast<size_t>(sync_model(env).members());
    if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      throw_error(env, code::kArgument, "trainable must be a Uint8Array and lrScales a Float64Array");
    auto trainable_js = info[1].As<Napi::Uint8Array>();
    auto scales_js = info[2].As<Napi::Float64Array>();
    const size_t entries = trainable_js.ElementLength();
    if ((entries != count && entries != count * members) || scales_js.ElementLength() != entries)
      throw_error(env, code::kArgument,
                  "trainable and lrScales need one entry per parameter (or per parameter and member)");
    std::vector<bool> trainable(entries);
    std::vector<double> scales(entries);
    bool any = false;
    for (size_t i = 0; i < entries; ++i) {
      trainable[i] = trainable_js[i] != 0;
      scales[i] = scales_js[i];
      any = any || trainable[i];
    }
    if (!any) throw_error(env, code::kArgument, "at least one parameter must be trainable");
    return schedule(env, [options, trainable, scales](Model& model) -> Converter {
      model.configure_training(options, trainable, scales);
      return nullptr;
    });
  }

  // trainStep(batches: Batch[], dropout: boolean): Promise<{loss, gradNorm, lr, step, losses, gradNorms}>:
  // losses and gradNorms per member; loss and gradNorm are member 0's.
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    if (info.Length() < 1 || !info[0].IsArray()) throw_error(env, code::kArgument, "batches must be an array");
    auto array = info[0].As<Napi::Array>();
    std::vector<HostBatch> batches;
    for (uint32_t i = 0; i < array.Length(); ++i) batches.push_back(to_host_batch(array[i]));
    const bool dropout = info.Length() < 2 || info[1].ToBoolean().Value();
    return schedule(env, [batches = std::move(batches), dropout](Model& model) -> Converter {
      const StepResult r = model.train_step(batches, dropout);
      return [r](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("loss", r.loss.at(0));
        out.Set("gradNorm", r.grad_norm.at(0));
        out.Set("lr", r.lr);
        out.Set("step", static_cast<double>(r.step));
        out.Set("losses", doubles_to_js(env, r.loss));
        out.Set("gradNorms", doubles_to_js(env, r.grad_norm));
        return out;
      };
    });
  }

  // lossAndGradients(batch, dropout, member?, samples?: Int32Array): Promise<{loss, gradients: (Float32Array |
  // null)[], parts?: [generator, discriminator]}>, the member's (default 0). samples: an ELECTRA pre-training
  // model's replacements, one per masked position, instead of its own draws.
  Napi::Value LossAndGradients(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    HostBatch batch = to_host_batch(info[0]);
    const bool dropout = info.Length() > 1 && info[1].ToBoolean().Value();
    const int64_t member = member_arg(info, 2, 0);
    if (member < 0 || member >= sync_model(env).members()) throw_error(env, code::kArgument, "member out of range");
    std::vector<int32_t> samples;
    if (info.Length() > 3 && !info[3].IsUndefined()) {
      if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw_error(env, code::kArgument, "samples must be an Int32Array");
      auto array = info[3].As<Napi::Int32Array>();
      samples.assign(array.Data(), array.Data() + array.ElementLength());
    }
    return schedule(env, [batch = std::move(batch), dropout, member, samples](Model& model) -> Converter {
      auto g = std::make_shared<Gradients>(model.loss_and_gradients(batch, dropout, samples));
      return [g, member](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("loss", g->loss.at(static_cast<size_t>(member)));
        if (!g->parts.empty()) out.Set("parts", doubles_to_js(env, g->parts));
        Napi::Array grads = Napi::Array::New(env, g->grads.size());
        for (size_t i = 0; i < g->grads.size(); ++i)
          grads[i] =
              g->grads[i].defined() ? tensor_to_float32(env, g->grads[i].select(0, member).contiguous()) : env.Null();
        out.Set("gradients", grads);
        return out;
      };
    });
  }

  // predict(batch, output: 'logits' | 'cls' | 'mlm'): Promise<Float32Array>, member-major (K, rows, width)
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    HostBatch batch = to_host_batch(info[0]);
    const std::string output = info.Length() > 1 ? string_arg(info, 1, "output") : "logits";
    if (output != "logits" && output != "cls" && output != "mlm")
      throw_error(env, code::kArgument, "output must be logits, cls or mlm");
    const PredictOutput kind =
        output == "cls" ? PredictOutput::kCls : (output == "mlm" ? PredictOutput::kMlm : PredictOutput::kLogits);
    return schedule(env, [batch = std::move(batch), kind](Model& model) -> Converter {
      auto result = model.predict(batch, kind);
      return [result](Napi::Env env) -> Napi::Value { return tensor_to_float32(env, result); };
    });
  }

  // predictLayers(batch): Promise<{logits, layers}>: logits (K, B, num_labels) and every layer's pooled states
  // (K, L + 1, 2, B, H), both float32 and member-major (engine/layer_states.h)
  Napi::Value PredictLayers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    HostBatch batch = to_host_batch(info[0]);
    return schedule(env, [batch = std::move(batch)](Model& model) -> Converter {
      auto result = std::make_shared<LayerPrediction>(model.predict_layers(batch));
      return [result](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("logits", tensor_to_float32(env, result->logits));
        out.Set("layers", tensor_to_float32(env, result->layers));
        return out;
      };
    });
  }

  // evaluateMlm(batch): Promise<{lossSum, correct, count, lossSums, corrects}>: per member in the arrays,
  // member 0's in lossSum and correct
  Napi::Value EvaluateMlm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    HostBatch batch = to_host_batch(info[0]);
    return schedule(env, [batch = std::move(batch)](Model& model) -> Converter {
      const MlmEvaluation r = model.evaluate_mlm(batch);
      return [r](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("lossSum", r.loss_sum.at(0));
        out.Set("correct", static_cast<double>(r.correct.at(0)));
        out.Set("count", static_cast<double>(r.count));
        out.Set("lossSums", doubles_to_js(env, r.loss_sum));
        out.Set("corrects", doubles_to_js(env, std::vector<double>(r.correct.begin(), r.correct.end())));
        return out;
      };
    });
  }

  // evaluateElectra(batch, seed): Promise<{generatorLossSum, generatorCorrect, masked, rtdLogits: Float32Array,
  // rtdLabels: Uint8Array}>: an ELECTRA pre-training model in evaluation mode, replacements drawn with `seed`.
  Napi::Value EvaluateElectra(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    HostBatch batch = to_host_batch(info[0]);
    const int64_t seed = int_arg(info, 1, "seed");
    return schedule(env, [batch = std::move(batch), seed](Model& model) -> Converter {
      auto r = std::make_shared<ElectraEvaluation>(model.evaluate_electra(batch, static_cast<uint64_t>(seed)));
      return [r](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("generatorLossSum", r->generator_loss_sum);
        out.Set("generatorCorrect", static_cast<double>(r->generator_correct));
        out.Set("masked", static_cast<double>(r->masked));
        auto logits = Napi::Float32Array::New(env, r->rtd_logits.size());
        std::copy(r->rtd_logits.begin(), r->rtd_logits.end(), logits.Data());
        auto labels = Napi::Uint8Array::New(env, r->rtd_labels.size());
        std::copy(r->rtd_labels.begin(), r->rtd_labels.end(), labels.Data());
        out.Set("rtdLogits", logits);
        out.Set("rtdLabels", labels);
        return out;
      };
    });
  }

  // optimizerCounters(): {stepsTaken, paramSteps: number[]} (one per trainable parameter, layout order)
  Napi::Value OptimizerCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Model& m = sync_model(env);
    return guarded(env, [&]() -> Napi::Value {
      const auto [taken, steps] = m.optimizer_counters();
      Napi::Object out = Napi::Object::New(env);
      out.Set("stepsTaken", static_cast<double>(taken));
      Napi::Array arr = Napi::Array::New(env, steps.size());
      for (size_t i = 0; i < steps.size(); ++i) arr[i] = Napi::Number::New(env, static_cast<double>(steps[i]));
      out.Set("paramSteps", arr);
      return out;
    });
  }

  // restoreOptimizerCounters(stepsTaken, paramSteps: number[])
  Napi::Value RestoreOptimizerCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    const int64_t taken = int_arg(info, 0, "stepsTaken");
    if (info.Length() < 2 || !info[1].IsArray()) throw_error(env, code::kArgument, "paramSteps must be an array");
    auto arr = info[1].As<Napi::Array>();
    std::vector<int64_t> steps;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr[i];
      if (!v.IsNumber()) throw_error(env, code::kArgument, "paramSteps must hold numbers");
      steps.push_back(v.As<Napi::Number>().Int64Value());
    }
    return schedule(env, [taken, steps](Model& model) -> Converter {
      model.restore_optimizer_counters(taken, steps);
      return nullptr;
    });
  }

  // corrupt(request): Promise<{tensors: TensorReport[], milliseconds}>
  Napi::Value Corrupt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Model& m = sync_model(env);
    CorruptionRequest request = to_corruption_request(info[0], m.layout().size());
    return schedule(env, [request](Model& model) -> Converter {
      auto report = std::make_shared<CorruptionReport>(corrupt(model, request));
      return [report](Napi::Env env) -> Napi::Value { return corruption_report_to_js(env, *report); };
    });
  }

  Napi::Value TakeSnapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    const std::string name = string_arg(info, 0, "name");
    return schedule(env, [name](Model& model) -> Converter {
      model.take_snapshot(name);
      return nullptr;
    });
  }

  Napi::Value DropSnapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sync_model(env);
    const std::string name = string_arg(info, 0, "name");
    return schedule(env, [name](Model& model) -> Converter {
      model.drop_snapshot(name);
      return nullptr;
    });
  }

  Napi::Value Snapshots(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto names = sync_model(env).snapshot_names();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); ++i) out[i] = Napi::String::New(env, names[i]);
    return out;
  }

  // dispose(): frees the engine now, or when the operation in flight finishes (it holds a reference).
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    model_.reset();
    return info.Env().Undefined();
  }
};

Napi::FunctionReference* NativeModel::constructor = nullptr;

// createModel(config, device, computeDtype, seed, options?: {fusedAttention, packPadding, members}):
// Promise<NativeModel>,
// parameters initialised as Hugging Face initialises them (the caller then loads a checkpoint over them).
Napi::Value CreateModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ModelConfig config = to_model_config(info[0]);
  const std::string device_name = string_arg(info, 1, "device");
  const torch::ScalarType compute = to_dtype(env, string_arg(info, 2, "dtype"));
  if (compute == torch::kFloat16) throw_error(env, code::kArgument, "float16 compute is not supported: use bfloat16");
  const int64_t seed = int_arg(info, 3, "seed");
  bool fused_attention = true, pack_padding = true;
  int64_t members = 1;
  if (info.Length() > 4 && info[4].IsObject()) {
    const auto options = info[4].As<Napi::Object>();
    fused_attention = bool_field(options, "fusedAttention", true);
    pack_padding = bool_field(options, "packPadding", true);
    if (options.Has("members")) members = int_field(options, "members");
    if (members < 1) throw_error(env, code::kArgument, "members must be at least 1");
  }
  return run_async(env, {},
                   [config, device_name, compute, seed, fused_attention, pack_padding, members]() -> Converter {
                     const torch::Device device = parse_device(device_name);
                     auto model = std::make_shared<std::shared_ptr<Model>>(std::make_shared<Model>(
                         config, device, compute, static_cast<uint64_t>(seed), fused_attention, pack_padding, members));
                     return [model](Napi::Env env) -> Napi::Value {
                       auto external = Napi::External<std::shared_ptr<Model>>::New(env, model.get());
                       return NativeModel::constructor->New({external});
                     };
                   });
}

// parameterLayout(config): the config's layout (config.params) as the engine reads it, after its checks
// (check_layout): the engine's view of what the TypeScript layout built.
Napi::Value ParameterLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ModelConfig config = to_model_config(info[0]);
  return guarded(env, [&]() -> Napi::Value {
    check_layout(config);
    return layout_to_js(env, config.params);
  });
}

}  // namespace

void register_model(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = NativeModel::Define(env);
  NativeModel::constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("NativeModel", cls);
  exports.Set("createModel", Napi::Function::New(env, CreateModel, "createModel"));
  exports.Set("parameterLayout", Napi::Function::New(env, ParameterLayout, "parameterLayout"));
}

}  // namespace healbert::js
