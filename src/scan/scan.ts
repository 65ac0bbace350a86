/**
 * scan(model, options): the layer-sensitivity scan. The clean model is scored first; then, for every
 * target (a layer, a component across the layers, or one layer's component) and every seed, the target is
 * corrupted in place, the model is scored, and the target is restored from an in-memory snapshot taken at
 * the start (the `revert` corruption on the same targets: bitwise the clean values). With `out`, every run
 * is written to scan.json as it finishes, and a rerun with the same configuration skips the runs done.
 *
 * Seeds: run (target, seed s) corrupts with derivedSeed(s, 'corruption'), the seed a sweep cell of seed s
 * corrupts with, and a tensor's noise depends only on that seed and the tensor; so layer 3 of a scan with
 * seed 0 receives exactly the values that a sweep cell "reinit layers 3, seed 0" gives it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { type CorruptionReport, corrupt } from '../corruption/corrupt.js';
import { type ResolvedCorruptionSpec, resolveCorruptionSpec, type TargetSpec } from '../corruption/spec.js';
import type { Task } from '../data/tasks.js';
import { HealbertError } from '../errors.js';
import type { Model } from '../model/model.js';
import { loadNative } from '../native/binding.js';
import { derivedSeed } from '../sweep/cell.js';
import { DEFAULT_PROBE } from '../sweep/spec.js';
import type { ProbeRecipe } from '../sweep/types.js';
import { healbertVersion } from '../version.js';
import { datasetSha256, type Evaluator, loadScanData, makeEvaluator, type ScanData, taskOf } from './evaluate.js';
import { scanRow } from './stats.js';
import { configHash, readResumable, saveScanFile, scanPaths, writeScanOutputs } from './store.js';
import { DEFAULT_NEURON_GROUPS, expandScanTargets, type ResolvedScanTarget } from './targets.js';
import type { ScanConfig, ScanEvaluation, ScanFile, ScanOptions, ScanResult, ScanRow, ScanRun, ScanTargetRecord } from './types.js';

/** The defaults of scan()'s options: seeds 0, 1, 2; 1000 probe training rows; batches of 64; 128 tokens. */
export const SCAN_DEFAULTS = { seeds: [0, 1, 2], trainRows: 1000, batchSize: 64, maxLength: 128 } as const;

/** Methods without random numbers when they touch every entry: one seed is the whole answer. */
const DETERMINISTIC = new Set(['zero', 'sign-flip', 'scale']);
/** The parameter kinds that reinit draws random values for. */
const RANDOM_UNDER_REINIT = new Set(['linear.weight', 'embedding']);

const fail = (field: string, message: string): never => {
  throw new HealbertError('ERR_CONFIG', `scan.${field}: ${message}`);
};

function integer(field: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min) fail(field, `must be an integer >= ${min}, got ${value}`);
  return value;
}

function checkSeeds(seeds: readonly number[]): number[] {
  if (!Array.isArray(seeds) || seeds.length === 0) fail('seeds', 'lists no seeds');
  for (const [i, s] of seeds.entries()) {
    if (!Number.isSafeInteger(s) || s < 0) fail(`seeds[${i}]`, `a seed is an integer >= 0, got ${s}`);
    if (seeds.indexOf(s) !== i) fail(`seeds[${i}]`, `seed ${s} is listed twice`);
  }
  return [...seeds];
}

/** The corruption without its targets, validated (errors name scan.method, scan.level, ...). */
function baseSpec(o: ScanOptions): ResolvedCorruptionSpec {
  if ((o.method as string) === 'revert') fail('method', 'revert restores a snapshot; it is not a corruption to scan');
  const input: Record<string, unknown> = { method: o.method, targets: {} };
  for (const key of ['level', 'relative', 'init', 'fraction', 'bits'] as const) if (o[key] !== undefined) input[key] = o[key];
  // (errors read "scan.method: must be one of ...", "scan.level: reinit takes no level")
  return resolveCorruptionSpec(input, 'scan');
}

/** Which evaluation 'auto' means for this model: its head when the head came from its checkpoint. */
export function defaultEvaluation(model: Model): ScanEvaluation {
  const fresh = new Set(model.loadReport?.initialised ?? []);
  const headParams = model.parameters().filter((p) => p.isHead || p.component === 'pooler');
  return headParams.some((p) => fresh.has(p.name)) ? 'probe' : 'head';
}

async function weightsSha256(model: Model): Promise<string> {
  const hash = createHash('sha256');
  for (const p of model.parameters()) {
    const values = await model.getParameter(p.name);
    hash.update(`${p.name}\0`).update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/** Everything a scan decides before it touches the model: its checked options, targets and seeds. */
interface ScanPlan {
  task: Task;
  /** The corruption without its targets. */
  spec: ResolvedCorruptionSpec;
  /** The seeds given, and those run (one where the method draws no random numbers). */
  seedsGiven: number[];
  seeds: number[];
  deterministic: boolean;
  rows: number | undefined;
  trainRows: number;
  batchSize: number;
  maxLength: number;
  probe: ProbeRecipe;
  targets: ResolvedScanTarget[];
  /** Each target's seeds (by label): one where its corruption draws no random numbers. */
  targetSeeds: Map<string, number[]>;
  evaluation: ScanEvaluation;
  metric: string;
  tokenizerDir: string;
  /** What the scan file and the caller are told about seeds and rows. */
  notes: string[];
}

/**
 * Runs the layer-sensitivity scan (see the top of this file): checks everything, loads the data, snapshots the
 * clean weights, scores the clean model, then corrupts, scores and restores every (target, seed) not done yet.
 */
export async function scan(model: Model, options: ScanOptions): Promise<ScanResult> {
  const started = process.hrtime.bigint();
  // 1. Everything that can be checked before the model is touched.
  const plan = planScan(model, options);
  // 2. The data, and the identity of what is scanned.
  const data = await loadData(options, plan);
  // 3. The clean weights, kept on the device: every run is undone from them by the revert corruption on its
  // targets. A revert also says which random stream this engine corrupts with (part of the config: runs made
  // with another stream are other numbers, and are never resumed into this scan).
  const snapshot = `scan-clean-${randomUUID()}`;
  await model.snapshot(snapshot);
  const restore = (t: TargetSpec) => corrupt(model, { method: 'revert', snapshot, targets: t }, { seed: 0, report: false });
  try {
    const { streamVersion } = await restore((plan.targets[0] as ResolvedScanTarget).targets);
    const config = await scanConfig(model, options, plan, data, streamVersion);
    const out = options.out;
    const file = (out ? await readResumable(out, config) : undefined) ?? newScanFile(model, config, plan);
    const save = async () => {
      if (out) await saveScanFile(out, file);
    };
    const total = plan.targets.reduce((n, t) => n + (plan.targetSeeds.get(t.label) as number[]).length, 0);
    const doneBefore = file.targets.reduce((s, t) => s + t.runs.length, 0);
    options.onEvent?.({
      type: 'scan-start',
      targets: plan.targets.length,
      seeds: plan.seeds,
      runs: total,
      done: doneBefore,
      evaluation: plan.evaluation,
      metric: plan.metric,
      examples: data.eval.size,
      notes: plan.notes,
    });
    // 4. The clean score, then the runs.
    const score = makeEvaluator(data, plan.evaluation, plan.batchSize, plan.probe);
    const clean = await scoreClean(model, options, plan, file, score, save);
    const ran = await runTargets(model, options, plan, file, { score, restore, save, total, doneBefore });
    // 5. The table and the files.
    const table: ScanRow[] = file.targets.map((t) => scanRow(t, clean.score));
    if (!file.finishedAt || ran > 0) file.finishedAt = new Date().toISOString();
    await save();
    if (out) await writeScanOutputs(out, config, clean.score, table);
    options.onEvent?.({ type: 'scan-end', seconds: seconds(started) });
    return { config, clean, rows: table, notes: file.notes, ran, resumed: doneBefore, files: out ? scanPaths(out) : null };
  } finally {
    await model.dropSnapshot(snapshot);
  }
}

/** Step 1: the options checked (errors name scan.<field>), the targets expanded, the seeds each target runs. */
function planScan(model: Model, options: ScanOptions): ScanPlan {
  const task = taskOf(options.task);
  const spec = baseSpec(options);
  const seedsGiven = checkSeeds(options.seeds ?? [...SCAN_DEFAULTS.seeds]);
  const rows = integer('rows', options.rows, 1);
  const trainRows = integer('trainRows', options.trainRows, 2) ?? SCAN_DEFAULTS.trainRows;
  const batchSize = integer('batchSize', options.batchSize, 1) ?? SCAN_DEFAULTS.batchSize;
  const maxLength = integer('maxLength', options.maxLength, 8) ?? SCAN_DEFAULTS.maxLength;
  const probe = { ...DEFAULT_PROBE, ...options.probe };
  const targets = expandScanTargets(
    {
      each: options.each,
      layers: options.layers,
      components: options.components,
      kinds: options.kinds,
      heads: options.heads,
      neuronGroups: options.neuronGroups,
    },
    model.parameters(),
    model.config.numLayers,
    { numHeads: model.config.numHeads, numNeurons: model.config.intermediateSize },
  );
  const requested = options.evaluation ?? 'auto';
  if (!['auto', 'head', 'probe'].includes(requested)) fail('evaluation', `must be auto, head or probe, got ${JSON.stringify(requested)}`);
  const evaluation = requested === 'auto' ? defaultEvaluation(model) : requested;
  const numLabels = task.isRegression ? 1 : task.labelNames.length;
  if (evaluation === 'head' && model.config.numLabels !== numLabels)
    fail('evaluation', `the model's head has ${model.config.numLabels} outputs, but ${task.name} has ${numLabels}; use the probe instead`);
  const notes: string[] = [];
  const { deterministic, seeds, targetSeeds } = planSeeds(model, spec, seedsGiven, targets, notes);
  const tokenizerDir = options.tokenizer ?? model.sourceDir;
  if (!tokenizerDir) fail('tokenizer', 'the model was not loaded from a folder; give the folder with its tokenizer files');
  const metric = task.metrics[0] as string;
  return {
    task,
    spec,
    seedsGiven,
    seeds,
    deterministic,
    rows,
    trainRows,
    batchSize,
    maxLength,
    probe,
    targets,
    targetSeeds,
    evaluation,
    metric,
    tokenizerDir: tokenizerDir as string,
    notes,
  };
}

/**
 * The seeds run, overall and per target, with the notes that say why some were left out: a method without
 * random numbers (touching every entry) needs one seed, and so does reinit of a target of LayerNorms and biases
 * alone (reset to fixed values).
 */
function planSeeds(
  model: Model,
  spec: ResolvedCorruptionSpec,
  seedsGiven: number[],
  targets: ResolvedScanTarget[],
  notes: string[],
): { deterministic: boolean; seeds: number[]; targetSeeds: Map<string, number[]> } {
  const deterministic = DETERMINISTIC.has(spec.method) && spec.fraction === 1;
  const seeds = deterministic ? seedsGiven.slice(0, 1) : seedsGiven;
  if (deterministic) {
    notes.push(
      `${spec.method} uses no random numbers, so one seed gives the whole answer: ran seed ${seeds[0]} only` +
        (seedsGiven.length > 1 ? ` (of ${seedsGiven.join(', ')})` : '') +
        '; no interval over seeds.',
    );
  } else if (seeds.length === 1) notes.push('one seed: no interval over seeds (give several with --seeds for a 95% t-interval).');
  // reinit draws random numbers only for Linear and embedding weights: a target of LayerNorms and biases alone
  // is reset to fixed values (LayerNorm 1 and 0, biases 0), and its other seeds would repeat the first.
  const allParams = model.parameters();
  const fixedReinit = (indices: number[]) =>
    spec.method === 'reinit' && spec.fraction === 1 && indices.every((i) => !RANDOM_UNDER_REINIT.has(allParams[i]?.kind ?? ''));
  const targetSeeds = new Map(targets.map((t) => [t.label, !deterministic && fixedReinit(t.indices) ? seeds.slice(0, 1) : seeds]));
  const fixedTargets = targets.filter((t) => (targetSeeds.get(t.label) as number[]).length < seeds.length).map((t) => t.label);
  if (fixedTargets.length > 0)
    notes.push(
      `reinit of ${fixedTargets.join(', ')} draws no random numbers (LayerNorm weights 1 and biases 0, Linear biases 0): ` +
        `seed ${seeds[0]} only there, no interval.`,
    );
  return { deterministic, seeds, targetSeeds };
}

/** Step 2: the evaluation rows (and the probe's training rows), tokenized; a note when --rows asks for more than there are. */
async function loadData(options: ScanOptions, plan: ScanPlan): Promise<ScanData> {
  const data = await loadScanData({
    task: options.task,
    data: options.data,
    split: options.split,
    rows: plan.rows,
    trainRows: plan.trainRows,
    maxLength: plan.maxLength,
    evaluation: plan.evaluation,
    tokenizerDir: plan.tokenizerDir,
    cacheDir: options.cacheDir,
  });
  if (plan.rows !== undefined && plan.rows > data.eval.size)
    plan.notes.push(`--rows ${plan.rows}: the ${data.split} split has ${data.eval.size} rows, all used.`);
  return data;
}

/**
 * Step 3: the resolved configuration written to scan.json; its hash decides whether a rerun resumes. It names
 * the model by its weights' hash, the data by its rows' hash, and the corruption by its random stream.
 */
async function scanConfig(model: Model, options: ScanOptions, plan: ScanPlan, data: ScanData, streamVersion: number): Promise<ScanConfig> {
  const { task, spec, targets, evaluation, rows, trainRows } = plan;
  const sliced = options.each === 'head' || options.each === 'neuron';
  return {
    format: 1,
    model: {
      name: options.modelName ?? (model.sourceDir ? basename(resolve(model.sourceDir)) : 'model'),
      path: model.sourceDir ? resolve(model.sourceDir) : null,
      parameters: model.numParameters,
      weightsSha256: await weightsSha256(model),
      ...(model.config.untied ? { untiedLayers: true } : {}),
    },
    task: {
      name: task.name,
      data: resolve(options.data),
      split: data.split,
      rows: rows ?? null,
      evalSha256: datasetSha256(data.eval),
      examples: data.eval.size,
      trainRows: data.train ? trainRows : null,
      trainSha256: data.train ? datasetSha256(data.train) : null,
    },
    evaluation,
    metric: plan.metric,
    corruption: {
      method: spec.method,
      level: spec.level,
      relative: spec.relative,
      init: spec.init,
      fraction: spec.fraction,
      bits: spec.bits,
      streamVersion,
    },
    each: options.each,
    layers: [...new Set(targets.flatMap((t) => (t.layer === null ? (t.targets.layers as number[]) : [t.layer])))].sort((a, b) => a - b),
    components: options.each === 'layer' || sliced ? (options.components ?? null) : [...new Set(targets.map((t) => t.component as string))],
    kinds: options.kinds ?? 'all',
    ...(options.each === 'head' ? { heads: [...new Set(targets.map((t) => t.head as number))].sort((a, b) => a - b) } : {}),
    ...(options.each === 'neuron' ? { neuronGroups: options.neuronGroups ?? DEFAULT_NEURON_GROUPS } : {}),
    seeds: plan.seeds,
    deterministic: plan.deterministic,
    maxLength: plan.maxLength,
    batchSize: plan.batchSize,
    probe: evaluation === 'probe' ? plan.probe : null,
    device: model.device,
    dtype: model.dtype,
    healbert: healbertVersion,
  };
}

/** A scan file with no runs yet: every target with its seeds and size. */
function newScanFile(model: Model, config: ScanConfig, plan: ScanPlan): ScanFile {
  const allParams = model.parameters();
  return {
    format: 1,
    kind: 'healbert-scan',
    config,
    configHash: configHash(config),
    versions: { healbert: healbertVersion, libtorch: loadNative().runtimeInfo().torchVersion, node: process.version },
    startedAt: new Date().toISOString(),
    updatedAt: '',
    finishedAt: null,
    notes: plan.notes,
    clean: null,
    targets: plan.targets.map(
      ({ indices, ...t }): ScanTargetRecord => ({
        ...t,
        seeds: plan.targetSeeds.get(t.label) as number[],
        tensors: indices.length,
        parameters: indices.reduce((s, i) => s + (allParams[i]?.numel ?? 0), 0),
        runs: [],
      }),
    ),
  };
}

/** Step 4a: the clean model's score, or the one a resumed scan file holds. */
async function scoreClean(
  model: Model,
  options: ScanOptions,
  plan: ScanPlan,
  file: ScanFile,
  score: Evaluator,
  save: () => Promise<void>,
): Promise<ScanResult['clean']> {
  if (file.clean) {
    options.onEvent?.({ type: 'clean', score: file.clean.score, seconds: file.clean.seconds, resumed: true });
  } else {
    const t0 = process.hrtime.bigint();
    const metrics = await score(model);
    file.clean = { score: metrics[plan.metric] as number, metrics, seconds: seconds(t0) };
    await save();
    options.onEvent?.({ type: 'clean', score: file.clean.score, seconds: file.clean.seconds, resumed: false });
  }
  return file.clean;
}

/** What the run loop needs besides the plan: the evaluator, the restore and save steps, and the run counts. */
interface RunTools {
  score: Evaluator;
  restore: (t: TargetSpec) => Promise<CorruptionReport>;
  save: () => Promise<void>;
  total: number;
  doneBefore: number;
}

/**
 * Step 4b: every (target, seed) not in the file yet, in order, each saved as it finishes; returns how many ran.
 * An aborted signal stops between runs (the file keeps the runs done, and a rerun resumes).
 */
async function runTargets(model: Model, options: ScanOptions, plan: ScanPlan, file: ScanFile, tools: RunTools): Promise<number> {
  const { total } = tools;
  const clean = file.clean as ScanResult['clean'];
  let ran = 0;
  let ranSeconds = 0;
  let index = tools.doneBefore;
  for (const [k, target] of plan.targets.entries()) {
    const record = file.targets[k] as ScanTargetRecord;
    for (const seed of record.seeds) {
      if (record.runs.some((r) => r.seed === seed)) continue;
      if (options.signal?.aborted)
        throw new HealbertError('ERR_ARGUMENT', `interrupted after ${index} of ${total} runs; rerun the same scan to resume`);
      const run = await runOnce(model, options, plan, target, seed, tools);
      record.runs.push(run);
      record.runs.sort((a, b) => plan.seeds.indexOf(a.seed) - plan.seeds.indexOf(b.seed));
      await tools.save();
      ran += 1;
      index += 1;
      ranSeconds += run.seconds;
      options.onEvent?.({
        type: 'run',
        index,
        total,
        target: target.label,
        seed,
        score: run.score,
        seconds: run.seconds,
        etaSeconds: (ranSeconds / ran) * (total - index),
      });
    }
    options.onEvent?.({ type: 'target', row: scanRow(record, clean.score) });
  }
  return ran;
}

/**
 * One run: corrupt the target with the seed's corruption seed, score the model, restore the target (whatever
 * happened, so that the caller's model is never left corrupted), then call afterRestore.
 */
async function runOnce(
  model: Model,
  options: ScanOptions,
  plan: ScanPlan,
  target: ResolvedScanTarget,
  seed: number,
  tools: RunTools,
): Promise<ScanRun> {
  const t0 = process.hrtime.bigint();
  const corruptionSeed = derivedSeed(seed, 'corruption');
  let report: CorruptionReport;
  let metrics: Record<string, number>;
  let evaluateSeconds: number;
  let restoreMs: number;
  let corruptMs: number;
  try {
    report = await corrupt(model, { ...plan.spec, targets: target.targets }, { seed: corruptionSeed });
    corruptMs = seconds(t0) * 1000;
    const te = process.hrtime.bigint();
    metrics = await tools.score(model);
    evaluateSeconds = seconds(te);
  } finally {
    // Restored whatever happened, so that the caller's model is never left corrupted.
    const tr = process.hrtime.bigint();
    await tools.restore(target.targets);
    restoreMs = seconds(tr) * 1000;
  }
  await options.afterRestore?.({
    target: { label: target.label, layer: target.layer, component: target.component, targets: target.targets },
    seed,
  });
  return {
    seed,
    corruptionSeed,
    score: metrics[plan.metric] as number,
    metrics,
    changed: report.total.changed,
    relativeChange: report.total.relativeChange,
    nonFinite: report.total.nonFinite,
    corruptMs,
    evaluateSeconds,
    restoreMs,
    seconds: seconds(t0),
  };
}
