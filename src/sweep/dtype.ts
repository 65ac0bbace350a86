/**
 * A sweep's `dtype: "auto"`, resolved once per results folder, before any cell id is computed (the dtype
 * is part of every cell's config, so of its id). The first run records the concrete dtype in the folder's
 * spec.json; later runs into the same folder (resumes from the spec file, other shards, the worker
 * processes, which read that spec.json) keep it instead of measuring again, so a resume never turns into a
 * new set of cells because a measurement came out differently.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DtypeDecision } from '../dtype/choose.js';
import { resolveDtype } from '../dtype/measure.js';
import type { ComputeDtype } from '../model/model.js';
import type { ResolvedSweepSpec } from './spec.js';

const isCuda = (device: string) => device.startsWith('cuda');

/** The dtype a folder's spec.json recorded for a spec on the same kind of device, if any. */
async function recordedDtype(dir: string, device: string): Promise<ComputeDtype | undefined> {
  let recorded: { dtype?: unknown; device?: unknown };
  try {
    recorded = JSON.parse(await readFile(join(dir, 'spec.json'), 'utf8'));
  } catch {
    return undefined; // a new folder (an unreadable spec.json is reported by whoever reads it as a spec)
  }
  const dtype = recorded.dtype;
  if (dtype !== 'float32' && dtype !== 'bfloat16') return undefined;
  if (typeof recorded.device !== 'string' || isCuda(recorded.device) !== isCuda(device)) return undefined;
  return dtype;
}

/**
 * The spec with a concrete dtype. `device` is where this run computes (the spec's device unless the
 * command names another). The decision is returned for 'auto' only.
 */
export async function resolveSweepDtype(
  spec: ResolvedSweepSpec,
  dir: string,
  device: string,
): Promise<{ spec: ResolvedSweepSpec & { dtype: ComputeDtype }; decision?: DtypeDecision }> {
  if (spec.dtype !== 'auto') return { spec: spec as ResolvedSweepSpec & { dtype: ComputeDtype } };
  const recorded = await recordedDtype(dir, spec.device);
  const decision = recorded
    ? { dtype: recorded, reason: `recorded by this folder's first run in ${join(dir, 'spec.json')}` }
    : await resolveDtype('auto', device);
  return { spec: { ...spec, dtype: decision.dtype }, decision: { dtype: decision.dtype, reason: decision.reason } };
}
