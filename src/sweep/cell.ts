/**
 * One cell, in either protocol:
 *   pretrained: load the pretrained model (fresh task head), corrupt it, measure the damage with a linear
 *     probe on frozen first-token features, optionally heal with MLM steps, fine-tune with the recipe,
 *     evaluating after every epoch.
 *   finetuned: the clean cell fine-tunes and saves the task model; a corrupted cell loads that model,
 *     evaluates it, corrupts it, evaluates again, then heals it by continued fine-tuning.
 * Seeds derive from the cell's seed and a purpose only, so a corrupted cell and its clean baseline share
 * the task head's initialisation, the data order and dropout: paired comparisons.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { corrupt } from '../corruption/corrupt.js';
import { computeMetrics } from '../data/compute-metrics.js';
import { defaultCacheDir } from '../data/tokenize-split.js';
import { HealbertError, isHealbertError } from '../errors.js';
import { Model, type ParameterInfo } from '../model/model.js';
import { loadNative } from '../native/binding.js';
import { maskedBatch } from '../pretrain/masking.js';
import { packCorpus } from '../pretrain/pack.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { healbertVersion } from '../version.js';
import { type CellData, loadCellData } from './data.js';
import { linearProbe } from './probe.js';
import { cellDir } from './store.js';
import { evaluate, fineTune, outputs } from './train.js';
import type { CellConfig, CellResult, EpochRecord, MetricValues } from './types.js';

export type CellEvent =
  | { type: 'cell-phase'; id: string; phase: string }
  | { type: 'cell-step'; id: string; epoch: number; step: number; steps: number; loss: number }
  | { type: 'cell-epoch'; id: string; record: EpochRecord };

export interface CellContext {
  dir: string;
  id: string;
  baselineId: string | null;
  /** The device this worker runs on (e.g. cuda:1). */
  device: string;
  signal?: AbortSignal | undefined;
  onEvent?: (event: CellEvent) => void;
  /** Data already loaded for an earlier cell of the same (model, task, recipe) in this worker. */
  dataCache?: Map<string, Promise<CellData>>;
}

/** A seed for one purpose of a cell: 32 bits of a splitmix of (seed, purpose). */
export function derivedSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${purpose}`) h = Math.imul(h ^ (ch.codePointAt(0) as number), 0x01000193) >>> 0;
  return h;
}

/** The task model a finetuned-protocol clean cell saves, and its corrupted cells start from. */
export const baselineModelDir = (dir: string, id: string) => join(cellDir(dir, id), 'model');

function recoverySettings(config: CellConfig, model: Model, corrupted: Set<string>) {
  const { recovery } = config;
  const layers = model.config.numLayers;
  const isHead = (p: ParameterInfo) => p.isHead || p.component === 'pooler';
  const trainable = recovery.freezeUncorrupted ? (p: ParameterInfo) => corrupted.has(p.name) || isHead(p) : undefined;
  const decay = (p: ParameterInfo) => {
    if (recovery.layerDecay === 1 || isHead(p)) return 1;
    const depth = p.layer >= 0 ? layers - 1 - p.layer : layers; // embeddings are deepest
    return recovery.layerDecay ** depth;
  };
  const lrScale =
    recovery.layerDecay !== 1 || recovery.corruptedLrMultiplier !== 1
      ? (p: ParameterInfo) => decay(p) * (corrupted.has(p.name) ? recovery.corruptedLrMultiplier : 1)
      : undefined;
  return { ...(trainable ? { trainable } : {}), ...(lrScale ? { lrScale } : {}) };
}

async function mlmHeal(model: Model, config: CellConfig, seed: number, signal: AbortSignal | undefined): Promise<void> {
  const { recovery } = config;
  const tokenizer = await loadTokenizer(config.model.path);
  const corpus = await packCorpus(tokenizer, [recovery.mlmCorpus as string], {
    maxLength: config.recipe.maxLength,
    holdOut: 0.02,
    cacheDir: await defaultCacheDir(config.task.data),
  });
  await model.configureTraining({
    lr: recovery.mlmLr,
    warmupSteps: Math.ceil(0.06 * recovery.mlmSteps),
    totalSteps: recovery.mlmSteps,
    weightDecay: 0.01,
  });
  const batch = Math.min(config.recipe.batchSize, corpus.train.size);
  for (let step = 0; step < recovery.mlmSteps; step++) {
    if (signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'interrupted');
    const start = (step * batch) % Math.max(1, corpus.train.size - batch);
    const indices = Int32Array.from({ length: batch }, (_, k) => start + k);
    const r = await model.trainStep(maskedBatch(corpus.train, indices, corpus.specials, { seed, stream: step }));
    if (!Number.isFinite(r.loss)) throw new HealbertError('ERR_ARGUMENT', `MLM healing diverged at step ${step + 1}`);
  }
}

export async function runCell(config: CellConfig, ctx: CellContext): Promise<CellResult> {
  const startedAt = new Date().toISOString();
  const t0 = process.hrtime.bigint();
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    ctx.onEvent?.({ type: 'cell-phase', id: ctx.id, phase: name });
    const start = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      timings[name] = (timings[name] ?? 0) + Number(process.hrtime.bigint() - start) / 1e9;
    }
  };
  const result: CellResult = {
    format: 1,
    id: ctx.id,
    status: 'done',
    config,
    baselineId: ctx.baselineId,
    primaryMetric: '',
    scores: { epochs: [] },
    timings,
    device: ctx.device,
    versions: { healbert: healbertVersion, libtorch: loadNative().runtimeInfo().torchVersion, node: process.version },
    worker: { host: hostname(), pid: process.pid },
    startedAt,
    finishedAt: '',
  };
  let model: Model | undefined;
  try {
    const key = JSON.stringify([config.model.path, config.task, config.recipe.maxLength]);
    const cache = ctx.dataCache ?? new Map<string, Promise<CellData>>();
    if (!cache.has(key)) cache.set(key, loadCellData(config));
    const data = await phase('data', () => cache.get(key) as Promise<CellData>);
    result.primaryMetric = data.task.metrics[0] as string;
    const finetunedCorrupted = config.protocol === 'finetuned' && config.corruption !== null;
    const source = finetunedCorrupted ? baselineModelDir(ctx.dir, ctx.baselineId as string) : config.model.path;
    if (finetunedCorrupted && !existsSync(join(source, 'model.safetensors'))) {
      throw new HealbertError('ERR_DATA', `the clean baseline ${ctx.baselineId} has not saved its task model`);
    }
    model = await phase('load', () =>
      Model.load(source, {
        device: ctx.device,
        dtype: config.dtype,
        numLabels: data.numLabels,
        ...(data.task.isRegression ? { problemType: 'regression' as const } : {}),
        newHead: !finetunedCorrupted,
        seed: derivedSeed(config.seed, 'model'),
        mlmHead: config.recovery.mlmSteps > 0,
      }),
    );
    const m = model;
    if (finetunedCorrupted)
      result.scores.beforeCorruption = await phase('evaluate', () => evaluate(m, data.task, data.eval, config.recipe.evalBatchSize));

    const corrupted = new Set<string>();
    if (config.corruption) {
      const { label: _, ...spec } = config.corruption;
      const report = await phase('corrupt', () => corrupt(m, spec, { seed: derivedSeed(config.seed, 'corruption') }));
      for (const t of report.tensors) corrupted.add(t.name);
      result.corruption = {
        tensors: report.tensors.length,
        entries: report.total.numel,
        changed: report.total.changed,
        relativeChange: report.total.relativeChange,
        nonFinite: report.total.nonFinite,
        groups: report.groups.map((g) => ({
          group: g.group,
          layer: g.layer,
          entries: g.numel,
          changed: g.changed,
          relativeChange: g.relativeChange,
        })),
      };
    }

    if (config.protocol === 'pretrained') {
      result.scores.probe = await phase('probe', async () => {
        const train = await outputs(m, data.train, config.recipe.evalBatchSize, 'cls');
        const test = await outputs(m, data.eval, config.recipe.evalBatchSize, 'cls');
        const labels = data.train.labels as Int32Array | Float32Array;
        const predictions = linearProbe(
          { features: train.values, labels, n: data.train.size, d: train.width },
          { features: test.values, labels: data.eval.labels as Int32Array | Float32Array, n: data.eval.size, d: test.width },
          data.numLabels,
          config.probe,
          derivedSeed(config.seed, 'probe'),
        );
        if (predictions.some((p) => !Number.isFinite(p)))
          return Object.fromEntries(data.task.metrics.map((k) => [k, Number.NaN])) as MetricValues;
        return computeMetrics(data.task, predictions, data.eval.labels as Int32Array | Float32Array).values as MetricValues;
      });
    } else if (config.corruption) {
      result.scores.afterCorruption = await phase('evaluate', () => evaluate(m, data.task, data.eval, config.recipe.evalBatchSize));
    }

    if (config.corruption && config.recovery.mlmSteps > 0)
      await phase('mlm-heal', () => mlmHeal(m, config, derivedSeed(config.seed, 'mlm'), ctx.signal));

    const epochs = finetunedCorrupted ? config.recovery.healEpochs : config.recipe.epochs;
    const { diverged } = await phase('finetune', async () => {
      const settings = recoverySettings(config, m, corrupted);
      return fineTune(m, data.task, data.train, data.eval, {
        recipe: config.recipe,
        epochs,
        seed: derivedSeed(config.seed, 'data'),
        signal: ctx.signal,
        ...settings,
        onStep: (s) => ctx.onEvent?.({ type: 'cell-step', id: ctx.id, ...s }),
        onEpoch: (record) => {
          result.scores.epochs.push(record);
          ctx.onEvent?.({ type: 'cell-epoch', id: ctx.id, record });
        },
      });
    });
    if (diverged) {
      result.status = 'diverged';
      result.error = {
        code: 'DIVERGED',
        message: `non-finite training loss (${diverged.loss}) at step ${diverged.step}`,
        step: diverged.step,
      };
    } else {
      result.scores.final = result.scores.epochs.at(-1)?.metrics as MetricValues;
      if (config.protocol === 'finetuned' && !config.corruption) {
        result.scores.beforeCorruption = result.scores.final;
        const dir = baselineModelDir(ctx.dir, ctx.id);
        await rm(dir, { recursive: true, force: true });
        await phase('save', () => m.save(dir));
      }
    }
  } catch (error) {
    if (ctx.signal?.aborted) throw error; // interrupted: leave no result, the cell is redone next time
    result.status = 'failed';
    result.error = isHealbertError(error)
      ? { code: error.code, message: error.message }
      : { code: 'ERR_INTERNAL', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  } finally {
    model?.dispose();
  }
  timings.total = Number(process.hrtime.bigint() - t0) / 1e9;
  result.finishedAt = new Date().toISOString();
  return result;
}
