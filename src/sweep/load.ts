/**
 * A sweep spec from where it comes from (a file, a sweep folder's spec.json, an object), resolved, expanded
 * and checked against the world before any cell runs: what a run, --plan and --emit all start with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DtypeDecision } from '../dtype/choose.js';
import { HealbertError } from '../errors.js';
import { resolveSweepDtype } from './dtype.js';
import { expandSweep } from './expand.js';
import { preflight } from './preflight.js';
import { checkSweepWorld, type ResolvedSweepSpec, readSweepSpec, resolveSweepSpec } from './spec.js';

/** A spec from a file, a sweep folder (its spec.json: resume), or an object. */
export async function loadSpec(input: unknown, baseDir?: string): Promise<{ spec: ResolvedSweepSpec; dirSpec: boolean }> {
  if (typeof input === 'string') {
    const path = existsSync(join(input, 'spec.json')) ? join(input, 'spec.json') : input;
    const { spec, baseDir: fileDir } = await readSweepSpec(path);
    return { spec: resolveSweepSpec(spec, fileDir), dirSpec: path !== input };
  }
  return { spec: resolveSweepSpec(input, baseDir ?? process.cwd()), dirSpec: false };
}

/**
 * A spec read, expanded and checked against the world (checkSweepWorld, preflight) before any cell runs.
 * `local: false` for a sweep whose manifests are emitted for other machines: their CUDA devices are not
 * this machine's, so only the device names are checked. `dir`: the results folder, where `dtype: "auto"` is
 * resolved (once per folder: dtype.ts) before any cell id is computed; `decision` says what it chose.
 */
export async function checkedSweep(
  input: unknown,
  options: { baseDir?: string | undefined; devices?: string[] | undefined; local?: boolean; dir: string },
): Promise<{
  spec: ResolvedSweepSpec;
  expanded: ReturnType<typeof expandSweep>;
  rows: { train: number; eval: number }[];
  decision?: DtypeDecision;
}> {
  try {
    const loaded = await loadSpec(input, options.baseDir);
    const { spec, decision } = await resolveSweepDtype(loaded.spec, options.dir, options.devices?.[0] ?? loaded.spec.device);
    const expanded = expandSweep(spec);
    await checkSweepWorld(spec, expanded.corruptions);
    const { rows } = await preflight(spec, expanded.corruptions, {
      ...(options.devices ? { devices: options.devices } : {}),
      ...(options.local !== undefined ? { local: options.local } : {}),
    });
    return { spec, expanded, rows, ...(decision ? { decision } : {}) };
  } catch (error) {
    // A spec from a file: its errors name the file first, then the field (spec.tasks[0].data: ...).
    if (typeof input !== 'string' || !(error instanceof HealbertError) || error.code !== 'ERR_CONFIG') throw error;
    const file = existsSync(join(input, 'spec.json')) ? join(input, 'spec.json') : input;
    if (error.message.startsWith(file)) throw error;
    throw new HealbertError('ERR_CONFIG', `${file}: ${error.message}`, { cause: error });
  }
}
