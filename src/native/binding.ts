/**
 * Loads the native addon (prebuilt from prebuilds/<platform>-<arch>/ or built into build/Release/) and
 * types what it exports. Load failures become an ERR_NATIVE_LOAD error that says what to do.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch } from '../batch.js';
import { HealbertError } from '../errors.js';
import type { EngineConfig } from '../model/config.js';
import { layoutOf } from '../model/layout.js';
import { defaultOpenMpWaitPolicy, resolveThreadCount } from './threads.js';

export interface NativeRuntimeInfo {
  torchVersion: string;
  torchMajor: number;
  torchMinor: number;
  torchSource: string;
  /** The folder of the libtorch libraries the addon was linked against (its RPATH). */
  torchLibraryDir: string;
  /** The libtorch this process actually loaded. */
  loadedTorch: { version: string; libraryDir: string; libraries: string[] };
  /** Why the loaded libtorch is not the one compiled against, with the fix; "" when it is. */
  torchMismatch: string;
  /** The C++ standard the addon was compiled with (17, or 20 for libtorch 2.14+). */
  cxxStandard: number;
  builtWithCuda: boolean;
  cudaAvailable: boolean;
  cudnnAvailable: boolean;
  mkldnnAvailable: boolean;
  cxx11Abi: boolean;
  numThreads: number;
  parallelInfo: string;
  /**
   * Freed host memory: 'kept' in the process for reuse (the default on glibc: large tensors are not mapped
   * and unmapped per step), 'system' (HEALBERT_HOST_MEMORY=release, or glibc's malloc configured through its
   * own environment variables) or 'unsupported' (not glibc).
   */
  hostMemory: 'kept' | 'system' | 'unsupported';
  cudaDevices: { index: number; name: string; capability: string; totalMemory: number }[];
}

export interface NativeSmokeResult {
  device: string;
  size: number;
  maxAbsDiff: number;
  milliseconds: number;
  ok: boolean;
}

/** Best times of one (m, k) @ (k, n) product in each dtype (native/engine/matmul_speed.h). */
export interface NativeMatmulSpeed {
  device: string;
  m: number;
  k: number;
  n: number;
  reps: number;
  float32Ms: number;
  bfloat16Ms: number;
}

export interface NativeParamSpec {
  name: string;
  shape: number[];
  kind: 'linear.weight' | 'bias' | 'layernorm.weight' | 'layernorm.bias' | 'embedding';
  /** Its place in the forward pass (native/engine/layout.cc's role names), e.g. "layer.query.weight". */
  role: string;
  /** The first encoder layer that uses it, -1 outside the encoder. */
  layer: number;
  /** Every encoder layer that uses it: [layer], or a shared group's layers (ALBERT); [] outside the encoder. */
  layers: number[];
  component: string;
  isHead: boolean;
  /** Embeddings: the row that is zero at initialisation and gets no gradient. */
  paddingIdx?: number;
  /** How a fresh value is drawn, where not N(0, initializer_range) (src/model/families/types.ts: ParamInit). */
  init?: { std: number; cutoff?: number; paddingRow?: 'zero' | 'drawn' };
  /** 1: a tensor of an ELECTRA pre-training model's generator (native/engine/layout.h); absent: the model's. */
  network?: number;
}

/**
 * The config as the engine takes it: the model config and its layout. loadNative() fills in the layout
 * (src/model/layout.ts: layoutOf) where a caller gives none.
 */
export type NativeModelConfig = EngineConfig & { params?: NativeParamSpec[] };

/** The engine takes the library's Batch as it is. */
export type NativeBatch = Batch;

export type TensorSlot = 'value' | 'exp_avg' | 'exp_avg_sq';

export interface NativeOptimizerOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  totalSteps: number;
  maxGradNorm: number;
  fused: boolean;
  fusedOnCpu: boolean;
  onePass: boolean;
  clipOnDevice: boolean;
}

export interface NativeStepResult {
  /** Member 0's mean loss (the model's, when it is solo). */
  loss: number;
  /** Member 0's gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  step: number;
  /** Every member's mean loss (one entry for a solo model). */
  losses: Float64Array;
  /** Every member's gradient norm before clipping (0 for a deactivated member). */
  gradNorms: Float64Array;
}

export interface NativeCorruptionRequest {
  method: string;
  targets: number[];
  /** Per target: [offset, length, stride, count] quadruples of the slices corrupted (empty: the whole tensor). */
  slices?: number[][];
  level: number;
  relative: boolean;
  init: string;
  fraction: number;
  exponentBitsOnly: boolean;
  snapshot?: string;
  seed: number;
  exactReport: boolean;
  /** Apply with tensor ops even on the CPU (the path other devices take): the same bytes, for tests. */
  tensorOps?: boolean;
  kernelOnHost?: boolean;
  /** The fleet member to corrupt (default 0). */
  member?: number;
}

export interface NativeCorruptionResult {
  tensors: NativeTensorReport[];
  milliseconds: number;
  /** The fused CPU pass ran. */
  fused: boolean;
  /** The counter kernel ran (on CUDA, or its body on the host when asked). Neither: tensor ops. */
  kernel: boolean;
  /** The random stream's version (2: counter-based, per tensor name). */
  streamVersion: number;
}

export interface NativeTensorReport {
  index: number;
  numel: number;
  selected: number;
  changed: number;
  normBefore: number;
  normChange: number;
  nonFinite: number;
  bitsFlipped: number;
  /** A sliced target: per slice, entries in the fraction mask and entries changed (-1: not measured). */
  sliceSelected?: number[];
  sliceChanged?: number[];
}

export interface NativeModel {
  layout(): NativeParamSpec[];
  info(): {
    device: string;
    computeDtype: string;
    fusedAttention: boolean;
    packPadding: boolean;
    optimizer: string;
    clipOnDevice: boolean;
    members: number;
  };
  /** member: one member; undefined: every member. */
  loadFromFile(
    path: string,
    entries: { index: number; dtype: string; offset: number; nbytes: number; slot?: TensorSlot }[],
    member?: number,
  ): Promise<void>;
  saveToFile(path: string, header: string, order: number[], dtypes: string[], slots?: TensorSlot[], member?: number): Promise<void>;
  evaluateMlm(
    batch: NativeBatch,
  ): Promise<{ lossSum: number; correct: number; count: number; lossSums: Float64Array; corrects: Float64Array }>;
  optimizerCounters(): { stepsTaken: number; paramSteps: number[] };
  restoreOptimizerCounters(stepsTaken: number, paramSteps: number[]): Promise<void>;
  getParameter(index: number, member?: number): Promise<Float32Array>;
  /** member undefined: every member. */
  setParameter(index: number, value: Float32Array, member?: number): Promise<void>;
  setMemberActive(member: number, active: boolean): Promise<void>;
  configureTraining(options: NativeOptimizerOptions, trainable: Uint8Array, lrScales: Float64Array): Promise<void>;
  trainStep(batches: NativeBatch[], dropout: boolean): Promise<NativeStepResult>;
  lossAndGradients(
    batch: NativeBatch,
    dropout: boolean,
    member?: number,
    samples?: Int32Array,
  ): Promise<{ loss: number; gradients: (Float32Array | null)[]; parts?: Float64Array }>;
  evaluateElectra(
    batch: NativeBatch,
    seed: number,
  ): Promise<{ generatorLossSum: number; generatorCorrect: number; masked: number; rtdLogits: Float32Array; rtdLabels: Uint8Array }>;
  predict(batch: NativeBatch, output: 'logits' | 'cls' | 'mlm'): Promise<Float32Array>;
  /** logits (K, B, num_labels) and every layer's pooled states (K, L + 1, 2, B, H): engine/layer_states.h. */
  predictLayers(batch: NativeBatch): Promise<{ logits: Float32Array; layers: Float32Array }>;
  corrupt(request: NativeCorruptionRequest): Promise<NativeCorruptionResult>;
  takeSnapshot(name: string): Promise<void>;
  dropSnapshot(name: string): Promise<void>;
  snapshots(): string[];
  dispose(): void;
}

export type SelfTestKind = 'ok' | 'torch' | 'healbert' | 'std' | 'unknown';

export interface NativeBinding {
  abiVersion: number;
  runtimeInfo(): NativeRuntimeInfo;
  setNumThreads(threads: number): void;
  /**
   * Why the loaded libtorch is not the one compiled against (with the fix), or "": the load-time check.
   * `expected` replaces the compiled-in version or library folder.
   */
  torchMismatch(expected?: { version?: string; libraryDir?: string }): string;
  smokeTest(device: string, size: number): Promise<NativeSmokeResult>;
  /** Sides in [1, 8192], reps in [1, 50]. */
  matmulSpeed(device: string, m: number, k: number, n: number, reps: number): Promise<NativeMatmulSpeed>;
  /** (n, d) float32 features -> their centred Gram matrix (n, n), float64, row-major (src/measure/compare.ts). */
  centredGram(features: Float32Array, n: number, d: number): Promise<Float64Array>;
  createModel(
    config: NativeModelConfig,
    device: string,
    dtype: 'float32' | 'bfloat16',
    seed: number,
    options?: { fusedAttention?: boolean; packPadding?: boolean; members?: number },
  ): Promise<NativeModel>;
  /** The layout as the engine reads it, after its checks against the config (ERR_ARGUMENT naming a tensor). */
  parameterLayout(config: NativeModelConfig): NativeParamSpec[];
  /** Free and total bytes of a CUDA device (ERR_DEVICE elsewhere). */
  deviceMemory(device: string): { free: number; total: number };
  selfTest(kind: SelfTestKind, async?: false): string;
  selfTest(kind: SelfTestKind, async: true): Promise<string>;
}

/** The package root: src/native/ and dist/native/ are both two levels below it. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: NativeBinding | undefined;

/** Explains the usual reasons a libtorch addon does not load. */
export function explainLoadFailure(message: string): string {
  if (/No native build was found/.test(message)) {
    return 'the addon is not built. Run `npm run build:native` in the healbert folder (it needs cmake, a C++ compiler and libtorch; see the README).';
  }
  if (/lib(torch|c10)[^:]*\.so[^:]*: cannot open shared object file/.test(message)) {
    return "libtorch's shared libraries are missing at run time: the libtorch the addon was built against was moved or removed. Reinstall it, or rebuild with `npm run build:native`.";
  }
  if (/undefined symbol: _ZN/.test(message)) {
    return 'symbol mismatch: the addon was built against a different libtorch (version or C++ ABI) than the one loaded now. Rebuild with `npm run build:native`, and check LIBTORCH points at the same libtorch at build and run time.';
  }
  if (/cuda|cudart|nvrtc|cublas/i.test(message)) {
    return "a CUDA library failed to load: the libtorch build needs a CUDA runtime or driver this machine lacks. Use a libtorch built for this machine's CUDA version, or a CPU build.";
  }
  return "see the README's troubleshooting section.";
}

/** The addon, loaded once. Throws HealbertError(ERR_NATIVE_LOAD) with a remedy when it cannot load. */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  defaultOpenMpWaitPolicy();
  let binding: NativeBinding;
  try {
    // HEALBERT_ADDON names an addon file built elsewhere (another libtorch's build folder, as the test lanes use).
    const explicit = process.env.HEALBERT_ADDON;
    binding = (explicit ? require(resolve(explicit)) : nodeGypBuild(packageRoot)) as NativeBinding;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new HealbertError(
      'ERR_NATIVE_LOAD',
      `healbert's native addon failed to load: ${explainLoadFailure(message)}\n  (${message.split('\n')[0]})`,
      { cause: error },
    );
  }
  const mismatch = binding.torchMismatch();
  if (mismatch) throw new HealbertError('ERR_NATIVE_LOAD', `healbert's native addon cannot run here: ${mismatch}.`);
  // The engine builds nothing from a family's name: every model config goes with its layout.
  const withLayout = (config: NativeModelConfig) => (config.params ? config : { ...config, params: layoutOf(config) });
  const { createModel, parameterLayout } = binding;
  binding = {
    ...binding,
    createModel: (config, ...rest) => createModel(withLayout(config), ...rest),
    parameterLayout: (config) => parameterLayout(withLayout(config)),
  };
  const threads = resolveThreadCount();
  if (threads !== undefined) binding.setNumThreads(threads);
  cached = binding;
  return binding;
}
