/**
 * Loading a model folder for a scan: whether its checkpoint holds a task head for the task decides how it
 * is scored ('auto': its head when it has one, else a linear probe). The checkpoint's tensor names and
 * shapes are read first (headers only), so a head for another label count is an error that says what to
 * do rather than a shape error from deep inside the load.
 */
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { canonicalName, locateWeightFiles } from '../model/checkpoint.js';
import { engineConfig, readRawConfig } from '../model/config.js';
import { layoutOf } from '../model/layout.js';
import { type ComputeDtype, Model } from '../model/model.js';
import { readSafetensorsHeader } from '../model/safetensors.js';
import { taskOf } from './evaluate.js';
import type { ScanEvaluation } from './types.js';

/** Options of {@link loadScanModel}: the task, how to score (auto, head or probe), device and dtype. */
export interface LoadScanModelOptions {
  task: string;
  evaluation?: ScanEvaluation | 'auto';
  device?: string;
  dtype?: ComputeDtype;
  /** ALBERT: give every layer its own copy of its shared group's tensors, so that layers scan one by one. */
  untieLayers?: boolean;
}

/** What the checkpoint of a folder holds of a task head for `numLabels` outputs. */
export async function checkpointHead(
  dir: string,
  numLabels: number,
  regression: boolean,
): Promise<{ head: 'present' | 'absent' | 'mismatch'; outputs: number | null }> {
  const raw = await readRawConfig(dir);
  const config = engineConfig(raw, join(dir, 'config.json'), {
    numLabels,
    ...(regression ? { problemType: 'regression' as const } : { problemType: 'single_label_classification' as const }),
  });
  const shapes = new Map<string, number[]>();
  for (const file of await locateWeightFiles(dir)) {
    for (const t of (await readSafetensorsHeader(file)).tensors.values()) shapes.set(canonicalName(t.name, config.arch), t.shape);
  }
  const head = layoutOf(config).filter((p) => p.isHead || p.component === 'pooler');
  if (!head.every((p) => shapes.has(p.name))) return { head: 'absent', outputs: null };
  const mismatch = head.find((p) => (shapes.get(p.name) as number[]).join() !== p.shape.join());
  if (mismatch) {
    const out = head.filter((p) => p.isHead && p.component === 'classifier').map((p) => shapes.get(p.name)?.[0]);
    return { head: 'mismatch', outputs: out[0] ?? null };
  }
  return { head: 'present', outputs: numLabels };
}

/**
 * Loads a model for a scan, choosing its scoring: the checkpoint's own head for the task when it has one, else the
 * linear probe.
 */
export async function loadScanModel(dir: string, options: LoadScanModelOptions): Promise<{ model: Model; evaluation: ScanEvaluation }> {
  const task = taskOf(options.task);
  const numLabels = task.isRegression ? 1 : task.labelNames.length;
  const { head, outputs } = await checkpointHead(dir, numLabels, task.isRegression);
  const requested = options.evaluation ?? 'auto';
  if (head === 'mismatch' && requested !== 'probe') {
    throw new HealbertError(
      'ERR_CONFIG',
      `scan.evaluation: the task head in ${dir} has ${outputs ?? 'other'} outputs, but ${task.name} has ${numLabels}; ` +
        'scan it on the task it was trained for, or score it with a linear probe on its features (--eval probe).',
    );
  }
  if (head === 'absent' && requested === 'head') {
    throw new HealbertError(
      'ERR_CONFIG',
      `scan.evaluation: ${dir} has no task head (its checkpoint holds no classifier weights); score it with a linear probe (--eval probe, the default for such a model).`,
    );
  }
  const evaluation: ScanEvaluation = requested === 'auto' ? (head === 'present' ? 'head' : 'probe') : requested;
  const model = await Model.load(dir, {
    device: options.device ?? 'cpu',
    dtype: options.dtype ?? 'float32',
    numLabels,
    ...(task.isRegression ? { problemType: 'regression' as const } : {}),
    // A head for other labels is replaced (the probe does not use it).
    ...(head === 'mismatch' ? { newHead: true } : {}),
    ...(options.untieLayers ? { untieLayers: true } : {}),
  });
  return { model, evaluation };
}
