/**
 * What a sweep checks before its first cell, beyond the spec's shape (spec.ts): a typo or a missing file
 * found here costs a second; found in a cell it costs a failed result per cell, retried on every run.
 * Every failure is ERR_CONFIG naming the field of the spec.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSplit } from '../data/load-split.js';
import { getTask } from '../data/tasks.js';
import { HealbertError } from '../errors.js';
import { checkMeasure } from '../measure/preflight.js';
import { locateWeightFiles } from '../model/checkpoint.js';
import { loadNative } from '../native/binding.js';
import { loadTokenizerSpec } from '../tokenizer/load.js';
import { canonicalJson, type ExpandedCorruption } from './expand.js';
import type { ResolvedSweepSpec } from './spec.js';

/** The dtypes a sweep trains in. */
export const SWEEP_DTYPES = ['float32', 'bfloat16'] as const;

export function checkDtype(dtype: unknown, where: string): void {
  if (!(SWEEP_DTYPES as readonly unknown[]).includes(dtype))
    throw new HealbertError(
      'ERR_CONFIG',
      `${where}: dtype ${JSON.stringify(dtype)} is not supported (expected ${SWEEP_DTYPES.join(' or ')})`,
    );
}

/**
 * cpu, cuda or cuda:<n>. With `local` (a sweep that runs here, not one whose manifests are emitted for other
 * machines) a CUDA device must also exist: the addon built with CUDA, a GPU visible, the index in range.
 */
export function checkDevice(device: string, where: string, local = true): void {
  const m = /^(cpu|cuda)(?::(\d+))?$/.exec(device);
  if (!m || (m[1] === 'cpu' && m[2] !== undefined))
    throw new HealbertError('ERR_CONFIG', `${where}: unknown device "${device}" (expected cpu, cuda or cuda:<n>)`);
  if (m[1] !== 'cuda' || !local) return;
  const info = loadNative().runtimeInfo();
  if (!info.builtWithCuda)
    throw new HealbertError(
      'ERR_CONFIG',
      `${where}: "${device}" asks for CUDA, but this healbert addon was built without CUDA (libtorch ${info.torchVersion} from ${info.torchSource}); install a CUDA build or use "cpu"`,
    );
  const count = info.cudaDevices.length;
  const index = m[2] === undefined ? 0 : Number(m[2]);
  if (!info.cudaAvailable || index >= count)
    throw new HealbertError(
      'ERR_CONFIG',
      `${where}: "${device}" does not exist here (${count === 0 ? 'no CUDA device is visible' : `CUDA devices: 0-${count - 1}`})`,
    );
}

/** Two different corruptions under one label would be averaged together in every report table. */
export function checkLabels(corruptions: ExpandedCorruption[]): void {
  const seen = new Map<string, ExpandedCorruption>();
  for (const c of corruptions) {
    // Reports name the baseline and its control so: a corruption under either name would pass for them.
    if (c.spec.label === 'clean' || c.spec.label === 'control')
      throw new HealbertError('ERR_CONFIG', `${c.path}.label: "${c.spec.label}" names the uncorrupted cells; choose another label`);
    const first = seen.get(c.spec.label);
    if (!first) {
      seen.set(c.spec.label, c);
      continue;
    }
    const { label: _a, ...a } = first.spec;
    const { label: _b, ...b } = c.spec;
    if (canonicalJson(a) !== canonicalJson(b))
      throw new HealbertError(
        'ERR_CONFIG',
        `${c.path}.label: "${c.spec.label}" is also the label of ${first.path}, a different corruption; give each corruption its own label`,
      );
  }
}

/** The model folder loads its config, and has weights and a tokenizer. */
export async function checkModelFolder(path: string, where: string): Promise<void> {
  try {
    await locateWeightFiles(path);
    await loadTokenizerSpec(path);
  } catch (error) {
    throw new HealbertError('ERR_CONFIG', `${where}: ${(error as Error).message}`);
  }
}

/**
 * Every task's train and evaluation files exist and parse (header, fields, labels), and the subsets asked
 * for are not larger than the splits. Reads each split once; returns the row counts (--plan uses them).
 */
export async function checkTaskData(spec: ResolvedSweepSpec): Promise<{ train: number; eval: number }[]> {
  const counts: { train: number; eval: number }[] = [];
  for (const [i, entry] of spec.tasks.entries()) {
    const task = getTask(entry.name);
    const rows = async (split: string) => {
      try {
        return (await loadSplit(task, entry.data, split)).examples.length;
      } catch (error) {
        throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].data: ${(error as Error).message}`);
      }
    };
    const train = await rows('train');
    const evaluation = await rows(entry.evalSplit);
    for (const [field, asked, have, split] of [
      ['trainExamples', entry.trainExamples, train, 'train'],
      ['evalExamples', entry.evalExamples, evaluation, entry.evalSplit],
    ] as const) {
      if (asked !== undefined && asked > have)
        throw new HealbertError('ERR_CONFIG', `spec.tasks[${i}].${field}: ${asked} is more than the ${have} rows of ${task.name} ${split}`);
    }
    counts.push({ train, eval: evaluation });
  }
  return counts;
}

/** Devices, dtype, labels, model folders and data: everything checkSweepWorld does not cover. */
export async function preflight(
  spec: ResolvedSweepSpec,
  corruptions: ExpandedCorruption[],
  options: { devices?: string[]; local?: boolean } = {},
): Promise<{ rows: { train: number; eval: number }[] }> {
  const local = options.local ?? true;
  checkDevice(spec.device, 'spec.device', local);
  for (const d of options.devices ?? []) checkDevice(d, `--device ${d}`, local);
  checkDtype(spec.dtype, 'spec.dtype');
  checkLabels(corruptions);
  for (const [i, model] of spec.models.entries()) {
    if (existsSync(join(model.path, 'config.json'))) await checkModelFolder(model.path, `spec.models[${i}]`);
  }
  const rows = await checkTaskData(spec);
  await checkMeasure(spec, corruptions, rows);
  return { rows };
}
