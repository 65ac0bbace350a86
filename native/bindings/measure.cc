// Measurements' heavy arithmetic on the engine thread (src/measure/cka.ts): the centred Gram matrix of a
// layer's representations, in float64 through libtorch's BLAS instead of a JavaScript loop.
#include <napi.h>
#include <torch/torch.h>

#include <cstring>

#include "bindings/args.h"
#include "bindings/async.h"
#include "bindings/module.h"
#include "engine/errors.h"
#include "engine/layer_states.h"

namespace healbert::js {
namespace {

// centredGram(features: Float32Array, n, d): Promise<Float64Array>: (n, n) row-major, features (n, d) row-major.
Napi::Value CentredGramJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_error(env, code::kArgument, "centredGram: features must be a Float32Array");
  const auto array = info[0].As<Napi::Float32Array>();
  const int64_t n = int_arg(info, 1, "n"), d = int_arg(info, 2, "d");
  if (n < 1 || d < 1 || static_cast<int64_t>(array.ElementLength()) != n * d)
    throw_error(env, code::kShape,
                "centredGram: expected n x d = " + std::to_string(n * d) + " values, got " +
                    std::to_string(array.ElementLength()));
  // Copied at the boundary: the JavaScript buffer is not touched off its thread.
  auto features = torch::empty({n, d}, torch::kFloat32);
  std::memcpy(features.data_ptr<float>(), array.Data(), static_cast<size_t>(n * d) * sizeof(float));
  return run_async(env, {}, [features]() -> Converter {
    auto gram = centred_gram(features).contiguous();
    return [gram](Napi::Env env) -> Napi::Value {
      auto out = Napi::Float64Array::New(env, gram.numel());
      std::memcpy(out.Data(), gram.data_ptr<double>(), gram.numel() * sizeof(double));
      return out;
    };
  });
}

}  // namespace

void register_measure(Napi::Env env, Napi::Object exports) {
  exports.Set("centredGram", Napi::Function::New(env, CentredGramJs, "centredGram"));
}

}  // namespace healbert::js
