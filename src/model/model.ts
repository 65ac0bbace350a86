/**
 * Model: a BERT-family sequence classifier in the native engine. Load a Hugging Face folder, predict,
 * train one step per call, read and write parameters, save back as a Hugging Face folder.
 *
 * Calls are queued per model (the engine runs one operation at a time); every call returns a Promise and
 * runs off the JavaScript thread.
 */

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile, writeAtomic } from '../atomic.js';
import type { Batch } from '../batch.js';
import { HealbertError } from '../errors.js';
import {
  loadNative,
  type NativeCorruptionRequest,
  type NativeCorruptionResult,
  type NativeModel,
  type NativeParamSpec,
  type NativeStepResult,
} from '../native/binding.js';
import { TOKENIZER_FILES } from '../tokenizer/files.js';
import { checkBatch } from './batch-check.js';
import { type LoadPlan, locateWeightFiles, planLoad } from './checkpoint.js';
import { type EngineConfig, engineConfig, type HeadOptions, type RawConfig, readRawConfig } from './config.js';
import { family } from './families/index.js';
import { checkpointNames, layoutOf } from './layout.js';
import { buildHeader, readSafetensorsHeader } from './safetensors.js';

export type Device = string;
/** The precision the engine computes in: float32, or bfloat16 mixed precision (float32 master weights). */
export type ComputeDtype = 'float32' | 'bfloat16';

/** Options of {@link Model.load}: device, compute dtype, the task head, seed, fused attention, padding packing and fleet members. */
export interface LoadOptions extends HeadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:<index>'. */
  device?: Device;
  /** Compute precision: float32 (default) or bfloat16 mixed precision (float32 master weights). */
  dtype?: ComputeDtype;
  /** Discard the checkpoint's task head and start a fresh one. */
  newHead?: boolean;
  /** Seed for freshly initialised parameters and for dropout. Default 0. */
  seed?: number;
  /**
   * Fused scaled-dot-product attention (libtorch 2.x: flash / memory-efficient kernels on CUDA). Default true;
   * false computes the attention formula step by step, as libtorch 1.13 always does.
   */
  fusedAttention?: boolean;
  /**
   * Run the per-token layers on a padded batch's real tokens only (default true): the same values up to
   * the summation order inside matrix products, and on GLUE-like batches a fraction of the work. false
   * computes every padded position, as transformers does.
   */
  packPadding?: boolean;
  /**
   * A fleet: K members of this model, trained together, every matrix product batched over them (default 1,
   * a solo model). Every member starts from the checkpoint; they see the same batches and dropout masks
   * and differ in what you do to each (corrupt(model, spec, { member }), per-member trainable sets and
   * learning-rate scales). Each member trains exactly as the same model alone would.
   */
  members?: number;
}

/** Which implementation each hot path of a model takes on this libtorch and device. */
export interface EngineInfo {
  device: string;
  computeDtype: ComputeDtype;
  fusedAttention: boolean;
  /** Padded batches run their per-token layers on the real tokens only. */
  packPadding: boolean;
  /**
   * AdamW's implementation once training is configured ('' before): 'one-pass' (healbert's own update, one
   * pass over memory per parameter: the CPU's default), 'fused' (libtorch's kernel: CUDA, or the CPU with
   * fusedOnCpu) or 'foreach' (libtorch's multi-tensor ops, with onePass: false).
   */
  optimizer: 'one-pass' | 'fused' | 'foreach' | '';
  /** Gradient clipping by a device-side factor (no host synchronisation). */
  clipOnDevice: boolean;
  /** Fleet members (1: a solo model). */
  members: number;
}

/** One parameter of a model: its Hugging Face name, shape, role, layer, and index and size. */
export interface ParameterInfo extends NativeParamSpec {
  index: number;
  numel: number;
}

/** Options of {@link Model.configureTraining}: AdamW settings, the schedule, clipping, and which parameters train at what rate. */
export interface TrainingOptions {
  lr?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  warmupSteps?: number;
  /** Optimizer steps of the whole run, for the linear decay; 0 or omitted: constant after warm-up. */
  totalSteps?: number;
  /** Clip the global gradient norm to this; 0 disables. Default 1 (transformers' Trainer). */
  maxGradNorm?: number;
  /** Return false to freeze a parameter (in a fleet: for that member). Default: everything trains. */
  trainable?: (p: ParameterInfo, member: number) => boolean;
  /** Multiplier of the learning rate per parameter (and member, in a fleet): layer-wise rates. Default 1. */
  lrScale?: (p: ParameterInfo, member: number) => number;
  /** Use the fused AdamW kernel on CUDA when libtorch has it (2.2+). Default true. */
  fused?: boolean;
  /** Use the fused AdamW kernel on the CPU too (libtorch 2.4+; with `fused`). Default false, as in torch.optim. */
  fusedOnCpu?: boolean;
  /** Clip gradients by a device-side factor, without a host synchronisation (libtorch 2.1+). Default true. */
  clipOnDevice?: boolean;
  /**
   * On the CPU, AdamW's one-pass update (clipping factor, decay, moments, step and the bf16 weight copies in
   * one pass over memory) instead of libtorch's multi-tensor ops. Default true; the same arithmetic.
   */
  onePass?: boolean;
}

/** A member of a fleet, for the operations that address one (default 0 on a solo model). */
export interface MemberOption {
  member?: number;
}

/** What one training step returns: the loss, gradient norm, learning rate and step, and every member's loss for a fleet. */
export type StepResult = NativeStepResult;

/** Options of {@link Model.save}: the storage dtype and the fleet member to save. */
export interface SaveOptions {
  /** Storage dtype of the weights. Default float32. */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** The fleet member to save (required for a fleet; 0 for a solo model). */
  member?: number;
  /** Label names for config.json's id2label. */
  labels?: string[];
  /** config.json's "architectures" entry. Default: the *ForSequenceClassification class. */
  architecture?: string;
  /**
   * Parameters to leave out. Default: those the named class lacks, so that transformers loads the folder with
   * no unexpected keys: the pooler and classifier in a *ForMaskedLM folder, the MLM head in a
   * *ForSequenceClassification one.
   */
  skip?: (p: ParameterInfo) => boolean;
  /** The key each saved parameter gets (default its name): an ELECTRA generator's folder drops its prefix. */
  rename?: (p: ParameterInfo) => string;
  /** Changes to the config.json written (after healbert's own: architectures, labels, dtype). */
  config?: (raw: RawConfig) => RawConfig;
}

/** The parameters a Hugging Face class has no place for (see SaveOptions.skip). */
function notInClass(architecture: string): ((p: ParameterInfo) => boolean) | undefined {
  if (architecture.endsWith('ForMaskedLM')) return (p) => p.component === 'pooler' || p.component.startsWith('classifier');
  if (architecture.endsWith('ForSequenceClassification')) return (p) => p.component.startsWith('mlm.');
  return undefined;
}
/** A native model for the config, with the load options' device, dtype, seed and implementation choices. */
const createEngine = (config: EngineConfig, o: Omit<LoadOptions, 'newHead'>) =>
  loadNative().createModel({ ...config, params: layoutOf(config) }, o.device ?? 'cpu', o.dtype ?? 'float32', checkSeed(o.seed), {
    fusedAttention: o.fusedAttention ?? true,
    packPadding: o.packPadding ?? true,
    members: checkMembers(o.members),
  });
const SAFETENSORS_DTYPE = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;

/**
 * A BERT-family model in the native engine: load it from a Hugging Face folder, corrupt it, train and evaluate it
 * step by step, and save it as a folder transformers loads. A fleet holds K members that train together.
 */
export class Model {
  readonly config: EngineConfig;
  /** config.json as read (or as given), updated on save. */
  readonly rawConfig: RawConfig;
  /** How the checkpoint mapped onto the parameters; undefined for a model created from a config. */
  readonly loadReport: LoadPlan | undefined;
  /** The folder the model was loaded from, if any (tokenizer files are copied from it on save). */
  readonly sourceDir: string | undefined;
  readonly device: string;
  readonly dtype: ComputeDtype;
  /** Fleet members (LoadOptions.members); 1 for a solo model. */
  readonly members: number;
  private readonly native: NativeModel;
  private readonly params: ParameterInfo[];
  private readonly byName: Map<string, ParameterInfo>;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private configured = false;
  private trainable: Uint8Array = new Uint8Array(0);

  private constructor(
    native: NativeModel,
    config: EngineConfig,
    rawConfig: RawConfig,
    loadReport: LoadPlan | undefined,
    sourceDir: string | undefined,
  ) {
    this.native = native;
    this.config = config;
    this.rawConfig = rawConfig;
    this.loadReport = loadReport;
    this.sourceDir = sourceDir;
    const info = native.info();
    this.device = info.device;
    this.dtype = info.computeDtype as ComputeDtype;
    this.members = info.members;
    this.params = native.layout().map((p, index) => ({ ...p, index, numel: p.shape.reduce((a, b) => a * b, 1) }));
    this.byName = new Map(this.params.map((p) => [p.name, p]));
  }

  /** Loads a Hugging Face model folder (config.json + model.safetensors or a sharded index). */
  static async load(dir: string, options: LoadOptions = {}): Promise<Model> {
    const files = await locateWeightFiles(dir);
    const raw = await readRawConfig(dir);
    const config = engineConfig(raw, join(dir, 'config.json'), options);
    const layout = layoutOf(config);
    const plan = await planLoad(files, config.arch, layout, {
      ...(options.newHead ? { newHead: true } : {}),
      sourceNames: checkpointNames(config, layout),
    });
    const engine = await createEngine(config, options);
    try {
      for (const file of plan.files) await engine.loadFromFile(file.path, file.entries);
    } catch (error) {
      engine.dispose();
      throw error;
    }
    return new Model(engine, config, raw, plan, dir);
  }

  /** A model with freshly initialised weights (Hugging Face's initialisation) from a config.json object. */
  static async fromConfig(raw: RawConfig, options: Omit<LoadOptions, 'newHead'> = {}): Promise<Model> {
    const config = engineConfig(raw, 'config', options);
    const engine = await createEngine(config, options);
    return new Model(engine, config, raw, undefined, undefined);
  }

  /** Which implementation attention, the optimizer and clipping take (they depend on libtorch and device). */
  engineInfo(): EngineInfo {
    if (this.disposed) throw new HealbertError('ERR_DISPOSED', 'this model was disposed');
    return this.native.info() as EngineInfo;
  }

  /** Every parameter: Hugging Face name, shape, kind, layer, component. */
  parameters(): ParameterInfo[] {
    return this.params.map((p) => ({ ...p, shape: [...p.shape] }));
  }

  /** The parameter with this Hugging Face name (ERR_ARGUMENT when there is none). */
  parameter(name: string): ParameterInfo {
    const p = this.byName.get(name);
    if (!p) throw new HealbertError('ERR_ARGUMENT', `no parameter named "${name}"`);
    return p;
  }

  /** The number of entries of all parameters (one member's, for a fleet). */
  get numParameters(): number {
    return this.params.reduce((sum, p) => sum + p.numel, 0);
  }

  /**
   * In evaluation mode: the task head's logits (B x numLabels, row-major); `cls`: the first token's final
   * hidden state (B x H); `mlm`: the MLM head's logits (N x V) at the N positions `batch.mlmLabels` labels
   * (row-major, in reading order), for a model loaded with `mlmHead: true`.
   */
  predict(batch: Batch, options: { output?: 'logits' | 'cls' | 'mlm' } & MemberOption = {}): Promise<Float32Array> {
    const member = this.checkMember(options.member, 'predict');
    return this.predictMembers(batch, options).then((all) => all[member] as Float32Array);
  }

  /** predict() for every member of a fleet in one pass: one array per member. */
  predictMembers(batch: Batch, options: { output?: 'logits' | 'cls' | 'mlm' } = {}): Promise<Float32Array[]> {
    if (options.output === 'mlm' && !batch.mlmLabels)
      throw new HealbertError('ERR_ARGUMENT', "predict with output 'mlm' needs batch.mlmLabels (the positions to predict)");
    checkBatch(batch, this.config, false);
    return this.enqueue(async () => {
      const all = await this.native.predict(batch, options.output ?? 'logits');
      if (this.members === 1) return [all];
      const size = all.length / this.members;
      return Array.from({ length: this.members }, (_, k) => all.subarray(k * size, (k + 1) * size));
    });
  }

  /**
   * predictMembers()'s logits and, from the same evaluation pass, every layer's representation of each row:
   * per member, `layers` is (L + 1) x 2 x B x H, row-major: the embeddings' output then each encoder layer's,
   * each pooled as the mean over the row's real tokens (summed in float64) and as its first token.
   */
  predictLayersMembers(batch: Batch): Promise<{ logits: Float32Array[]; layers: Float32Array[] }> {
    checkBatch(batch, this.config, false);
    return this.enqueue(async () => {
      const { logits, layers } = await this.native.predictLayers(batch);
      const split = (all: Float32Array) => {
        const size = all.length / this.members;
        return Array.from({ length: this.members }, (_, k) => all.subarray(k * size, (k + 1) * size));
      };
      return { logits: split(logits), layers: split(layers) };
    });
  }

  /**
   * The member an operation addresses: `member`, or 0 on a solo model. A fleet needs it named.
   * @internal
   */
  checkMember(member: number | undefined, what: string): number {
    if (member === undefined) {
      if (this.members === 1) return 0;
      throw new HealbertError(
        'ERR_ARGUMENT',
        `${what}: this model is a fleet of ${this.members} members; say which (member: 0..${this.members - 1})`,
      );
    }
    if (!Number.isInteger(member) || member < 0 || member >= this.members)
      throw new HealbertError('ERR_ARGUMENT', `${what}: member must be an integer in 0..${this.members - 1}, got ${member}`);
    return member;
  }

  /**
   * Stops a member's training (a diverged one): it takes no more optimizer steps and its loss no longer
   * drives the backward pass; the other members go on. configureTraining() reactivates every member.
   */
  deactivateMember(member: number): Promise<void> {
    const m = this.checkMember(member, 'deactivateMember');
    return this.enqueue(() => this.native.setMemberActive(m, false));
  }

  /** Sets up AdamW and the schedule for training; resets optimizer state. */
  configureTraining(options: TrainingOptions = {}): Promise<void> {
    const o = {
      lr: options.lr ?? 2e-5,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      warmupSteps: options.warmupSteps ?? 0,
      totalSteps: options.totalSteps ?? 0,
      maxGradNorm: options.maxGradNorm ?? 1,
      fused: options.fused ?? true,
      fusedOnCpu: options.fusedOnCpu ?? false,
      clipOnDevice: options.clipOnDevice ?? true,
      onePass: options.onePass ?? true,
    };
    const bad = (what: string) => {
      throw new HealbertError('ERR_ARGUMENT', `training option ${what}`);
    };
    if (!(o.lr >= 0) || !Number.isFinite(o.lr)) bad(`lr must be a finite number >= 0, got ${o.lr}`);
    if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) bad('beta1 and beta2 must be in [0, 1)');
    if (!(o.eps > 0)) bad(`eps must be > 0, got ${o.eps}`);
    if (!(o.weightDecay >= 0)) bad(`weightDecay must be >= 0, got ${o.weightDecay}`);
    if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) bad(`warmupSteps must be an integer >= 0, got ${o.warmupSteps}`);
    if (!Number.isInteger(o.totalSteps) || o.totalSteps < 0) bad(`totalSteps must be an integer >= 0, got ${o.totalSteps}`);
    if (!(o.maxGradNorm >= 0)) bad(`maxGradNorm must be >= 0, got ${o.maxGradNorm}`);
    // One entry per parameter, or per member and parameter (member-major) in a fleet.
    const perMember = this.members > 1 ? Array.from({ length: this.members }, (_, k) => k) : [0];
    const trainable = new Uint8Array(
      perMember.flatMap((k) => this.params.map((p) => (options.trainable ? (options.trainable(p, k) ? 1 : 0) : 1))),
    );
    const scales = new Float64Array(perMember.flatMap((k) => this.params.map((p) => (options.lrScale ? options.lrScale(p, k) : 1))));
    for (const k of perMember) {
      const count = this.params.length;
      if (!trainable.subarray(k * count, (k + 1) * count).some((t) => t === 1))
        bad(this.members > 1 ? `trainable froze every parameter of member ${k}` : 'trainable froze every parameter');
    }
    if (!scales.every((s) => Number.isFinite(s) && s >= 0)) bad('lrScale must return finite numbers >= 0');
    return this.enqueue(async () => {
      await this.native.configureTraining(o, trainable, scales);
      this.configured = true;
      this.trainable = trainable;
    });
  }

  /**
   * One optimizer step: forward, backward, gradient clipping and AdamW in one native call. Several batches
   * accumulate gradients (each micro-batch loss weighted 1/k) before the step.
   */
  trainStep(batch: Batch | Batch[], options: { dropout?: boolean } = {}): Promise<StepResult> {
    const batches = Array.isArray(batch) ? batch : [batch];
    if (batches.length === 0) throw new HealbertError('ERR_ARGUMENT', 'trainStep needs at least one batch');
    for (const b of batches) checkBatch(b, this.config, true);
    return this.enqueue(() => {
      if (!this.configured) throw new HealbertError('ERR_ARGUMENT', 'call configureTraining() before trainStep()');
      return this.native.trainStep(batches, options.dropout ?? true);
    });
  }

  /** The loss and every parameter's gradient for one batch, without changing the model. Dropout off by default. */
  lossAndGradients(
    batch: Batch,
    options: {
      dropout?: boolean;
      /** ELECTRA pre-training: the generator's replacements, one per masked position in order, instead of its draws. */
      samples?: Int32Array;
    } & MemberOption = {},
  ): Promise<{ loss: number; gradients: Map<string, Float32Array>; parts?: { generator: number; discriminator: number } }> {
    checkBatch(batch, this.config, true);
    const member = this.checkMember(options.member, 'lossAndGradients');
    if (options.samples && !this.config.generator)
      throw new HealbertError('ERR_ARGUMENT', 'samples are the generator replacements of an ELECTRA pre-training model');
    return this.enqueue(async () => {
      const result = await this.native.lossAndGradients(batch, options.dropout ?? false, member, options.samples);
      const gradients = new Map<string, Float32Array>();
      result.gradients.forEach((g, i) => {
        if (g) gradients.set((this.params[i] as ParameterInfo).name, g);
      });
      const parts = result.parts ? { generator: result.parts[0] as number, discriminator: result.parts[1] as number } : undefined;
      return { loss: result.loss, gradients, ...(parts ? { parts } : {}) };
    });
  }

  /**
   * ELECTRA pre-training, evaluated on a masked batch (evaluation mode): the generator's summed MLM loss and
   * correct predictions over the masked positions, and the discriminator's logit and label (1: replaced) for
   * every real token, with replacements drawn by `seed` (the same seed, the same draws).
   */
  evaluateElectra(
    batch: Batch,
    seed: number,
  ): Promise<{ generatorLossSum: number; generatorCorrect: number; masked: number; rtdLogits: Float32Array; rtdLabels: Uint8Array }> {
    checkBatch(batch, this.config, true);
    if (!this.config.generator) throw new HealbertError('ERR_ARGUMENT', 'evaluateElectra needs an ELECTRA pre-training model');
    if (!batch.mlmLabels) throw new HealbertError('ERR_ARGUMENT', 'evaluateElectra needs batch.mlmLabels');
    return this.enqueue(() => this.native.evaluateElectra(batch, checkSeed(seed)));
  }

  /** A copy of one parameter's values as float32 (row-major): the member's, in a fleet. */
  getParameter(name: string, options: MemberOption = {}): Promise<Float32Array> {
    const p = this.parameter(name);
    const member = this.checkMember(options.member, 'getParameter');
    return this.enqueue(() => this.native.getParameter(p.index, member));
  }

  /** Sets one parameter: of one member (`member`), or of every member when none is named. */
  setParameter(name: string, value: Float32Array, options: MemberOption = {}): Promise<void> {
    const p = this.parameter(name);
    if (!(value instanceof Float32Array) || value.length !== p.numel) {
      throw new HealbertError('ERR_SHAPE', `${name}: expected a Float32Array of ${p.numel} values, got ${value?.length}`);
    }
    const member = options.member === undefined ? undefined : this.checkMember(options.member, 'setParameter');
    return this.enqueue(() => this.native.setParameter(p.index, value, member));
  }

  /**
   * Writes a Hugging Face folder: config.json and model.safetensors (same key names as transformers), plus
   * the tokenizer files of the folder the model came from. The weights are written to a temporary file
   * and renamed, so a crash never leaves a half-written model.safetensors.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const dtype = options.dtype ?? 'float32';
    const member = this.checkMember(options.member, 'save');
    if (!(dtype in SAFETENSORS_DTYPE))
      throw new HealbertError('ERR_ARGUMENT', `save dtype must be float32, float16 or bfloat16, got ${dtype}`);
    if (existsSync(join(dir, 'model.safetensors.index.json'))) {
      throw new HealbertError('ERR_IO', `${dir} holds a sharded checkpoint; save into an empty folder`);
    }
    await mkdir(dir, { recursive: true });
    const skip = options.skip ?? notInClass(options.architecture ?? family(this.config.arch).classes.sequence);
    const saved = skip ? this.params.filter((p) => !skip(p)) : this.params;
    const header = buildHeader(
      saved.map((p) => ({ name: options.rename ? options.rename(p) : p.name, dtype: SAFETENSORS_DTYPE[dtype], shape: p.shape })),
    );
    await replaceFile(join(dir, 'model.safetensors'), (temporary) =>
      this.enqueue(() =>
        this.native.saveToFile(
          temporary,
          header,
          saved.map((p) => p.index),
          saved.map(() => dtype),
          undefined,
          member,
        ),
      ),
    );
    await writeFile(
      join(dir, 'config.json'),
      `${configJson((options.config ?? ((c) => c))(this.savedConfig(dtype, options.labels, options.architecture)), family(this.config.arch).floatKeys ?? [])}\n`,
    );
    if (this.sourceDir && this.sourceDir !== dir) {
      for (const file of TOKENIZER_FILES) {
        if (existsSync(join(this.sourceDir, file)) && !existsSync(join(dir, file)))
          await copyFile(join(this.sourceDir, file), join(dir, file));
      }
    }
  }

  private savedConfig(dtype: string, labels: string[] | undefined, architecture: string | undefined): RawConfig {
    const n = this.config.numLabels;
    const existing = this.rawConfig.id2label as Record<string, string> | undefined;
    const names =
      labels ??
      (existing && Object.keys(existing).length === n
        ? Array.from({ length: n }, (_, i) => existing[String(i)] ?? `LABEL_${i}`)
        : undefined);
    if (names && names.length !== n) throw new HealbertError('ERR_ARGUMENT', `labels has ${names.length} names for ${n} outputs`);
    const id2label = Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), names?.[i] ?? `LABEL_${i}`]));
    // The source's num_labels would be stale after a new head with another label count (transformers then
    // builds a head of the old size and refuses the weights); id2label says it, as transformers writes it.
    const { num_labels: _, ...raw } = this.rawConfig;
    return {
      ...raw,
      architectures: [architecture ?? family(this.config.arch).classes.sequence],
      // Untied ALBERT layers save as groups of one layer each, which transformers loads as such.
      ...(this.config.untied ? { num_hidden_groups: this.config.numLayers } : {}),
      id2label,
      label2id: Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)])),
      problem_type: this.config.head === 'regression' ? 'regression' : 'single_label_classification',
      torch_dtype: dtype,
    };
  }

  /** Keeps a copy of every parameter under `name` (on the model's device), e.g. the clean weights. */
  snapshot(name: string): Promise<void> {
    if (!name) throw new HealbertError('ERR_ARGUMENT', 'a snapshot needs a name');
    return this.enqueue(() => this.native.takeSnapshot(name));
  }

  /** Frees a snapshot made by `snapshot(name)`. */
  dropSnapshot(name: string): Promise<void> {
    return this.enqueue(() => this.native.dropSnapshot(name));
  }

  /** The names of the snapshots this model holds. */
  snapshots(): string[] {
    return this.native.snapshots();
  }

  /** @internal The engine call behind corrupt() (src/corruption), which validates the request first. */
  corruptNative(request: NativeCorruptionRequest): Promise<NativeCorruptionResult> {
    return this.enqueue(() => this.native.corrupt(request));
  }

  /**
   * Masked-language-model loss (summed) and accuracy over a batch with mlmLabels, in evaluation mode: member
   * 0's in lossSum and correct, every member's in lossSums and corrects.
   */
  evaluateMlm(batch: Batch): Promise<{ lossSum: number; correct: number; count: number; lossSums: Float64Array; corrects: Float64Array }> {
    checkBatch(batch, this.config, true);
    if (!batch.mlmLabels) throw new HealbertError('ERR_ARGUMENT', 'evaluateMlm needs batch.mlmLabels');
    return this.enqueue(() => this.native.evaluateMlm(batch));
  }

  /**
   * Writes the optimizer's state next to a saved model so training can resume exactly: optimizer.safetensors
   * (AdamW moments of every trainable parameter) and training-state.json (step counters plus `extra`, e.g.
   * a data cursor). Both are written to temporary files and renamed.
   */
  async saveTrainingState(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    this.checkMember(undefined, 'saveTrainingState (solo models only)');
    const trainable = this.trainableParameters();
    const counters = this.native.optimizerCounters();
    await mkdir(dir, { recursive: true });
    const entries = trainable.flatMap((p) => (['exp_avg', 'exp_avg_sq'] as const).map((slot) => ({ p, slot })));
    const header = buildHeader(entries.map(({ p, slot }) => ({ name: `${slot}/${p.name}`, dtype: 'F32' as const, shape: p.shape })));
    await replaceFile(join(dir, 'optimizer.safetensors'), (temporary) =>
      this.enqueue(() =>
        this.native.saveToFile(
          temporary,
          header,
          entries.map(({ p }) => p.index),
          entries.map(() => 'float32'),
          entries.map(({ slot }) => slot),
        ),
      ),
    );
    const state = {
      format: 1,
      stepsTaken: counters.stepsTaken,
      paramSteps: Object.fromEntries(trainable.map((p, i) => [p.name, counters.paramSteps[i]])),
      extra,
    };
    await writeAtomic(join(dir, 'training-state.json'), `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * Restores what saveTrainingState wrote, after configureTraining() with the same trainable parameters.
   * Returns the `extra` object saved with it.
   */
  async loadTrainingState(dir: string): Promise<Record<string, unknown>> {
    this.checkMember(undefined, 'loadTrainingState (solo models only)');
    const stateFile = join(dir, 'training-state.json');
    let state: { format?: number; stepsTaken: number; paramSteps: Record<string, number>; extra?: Record<string, unknown> };
    try {
      state = JSON.parse(await readFile(stateFile, 'utf8'));
    } catch (error) {
      throw new HealbertError('ERR_CHECKPOINT', `${stateFile}: cannot read (${(error as Error).message})`);
    }
    const trainable = this.trainableParameters();
    const names = Object.keys(state.paramSteps ?? {});
    if (state.format !== 1 || names.length !== trainable.length || trainable.some((p, i) => names[i] !== p.name)) {
      throw new HealbertError('ERR_CHECKPOINT', `${stateFile}: saved for other trainable parameters than configureTraining() set up`);
    }
    const path = join(dir, 'optimizer.safetensors');
    const header = await readSafetensorsHeader(path);
    const entries = trainable.flatMap((p) =>
      (['exp_avg', 'exp_avg_sq'] as const).map((slot) => {
        const e = header.tensors.get(`${slot}/${p.name}`);
        if (e?.dtype !== 'F32' || e.shape.join() !== p.shape.join()) {
          throw new HealbertError('ERR_CHECKPOINT', `${path}: "${slot}/${p.name}" is missing or not F32 [${p.shape.join(', ')}]`);
        }
        return { index: p.index, dtype: 'float32', offset: e.offset, nbytes: e.nbytes, slot };
      }),
    );
    await this.enqueue(async () => {
      await this.native.loadFromFile(path, entries);
      await this.native.restoreOptimizerCounters(
        state.stepsTaken,
        trainable.map((p) => state.paramSteps[p.name] as number),
      );
    });
    return state.extra ?? {};
  }

  private trainableParameters(): ParameterInfo[] {
    if (!this.configured) throw new HealbertError('ERR_ARGUMENT', 'call configureTraining() first');
    return this.params.filter((p) => this.trainable[p.index] === 1);
  }

  /** Frees the engine's memory. Operations already queued fail with ERR_DISPOSED. */
  dispose(): void {
    this.disposed = true;
    this.native.dispose();
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new HealbertError('ERR_DISPOSED', 'this model was disposed'));
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * config.json's text. JSON.parse reads 2.0 as 2, which JSON.stringify writes back as 2; transformers' strict
 * config classes refuse an integer where a field is typed float (ModernBertConfig's initializer_cutoff_factor),
 * so the family's float-only keys keep a decimal point.
 */
export function configJson(raw: RawConfig, floatKeys: readonly string[]): string {
  let text = JSON.stringify(raw, null, 2);
  for (const key of floatKeys) {
    if (Number.isInteger(raw[key])) text = text.replace(new RegExp(`^(  "${key}": -?\\d+)(,?)$`, 'm'), '$1.0$2');
  }
  return text;
}

function checkMembers(members: number | undefined): number {
  const k = members ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > 256)
    throw new HealbertError('ERR_ARGUMENT', `members must be an integer from 1 to 256, got ${members}`);
  return k;
}

function checkSeed(seed: number | undefined): number {
  const s = seed ?? 0;
  if (!Number.isSafeInteger(s) || s < 0) throw new HealbertError('ERR_ARGUMENT', `seed must be a non-negative integer, got ${seed}`);
  return s;
}
