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
import { evaluateMembers, type FleetFineTuneResult, fineTuneMembers, outputsMembers } from './train.js';
import type { CellConfig, CellResult, EpochRecord, MetricValues, PlannedCell } from './types.js';

/** Progress of a cell: a phase begins (data, load, corrupt, probe, finetune, ...), a training step, an evaluated epoch. */
export type CellEvent =
  | { type: 'cell-phase'; id: string; phase: string }
  | { type: 'cell-step'; id: string; epoch: number; step: number; steps: number; loss: number }
  | { type: 'cell-epoch'; id: string; record: EpochRecord };

/** Where and how a cell runs: the sweep folder, its id and baseline, the device, and progress and cancellation. */
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

export type { PlannedCell } from './types.js';

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

/** Runs one cell alone: a fleet of one (runFleet). */
export async function runCell(config: CellConfig, ctx: CellContext): Promise<CellResult> {
  const [result] = await runFleet([{ id: ctx.id, config, baselineId: ctx.baselineId }], ctx);
  return result as CellResult;
}

/** What runFleet's context gives every cell of the fleet (a cell's id and baseline come from the cell). */
type FleetContext = Omit<CellContext, 'id' | 'baselineId'>;

/** A fleet being run: its cells, their results as they fill in, timings per phase, and the members stopped. */
interface FleetRun {
  cells: PlannedCell[];
  ctx: FleetContext;
  /** The configuration the cells share (all but the corruption): the first cell's. */
  config: CellConfig;
  results: CellResult[];
  timings: Record<string, number>;
  /** Members that failed or diverged: they take no further part. */
  stopped: Set<number>;
  /** Runs `work` as the named phase: every cell hears of it, and its seconds add to timings[name]. */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Marks a member failed (or diverged) with its error; it takes no further part. */
  fail(member: number, error: NonNullable<CellResult['error']>, status?: CellResult['status']): void;
}

/** The fleet's model, loaded, and what the steps after the load need to know about where it came from. */
interface LoadedFleet {
  model: Model;
  data: CellData;
  /** finetuned protocol: the cells heal the clean baseline's saved task model (else: the pretrained model). */
  healsTaskModel: boolean;
  /** Evaluates every member on the eval split. */
  evalAll: () => Promise<MetricValues[]>;
  /** Measurements (config.measure) ride on the evaluation passes and never change a score. */
  measurer: FleetMeasurer | undefined;
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
  const t0 = process.hrtime.bigint();
  const run = startFleet(cells, ctx);
  let model: Model | undefined;
  try {
    const data = await loadData(run);
    const source = modelSource(run);
    model = await loadModel(run, data, source);
    const fleet = loadedFleet(run, data, model, source.healsTaskModel);
    await fleet.measurer?.beforeCorruption();
    if (fleet.healsTaskModel) await scoreBeforeCorruption(run, fleet);
    const corrupted = await corruptMembers(run, fleet.model);
    await fleet.measurer?.afterCorruption(corrupted);
    await measureDamage(run, fleet);
    await healWithMlm(run, fleet.model);
    const trained = await fineTuneAll(run, fleet, corrupted);
    await finishMembers(run, fleet, trained);
    await fleet.measurer?.finish(run.results);
  } catch (error) {
    if (ctx.signal?.aborted) throw error; // interrupted: leave no result, the cells are redone next time
    const reason = isHealbertError(error)
      ? { code: error.code, message: error.message }
      : { code: 'ERR_INTERNAL', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    for (let member = 0; member < cells.length; member++) if (!run.stopped.has(member)) run.fail(member, reason);
  } finally {
    model?.dispose();
  }
  run.timings.total = Number(process.hrtime.bigint() - t0) / 1e9;
  const finishedAt = new Date().toISOString();
  for (const r of run.results) r.finishedAt = finishedAt;
  return run.results;
}

/** Each cell's result before anything ran ('done' until a step fails it), sharing one timings record. */
function startFleet(cells: PlannedCell[], ctx: FleetContext): FleetRun {
  const config = (cells[0] as PlannedCell).config;
  const k = cells.length;
  const startedAt = new Date().toISOString();
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
  const stopped = new Set<number>();
  const fail = (member: number, error: NonNullable<CellResult['error']>, status: CellResult['status'] = 'failed') => {
    const r = results[member] as CellResult;
    r.status = status;
    r.error = error;
    stopped.add(member);
  };
  return { cells, ctx, config, results, timings, stopped, phase, fail };
}

/** The task's data, shared with earlier cells of the same (model, task, maxLength) in this worker. */
async function loadData(run: FleetRun): Promise<CellData> {
  const { config, ctx } = run;
  const dataKey = JSON.stringify([config.model.path, config.task, config.recipe.maxLength]);
  const cache = ctx.dataCache ?? new Map<string, Promise<CellData>>();
  if (!cache.has(dataKey)) cache.set(dataKey, loadCellData(config));
  const data = await run.phase('data', () => cache.get(dataKey) as Promise<CellData>);
  for (const r of run.results) r.primaryMetric = data.task.metrics[0] as string;
  return data;
}

/**
 * Where the fleet's model comes from: the pretrained model (a fresh task head), or in the finetuned protocol, for
 * corrupted cells and controls, the clean baseline's saved task model (fleetKey groups them).
 */
function modelSource(run: FleetRun): { source: string; healsTaskModel: boolean } {
  const { cells, config, ctx } = run;
  const healsTaskModel = config.protocol === 'finetuned' && heals((cells[0] as PlannedCell).config);
  const baselineId = (cells[0] as PlannedCell).baselineId;
  const source = healsTaskModel ? baselineModelDir(ctx.dir, baselineId as string) : config.model.path;
  if (healsTaskModel && !existsSync(join(source, 'model.safetensors'))) {
    throw new HealbertError('ERR_DATA', `the clean baseline ${baselineId} has not saved its task model`);
  }
  return { source, healsTaskModel };
}

/** What the measurer loads its reference models with: the fleet's device, dtype, head and seed. */
function referenceLoad(run: FleetRun, data: CellData) {
  const { config, ctx } = run;
  const regression = data.task.isRegression ? { problemType: 'regression' as const } : {};
  const load = { device: ctx.device, dtype: config.dtype, numLabels: data.numLabels, seed: derivedSeed(config.seed, 'model') };
  return { ...load, ...regression };
}

/** The fleet's model, one member per cell, from `source` (modelSource). */
async function loadModel(run: FleetRun, data: CellData, source: { source: string; healsTaskModel: boolean }): Promise<Model> {
  const { cells, config, ctx } = run;
  const regression = data.task.isRegression ? { problemType: 'regression' as const } : {};
  return run.phase('load', () =>
    Model.load(source.source, {
      device: ctx.device,
      dtype: config.dtype,
      numLabels: data.numLabels,
      ...regression,
      newHead: !source.healsTaskModel,
      seed: derivedSeed(config.seed, 'model'),
      mlmHead: config.recovery.mlmSteps > 0,
      members: cells.length,
      ...(config.model.untieLayers ? { untieLayers: true } : {}),
    }),
  );
}

/** The loaded fleet: its evaluation of all members, and the measurer when the config measures. */
function loadedFleet(run: FleetRun, data: CellData, model: Model, healsTaskModel: boolean): LoadedFleet {
  const { cells, config, ctx } = run;
  const evalAll = () => evaluateMembers(model, data.task, data.eval, config.recipe.evalBatchSize);
  const measurer = config.measure
    ? new FleetMeasurer({ model, cells, data, dir: ctx.dir, healsTaskModel, load: referenceLoad(run, data) })
    : undefined;
  return { model, data, healsTaskModel, evalAll, measurer };
}

/** finetuned protocol, healing cells: every member's score on the task model before it is corrupted. */
async function scoreBeforeCorruption(run: FleetRun, fleet: LoadedFleet): Promise<void> {
  const before = await run.phase('evaluate', () => fleet.measurer?.evaluate('before') ?? fleet.evalAll());
  before.forEach((metrics, i) => {
    (run.results[i] as CellResult).scores.beforeCorruption = metrics;
  });
}

/**
 * Corrupts each member with its cell's corruption (seeded by the cell's seed, so a member gets the noise its cell
 * alone would) and records the report; returns each member's corrupted tensor names.
 */
async function corruptMembers(run: FleetRun, model: Model): Promise<Set<string>[]> {
  const { cells, config } = run;
  const corrupted = cells.map(() => new Set<string>());
  for (const [member, cell] of cells.entries()) {
    if (!cell.config.corruption) continue;
    const { label: _, ...spec } = cell.config.corruption;
    const report = await run.phase('corrupt', () => corrupt(model, spec, { seed: derivedSeed(config.seed, 'corruption'), member }));
    for (const t of report.tensors) corrupted[member]?.add(t.name);
    (run.results[member] as CellResult).corruption = {
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
      ...(report.heads ? { heads: report.heads.map((h) => ({ layer: h.layer, head: h.head, entries: h.numel, changed: h.changed })) } : {}),
      ...(report.notes ? { notes: report.notes } : {}),
    };
  }
  return corrupted;
}

/**
 * The damage, before any healing: in the pretrained protocol a linear probe on every member's frozen first-token
 * features; in the finetuned protocol the corrupted members' task scores (a control has none: its
 * beforeCorruption is its start).
 */
async function measureDamage(run: FleetRun, fleet: LoadedFleet): Promise<void> {
  const { cells, config } = run;
  if (config.protocol === 'pretrained') {
    const probes = await run.phase('probe', () => probeMembers(run, fleet));
    probes.forEach((metrics, i) => {
      (run.results[i] as CellResult).scores.probe = metrics;
    });
  } else if (fleet.healsTaskModel && cells.some((c) => c.config.corruption)) {
    // A control has no corruption to measure: its beforeCorruption is its start.
    const after = await run.phase('evaluate', () => fleet.measurer?.evaluate('after') ?? fleet.evalAll());
    after.forEach((metrics, i) => {
      if ((cells[i] as PlannedCell).config.corruption) (run.results[i] as CellResult).scores.afterCorruption = metrics;
    });
  }
}

/** The linear probe of every member: features of the train and eval splits, then one fit per member (timed as probeFit). */
async function probeMembers(run: FleetRun, fleet: LoadedFleet): Promise<MetricValues[]> {
  const { cells, config, timings } = run;
  const { model, data, measurer } = fleet;
  const train = await outputsMembers(model, data.train, config.recipe.evalBatchSize, 'cls');
  const test = (await measurer?.probeFeatures()) ?? (await outputsMembers(model, data.eval, config.recipe.evalBatchSize, 'cls'));
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
}

/** MLM healing (recovery.mlmSteps) of the members that heal; a member whose MLM loss diverges fails. */
async function healWithMlm(run: FleetRun, model: Model): Promise<void> {
  const { cells, config, ctx } = run;
  const healing = cells.map((c) => heals(c.config) && config.recovery.mlmSteps > 0);
  if (!healing.some(Boolean)) return;
  const failed = await run.phase('mlm-heal', () => mlmHeal(model, config, derivedSeed(config.seed, 'mlm'), healing, ctx.signal));
  for (const [member, step] of failed) run.fail(member, { code: 'ERR_ARGUMENT', message: `MLM healing diverged at step ${step}` });
}

/**
 * Fine-tunes every member still running together (the recipe's epochs, or recovery.healEpochs when healing a
 * task model), with each member's recovery settings, recording every epoch in its result.
 */
async function fineTuneAll(run: FleetRun, fleet: LoadedFleet, corrupted: Set<string>[]): Promise<FleetFineTuneResult> {
  const { cells, config, ctx, results } = run;
  const { model, data, measurer } = fleet;
  const epochs = fleet.healsTaskModel ? config.recovery.healEpochs : config.recipe.epochs;
  const settings = cells.map((_, member) => recoverySettings(config, model, corrupted[member] as Set<string>));
  return run.phase('finetune', () =>
    fineTuneMembers(model, data.task, data.train, data.eval, {
      recipe: config.recipe,
      epochs,
      seed: derivedSeed(config.seed, 'data'),
      signal: ctx.signal,
      inactive: run.stopped,
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
}

/**
 * Each member's outcome: diverged, or its final scores; a finetuned-protocol clean cell also saves its task
 * model, which its corrupted cells and control start from.
 */
async function finishMembers(run: FleetRun, fleet: LoadedFleet, trained: FleetFineTuneResult): Promise<void> {
  const { cells, config, ctx } = run;
  for (const [member, cell] of cells.entries()) {
    if (run.stopped.has(member)) continue;
    const r = run.results[member] as CellResult;
    const diverged = trained.diverged[member];
    if (diverged) {
      run.fail(
        member,
        { code: 'DIVERGED', message: `non-finite training loss (${diverged.loss}) at step ${diverged.step}`, step: diverged.step },
        'diverged',
      );
      continue;
    }
    r.scores.final = r.scores.epochs.at(-1)?.metrics as MetricValues;
    if (config.protocol === 'finetuned' && !fleet.healsTaskModel) {
      r.scores.beforeCorruption = r.scores.final;
      const dir = baselineModelDir(ctx.dir, cell.id);
      await rm(dir, { recursive: true, force: true });
      await run.phase('save', () => fleet.model.save(dir, { member }));
    }
  }
}
