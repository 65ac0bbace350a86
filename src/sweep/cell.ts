/**
 * One cell, in either protocol:
 *   pretrained: load the pretrained model (fresh task head), corrupt it, measure the damage with a linear
 *     probe on frozen first-token features, optionally heal with MLM steps, fine-tune with the recipe,
 *     evaluating after every epoch.
 *   finetuned: the clean cell fine-tunes and saves the task model; a corrupted cell loads that model,
 *     evaluates it, corrupts it, evaluates again, then heals it by continued fine-tuning. The baseline's
 *     control loads it too and heals it the same way, uncorrupted: what healing gains on its own.
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
import { FleetMeasurer } from '../measure/cell.js';
import { Model, type ParameterInfo } from '../model/model.js';
import { loadNative } from '../native/binding.js';
import { maskedBatch } from '../pretrain/masking.js';
import { packCorpus } from '../pretrain/pack.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { healbertVersion } from '../version.js';
import { type CellData, loadCellData } from './data.js';
import { canonicalJson, heals } from './expand.js';
import { linearProbe } from './probe.js';
import { cellModelDir } from './store.js';
import { evaluateMembers, fineTuneMembers, outputsMembers } from './train.js';
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
export const baselineModelDir = cellModelDir;

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

/**
 * MLM healing of the members that heal (the corrupted ones): the others are deactivated for it. Returns
 * the members whose MLM loss turned non-finite (with the step): they fail, as a cell alone fails.
 */
async function mlmHeal(
  model: Model,
  config: CellConfig,
  seed: number,
  healing: boolean[],
  signal: AbortSignal | undefined,
): Promise<Map<number, number>> {
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
  const active = [...healing];
  for (const [k, heals] of healing.entries()) if (!heals) await model.deactivateMember(k);
  const failed = new Map<number, number>();
  const batch = Math.min(config.recipe.batchSize, corpus.train.size);
  for (let step = 0; step < recovery.mlmSteps && active.some(Boolean); step++) {
    if (signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'interrupted');
    const start = (step * batch) % Math.max(1, corpus.train.size - batch);
    const indices = Int32Array.from({ length: batch }, (_, k) => start + k);
    const r = await model.trainStep(maskedBatch(corpus.train, indices, corpus.specials, { seed, stream: step }));
    for (const [k, loss] of r.losses.entries()) {
      if (!active[k] || Number.isFinite(loss)) continue;
      failed.set(k, step + 1);
      active[k] = false;
      if (active.some(Boolean)) await model.deactivateMember(k);
    }
  }
  return failed;
}

/** A cell as the sweep plans it. */
export interface PlannedCell {
  id: string;
  config: CellConfig;
  baselineId: string | null;
}

/**
 * Cells that can share training steps: everything but their corruption alike (model, task, recipe, seed,
 * protocol, recovery), so they see the same batches and dropout. In the finetuned protocol the cells that
 * heal one baseline's task model (its corrupted cells and its control) form a group; the clean baseline
 * runs first, apart.
 */
export function fleetKey(cell: PlannedCell): string {
  const { corruption: _, control: __, ...rest } = cell.config;
  const finetuned = rest.protocol === 'finetuned' ? (heals(cell.config) ? `healing ${cell.baselineId}` : 'clean') : '';
  return `${canonicalJson(rest)}|${finetuned}`;
}

export async function runCell(config: CellConfig, ctx: CellContext): Promise<CellResult> {
  const [result] = await runFleet([{ id: ctx.id, config, baselineId: ctx.baselineId }], ctx);
  return result as CellResult;
}

/**
 * Runs cells of one fleet group (fleetKey) together as the members of one model: one batched training step
 * for all, evaluation of all in one pass, each member corrupted, probed, healed and saved as its cell alone
 * would be. A solo cell is a fleet of one. Returns one result per cell, in order.
 */
export async function runFleet(cells: PlannedCell[], ctx: Omit<CellContext, 'id' | 'baselineId'>): Promise<CellResult[]> {
  if (cells.length === 0) return [];
  const key = fleetKey(cells[0] as PlannedCell);
  if (cells.some((c) => fleetKey(c) !== key))
    throw new HealbertError('ERR_INTERNAL', 'a fleet needs cells that differ only in their corruption');
  const config = (cells[0] as PlannedCell).config;
  const k = cells.length;
  const startedAt = new Date().toISOString();
  const t0 = process.hrtime.bigint();
  const timings: Record<string, number> = {};
  const emitAll = (event: (id: string) => CellEvent) => {
    for (const c of cells) ctx.onEvent?.(event(c.id));
  };
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    emitAll((id) => ({ type: 'cell-phase', id, phase: name }));
    const start = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      timings[name] = (timings[name] ?? 0) + Number(process.hrtime.bigint() - start) / 1e9;
    }
  };
  const libtorch = loadNative().runtimeInfo().torchVersion;
  const results: CellResult[] = cells.map((c, member) => ({
    format: 1,
    id: c.id,
    status: 'done',
    config: c.config,
    baselineId: c.baselineId,
    primaryMetric: '',
    scores: { epochs: [] },
    timings,
    ...(k > 1 ? { fleet: { size: k, member, cells: cells.map((x) => x.id) } } : {}),
    device: ctx.device,
    versions: { healbert: healbertVersion, libtorch, node: process.version },
    worker: { host: hostname(), pid: process.pid },
    startedAt,
    finishedAt: '',
  }));
  /** Members that failed or diverged: they take no further part. */
  const stopped = new Set<number>();
  const fail = (member: number, error: NonNullable<CellResult['error']>, status: CellResult['status'] = 'failed') => {
    const r = results[member] as CellResult;
    r.status = status;
    r.error = error;
    stopped.add(member);
  };
  let model: Model | undefined;
  try {
    const dataKey = JSON.stringify([config.model.path, config.task, config.recipe.maxLength]);
    const cache = ctx.dataCache ?? new Map<string, Promise<CellData>>();
    if (!cache.has(dataKey)) cache.set(dataKey, loadCellData(config));
    const data = await phase('data', () => cache.get(dataKey) as Promise<CellData>);
    for (const r of results) r.primaryMetric = data.task.metrics[0] as string;
    // finetuned protocol: corrupted cells and controls heal the baseline's task model (fleetKey groups them).
    const healsTaskModel = config.protocol === 'finetuned' && heals((cells[0] as PlannedCell).config);
    const baselineId = (cells[0] as PlannedCell).baselineId;
    const source = healsTaskModel ? baselineModelDir(ctx.dir, baselineId as string) : config.model.path;
    if (healsTaskModel && !existsSync(join(source, 'model.safetensors'))) {
      throw new HealbertError('ERR_DATA', `the clean baseline ${baselineId} has not saved its task model`);
    }
    const regression = data.task.isRegression ? { problemType: 'regression' as const } : {};
    model = await phase('load', () =>
      Model.load(source, {
        device: ctx.device,
        dtype: config.dtype,
        numLabels: data.numLabels,
        ...regression,
        newHead: !healsTaskModel,
        seed: derivedSeed(config.seed, 'model'),
        mlmHead: config.recovery.mlmSteps > 0,
        members: k,
        ...(config.model.untieLayers ? { untieLayers: true } : {}),
      }),
    );
    const loaded = model;
    const evalAll = () => evaluateMembers(loaded, data.task, data.eval, config.recipe.evalBatchSize);
    // Measurements (config.measure) ride on the evaluation passes below and never change a score.
    const load = { device: ctx.device, dtype: config.dtype, numLabels: data.numLabels, seed: derivedSeed(config.seed, 'model') };
    const measurer = config.measure
      ? new FleetMeasurer({ model: loaded, cells, data, dir: ctx.dir, healsTaskModel, load: { ...load, ...regression } })
      : undefined;
    await measurer?.beforeCorruption();
    if (healsTaskModel) {
      const before = await phase('evaluate', () => measurer?.evaluate('before') ?? evalAll());
      before.forEach((metrics, i) => {
        (results[i] as CellResult).scores.beforeCorruption = metrics;
      });
    }

    const corrupted = cells.map(() => new Set<string>());
    for (const [member, cell] of cells.entries()) {
      if (!cell.config.corruption) continue;
      const { label: _, ...spec } = cell.config.corruption;
      const report = await phase('corrupt', () => corrupt(loaded, spec, { seed: derivedSeed(config.seed, 'corruption'), member }));
      for (const t of report.tensors) corrupted[member]?.add(t.name);
      (results[member] as CellResult).corruption = {
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
        ...(report.heads
          ? { heads: report.heads.map((h) => ({ layer: h.layer, head: h.head, entries: h.numel, changed: h.changed })) }
          : {}),
        ...(report.notes ? { notes: report.notes } : {}),
      };
    }

    await measurer?.afterCorruption(corrupted);

    if (config.protocol === 'pretrained') {
      const probes = await phase('probe', async () => {
        const train = await outputsMembers(loaded, data.train, config.recipe.evalBatchSize, 'cls');
        const test = (await measurer?.probeFeatures()) ?? (await outputsMembers(loaded, data.eval, config.recipe.evalBatchSize, 'cls'));
        const labels = data.train.labels as Int32Array | Float32Array;
        // The fit's own seconds, inside the probe's: the rest of the phase is the features' forward passes.
        const fitStart = process.hrtime.bigint();
        const fitted = cells.map((_, member) => {
          const predictions = linearProbe(
            { features: train.values[member] as Float32Array, labels, n: data.train.size, d: train.width },
            {
              features: test.values[member] as Float32Array,
              labels: data.eval.labels as Int32Array | Float32Array,
              n: data.eval.size,
              d: test.width,
            },
            data.numLabels,
            config.probe,
            derivedSeed(config.seed, 'probe'),
          );
          if (predictions.some((p) => !Number.isFinite(p)))
            return Object.fromEntries(data.task.metrics.map((key) => [key, Number.NaN])) as MetricValues;
          return computeMetrics(data.task, predictions, data.eval.labels as Int32Array | Float32Array).values as MetricValues;
        });
        timings.probeFit = (timings.probeFit ?? 0) + Number(process.hrtime.bigint() - fitStart) / 1e9;
        return fitted;
      });
      probes.forEach((metrics, i) => {
        (results[i] as CellResult).scores.probe = metrics;
      });
    } else if (healsTaskModel && cells.some((c) => c.config.corruption)) {
      // A control has no corruption to measure: its beforeCorruption is its start.
      const after = await phase('evaluate', () => measurer?.evaluate('after') ?? evalAll());
      after.forEach((metrics, i) => {
        if ((cells[i] as PlannedCell).config.corruption) (results[i] as CellResult).scores.afterCorruption = metrics;
      });
    }

    const healing = cells.map((c) => heals(c.config) && config.recovery.mlmSteps > 0);
    if (healing.some(Boolean)) {
      const failed = await phase('mlm-heal', () => mlmHeal(loaded, config, derivedSeed(config.seed, 'mlm'), healing, ctx.signal));
      for (const [member, step] of failed) fail(member, { code: 'ERR_ARGUMENT', message: `MLM healing diverged at step ${step}` });
    }

    const epochs = healsTaskModel ? config.recovery.healEpochs : config.recipe.epochs;
    const settings = cells.map((_, member) => recoverySettings(config, loaded, corrupted[member] as Set<string>));
    const trained = await phase('finetune', () =>
      fineTuneMembers(loaded, data.task, data.train, data.eval, {
        recipe: config.recipe,
        epochs,
        seed: derivedSeed(config.seed, 'data'),
        signal: ctx.signal,
        inactive: stopped,
        ...(measurer
          ? { evaluate: (epoch: number, last: boolean, active: readonly boolean[]) => measurer.epochEnd(epoch, last, active) }
          : {}),
        ...(settings.some((s) => s.trainable) ? { trainable: (p, member) => settings[member]?.trainable?.(p) ?? true } : {}),
        ...(settings.some((s) => s.lrScale) ? { lrScale: (p, member) => settings[member]?.lrScale?.(p) ?? 1 } : {}),
        onStep: (s) => {
          for (const [member, cell] of cells.entries()) {
            if (s.active[member])
              ctx.onEvent?.({
                type: 'cell-step',
                id: cell.id,
                epoch: s.epoch,
                step: s.step,
                steps: s.steps,
                loss: s.losses[member] as number,
              });
          }
        },
        onEpoch: (record, member) => {
          (results[member] as CellResult).scores.epochs.push(record);
          ctx.onEvent?.({ type: 'cell-epoch', id: (cells[member] as PlannedCell).id, record });
        },
      }),
    );
    for (const [member, cell] of cells.entries()) {
      if (stopped.has(member)) continue;
      const r = results[member] as CellResult;
      const diverged = trained.diverged[member];
      if (diverged) {
        fail(
          member,
          { code: 'DIVERGED', message: `non-finite training loss (${diverged.loss}) at step ${diverged.step}`, step: diverged.step },
          'diverged',
        );
        continue;
      }
      r.scores.final = r.scores.epochs.at(-1)?.metrics as MetricValues;
      if (config.protocol === 'finetuned' && !healsTaskModel) {
        r.scores.beforeCorruption = r.scores.final;
        const dir = baselineModelDir(ctx.dir, cell.id);
        await rm(dir, { recursive: true, force: true });
        await phase('save', () => loaded.save(dir, { member }));
      }
    }
    await measurer?.finish(results);
  } catch (error) {
    if (ctx.signal?.aborted) throw error; // interrupted: leave no result, the cells are redone next time
    const reason = isHealbertError(error)
      ? { code: error.code, message: error.message }
      : { code: 'ERR_INTERNAL', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    for (let member = 0; member < k; member++) if (!stopped.has(member)) fail(member, reason);
  } finally {
    model?.dispose();
  }
  timings.total = Number(process.hrtime.bigint() - t0) / 1e9;
  const finishedAt = new Date().toISOString();
  for (const r of results) r.finishedAt = finishedAt;
  return results;
}
