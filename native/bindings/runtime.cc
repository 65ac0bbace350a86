// Binding for runtime information and the smoke test (`healbert doctor`).
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "bindings/args.h"
#include "bindings/async.h"
#include "bindings/module.h"
#include "engine/allocator.h"
#include "engine/matmul_speed.h"
#include "engine/runtime_info.h"

#ifndef HEALBERT_TORCH_SOURCE
#define HEALBERT_TORCH_SOURCE "unknown"
#endif

namespace healbert::js {
namespace {

Napi::Value RuntimeInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const RuntimeInfo r = runtime_info();
    Napi::Object out = Napi::Object::New(env);
    out.Set("torchVersion", r.torch_version);
    out.Set("torchMajor", r.torch_major);
    out.Set("torchMinor", r.torch_minor);
    out.Set("torchSource", HEALBERT_TORCH_SOURCE);
    out.Set("torchLibraryDir", r.torch_library_dir);
    Napi::Object loaded = Napi::Object::New(env);
    loaded.Set("version", r.loaded.version);
    loaded.Set("libraryDir", r.loaded.library_dir);
    Napi::Array libraries = Napi::Array::New(env, r.loaded.libraries.size());
    for (size_t i = 0; i < r.loaded.libraries.size(); ++i) libraries[i] = Napi::String::New(env, r.loaded.libraries[i]);
    loaded.Set("libraries", libraries);
    out.Set("loadedTorch", loaded);
    out.Set("torchMismatch", r.torch_mismatch);
    out.Set("builtWithCuda", r.built_with_cuda);
    out.Set("cudaAvailable", r.cuda_available);
    out.Set("cudnnAvailable", r.cudnn_available);
    out.Set("mkldnnAvailable", r.mkldnn_available);
    out.Set("cxx11Abi", r.cxx11_abi);
    out.Set("cxxStandard", r.cxx_standard);
    out.Set("numThreads", r.num_threads);
    out.Set("parallelInfo", r.parallel_info);
    out.Set("hostMemory", healbert::host_allocator_mode());
    Napi::Array devices = Napi::Array::New(env, r.cuda_devices.size());
    for (size_t i = 0; i < r.cuda_devices.size(); ++i) {
      const auto& d = r.cuda_devices[i];
      Napi::Object dev = Napi::Object::New(env);
      dev.Set("index", d.index);
      dev.Set("name", d.name);
      dev.Set("capability", std::to_string(d.major) + "." + std::to_string(d.minor));
      dev.Set("totalMemory", static_cast<double>(d.total_memory));
      devices[i] = dev;
    }
    out.Set("cudaDevices", devices);
    return out;
  });
}

// torchMismatch(expected?: {version?, libraryDir?}): why the loaded libtorch is not the one compiled against
// (or the one `expected` names), with the fix, or "". Cheap: no device queries, so every process can check
// at load time.
Napi::Value TorchMismatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string version, library_dir;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsObject()) throw_error(env, code::kArgument, "torchMismatch: expected must be an object");
    const auto expected = info[0].As<Napi::Object>();
    for (const auto& [key, out] :
         {std::pair<const char*, std::string*>{"version", &version}, {"libraryDir", &library_dir}}) {
      const Napi::Value v = expected.Get(key);
      if (v.IsUndefined()) continue;
      if (!v.IsString())
        throw_error(env, code::kArgument, std::string("torchMismatch: expected.") + key + " must be a string");
      *out = v.As<Napi::String>().Utf8Value();
    }
  }
  return guarded(env,
                 [&]() -> Napi::Value { return Napi::String::New(env, loaded_torch_mismatch(version, library_dir)); });
}

// smokeTest(device: string, size: number): Promise<{device, size, maxAbsDiff, milliseconds, ok}>
Napi::Value SmokeTestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = string_arg(info, 0, "device");
  const int64_t size = int_arg(info, 1, "size");
  return run_async(env, {}, [device, size]() -> Converter {
    const SmokeResult r = smoke_test(device, size);
    return [r](Napi::Env env) -> Napi::Value {
      Napi::Object out = Napi::Object::New(env);
      out.Set("device", r.device);
      out.Set("size", static_cast<double>(r.size));
      out.Set("maxAbsDiff", r.max_abs_diff);
      out.Set("milliseconds", r.milliseconds);
      out.Set("ok", r.ok);
      return out;
    };
  });
}

// matmulSpeed(device, m, k, n, reps): Promise<{device, m, k, n, reps, float32Ms, bfloat16Ms}>: best times
// of one (m, k) @ (k, n) product in each dtype (`doctor`, `--dtype auto`).
Napi::Value MatmulSpeedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = string_arg(info, 0, "device");
  const int64_t m = int_arg(info, 1, "m"), k = int_arg(info, 2, "k"), n = int_arg(info, 3, "n");
  const int64_t reps = int_arg(info, 4, "reps");
  return run_async(env, {}, [device, m, k, n, reps]() -> Converter {
    const MatmulSpeed r = matmul_speed(device, m, k, n, reps);
    return [r](Napi::Env env) -> Napi::Value {
      Napi::Object out = Napi::Object::New(env);
      out.Set("device", r.device);
      out.Set("m", static_cast<double>(r.m));
      out.Set("k", static_cast<double>(r.k));
      out.Set("n", static_cast<double>(r.n));
      out.Set("reps", static_cast<double>(r.reps));
      out.Set("float32Ms", r.float32_ms);
      out.Set("bfloat16Ms", r.bfloat16_ms);
      return out;
    };
  });
}

// selfTest(kind, async): raises each class of error from inside the addon, so tests can prove that every
// one reaches JS as an Error with the right code (and that none aborts the process).
Napi::Value SelfTestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string kind = string_arg(info, 0, "kind");
  const bool async = info.Length() > 1 && info[1].ToBoolean().Value();
  auto raise = [kind]() -> Converter {
    if (kind == "torch") {
      // A genuine libtorch failure: (2, 3) @ (2, 3) has mismatched inner dimensions.
      auto product = torch::mm(torch::ones({2, 3}), torch::ones({2, 3}));
      (void)product;
    } else if (kind == "healbert") {
      fail(code::kShape, "self-test: a healbert::Error with code ERR_SHAPE");
    } else if (kind == "std") {
      throw std::runtime_error("self-test: a std::runtime_error");
    } else if (kind == "unknown") {
      throw 42;
    } else if (kind != "ok") {
      fail(code::kArgument, "unknown self-test kind '", kind, "'");
    }
    return [](Napi::Env env) -> Napi::Value { return Napi::String::New(env, "ok"); };
  };
  if (async) return run_async(env, {}, raise);
  return guarded(env, [&]() { return raise()(env); });
}

// setNumThreads(n): libtorch's intra-op CPU threads. OpenMP builds default to 1 inside Node unless
// OMP_NUM_THREADS is set, so the TypeScript loader calls this once with the machine's parallelism.
Napi::Value SetNumThreadsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t threads = int_arg(info, 0, "threads");
  if (threads < 1 || threads > 1024) throw_error(env, code::kArgument, "threads must be in [1, 1024]");
  return guarded(env, [&]() -> Napi::Value {
    at::set_num_threads(static_cast<int>(threads));
    return env.Undefined();
  });
}

// deviceMemory(device): {free, total} bytes of a CUDA device (fleet sizing).
Napi::Value DeviceMemoryJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = string_arg(info, 0, "device");
  return guarded(env, [&]() -> Napi::Value {
    const DeviceMemory m = cuda_memory(device);
    Napi::Object out = Napi::Object::New(env);
    out.Set("free", static_cast<double>(m.free));
    out.Set("total", static_cast<double>(m.total));
    return out;
  });
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceMemory", Napi::Function::New(env, DeviceMemoryJs, "deviceMemory"));
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfoJs, "runtimeInfo"));
  exports.Set("torchMismatch", Napi::Function::New(env, TorchMismatchJs, "torchMismatch"));
  exports.Set("smokeTest", Napi::Function::New(env, SmokeTestJs, "smokeTest"));
  exports.Set("matmulSpeed", Napi::Function::New(env, MatmulSpeedJs, "matmulSpeed"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreadsJs, "setNumThreads"));
  exports.Set("selfTest", Napi::Function::New(env, SelfTestJs, "selfTest"));
}

}  // namespace healbert::js
