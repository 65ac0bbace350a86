// Converting the plain objects the TypeScript layer sends (already validated there) into engine structs.
// Every accessor still checks types, so a careless direct call gets ERR_ARGUMENT instead of a crash.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <string>

#include "engine/adamw.h"
#include "engine/batch.h"
#include "engine/config.h"
#include "engine/corruption.h"
#include "engine/layout.h"
#include "engine/model.h"

namespace healbert::js {

double number_field(const Napi::Object& obj, const char* key);
int64_t int_field(const Napi::Object& obj, const char* key);
std::string string_field(const Napi::Object& obj, const char* key);
bool bool_field(const Napi::Object& obj, const char* key, bool fallback);

ModelConfig to_model_config(const Napi::Value& value);
HostBatch to_host_batch(const Napi::Value& value);
AdamWOptions to_adamw_options(const Napi::Value& value);
torch::ScalarType to_dtype(Napi::Env env, const std::string& name);
// 'value' (default when undefined), 'exp_avg' or 'exp_avg_sq'.
TensorSlot to_slot(Napi::Env env, const Napi::Value& value);
const char* dtype_name(torch::ScalarType dtype);

CorruptionRequest to_corruption_request(const Napi::Value& value, size_t num_params);
Napi::Object corruption_report_to_js(Napi::Env env, const CorruptionReport& report);

Napi::Array layout_to_js(Napi::Env env, const std::vector<ParamSpec>& layout);
Napi::Float32Array tensor_to_float32(Napi::Env env, const torch::Tensor& cpu_float);
Napi::Float64Array doubles_to_js(Napi::Env env, const std::vector<double>& values);

}  // namespace healbert::js
