/**
 * From a resolved spec to cells: corruption entries expanded over their `vary` grids (or zipped),
 * crossed with models, tasks and seeds (or an explicit cell list), plus the clean baseline of every
 * (model, task, seed), and under the finetuned protocol the control of every baseline that corrupted cells
 * heal from. Each cell's id is a hash of its configuration. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { type ResolvedCorruptionSpec, resolveCorruptionSpec } from '../corruption/spec.js';
import { HealbertError } from '../errors.js';
import { DEFAULT_RECOVERY, type ResolvedSweepSpec } from './spec.js';
import type { CellConfig, CorruptionEntry } from './types.js';

/**
 * JSON with object keys sorted at every level: the same value always gives the same text. `memo` keeps the
 * text of objects already seen, for a caller that hashes many configs sharing their model, task and recipe
 * objects and does not change them meanwhile (expandSweep: 100,000 cells took 3.9 s, most of it here).
 */
export function canonicalJson(value: unknown, memo?: WeakMap<object, string>): string {
  if (value && typeof value === 'object') {
    const known = memo?.get(value);
    if (known !== undefined) return known;
    const text = Array.isArray(value)
      ? `[${value.map((v) => canonicalJson(v, memo)).join(',')}]`
      : `{${Object.keys(value)
          .sort()
          .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
          .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], memo)}`)
          .join(',')}}`;
    memo?.set(value, text);
    return text;
  }
  return JSON.stringify(value);
}

/** What a cell is, for labels: its corruption's label, "control" or "clean". */
export const conditionName = (config: CellConfig): string =>
  config.corruption ? config.corruption.label : config.control ? 'control' : 'clean';

/** Cells that heal (corrupted ones, and finetuned controls): recovery strategies and MLM healing apply to them. */
export const heals = (config: CellConfig): boolean => config.corruption !== null || config.control === true;

export function cellId(config: CellConfig, memo?: WeakMap<object, string>): string {
  return createHash('sha256').update(canonicalJson(config, memo)).digest('hex').slice(0, 16);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown, where: string): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    if (typeof node[key] !== 'object' || node[key] === null)
      throw new HealbertError('ERR_CONFIG', `${where}.vary: "${path}" goes through a non-object`);
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) as string] = value;
}

const describeLayers = (layers: unknown) => (Array.isArray(layers) ? layers.join(',') : String(layers));

/** "reinit bottom:2", "gaussian 0.1 all attention", "zero names:*.bias". */
export function autoLabel(spec: ResolvedCorruptionSpec): string {
  const parts: string[] = [spec.method];
  if (spec.level) parts.push(String(spec.level));
  if (spec.relative) parts.push('rel');
  if (spec.method === 'reinit' && spec.init !== 'kaiming-sqrt5') parts.push(spec.init);
  if (spec.fraction < 1) parts.push(`p=${spec.fraction}`);
  const t = spec.targets;
  if (t.layers !== undefined) parts.push(describeLayers(t.layers));
  if (t.components) parts.push(t.components.join('+'));
  if (t.kinds && t.kinds !== 'all') parts.push(t.kinds);
  if (t.include) parts.push(`+${t.include.join('+')}`);
  if (t.names) parts.push(`names:${t.names.join(',')}`);
  return parts.join(' ');
}

export interface ExpandedCorruption {
  spec: ResolvedCorruptionSpec & { label: string };
  /** Where it came from, for messages: spec.corruptions[2] (vary #3). */
  path: string;
}

/** One entry with its `vary` grid (or zip) expanded into validated corruption specs. */
export function expandCorruption(entry: CorruptionEntry, path: string): ExpandedCorruption[] {
  const { vary, zip, label, ...base } = entry;
  const keys = Object.keys(vary ?? {});
  let combos: Record<string, unknown>[] = [{}];
  if (keys.length > 0 && vary) {
    if (zip) {
      const n = (vary[keys[0] as string] as unknown[]).length;
      for (const k of keys) {
        if ((vary[k] as unknown[]).length !== n)
          throw new HealbertError(
            'ERR_CONFIG',
            `${path}.vary: zipped lists must be equally long ("${keys[0]}" has ${n}, "${k}" has ${(vary[k] as unknown[]).length})`,
          );
      }
      combos = Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k) => [k, (vary[k] as unknown[])[i]])));
    } else {
      for (const k of keys) combos = combos.flatMap((c) => (vary[k] as unknown[]).map((v) => ({ ...c, [k]: v })));
    }
  }
  return combos.map((combo, i) => {
    const where = combos.length > 1 ? `${path} (variant ${i + 1})` : path;
    const spec = structuredClone(base) as Record<string, unknown>;
    for (const [k, v] of Object.entries(combo)) setPath(spec, k, v, path);
    const resolved = resolveCorruptionSpec(spec, where);
    const suffix = keys.length && label ? ` ${keys.map((k) => String(combo[k])).join(' ')}` : '';
    return { spec: { ...resolved, label: label ? `${label}${suffix}` : autoLabel(resolved) }, path: where };
  });
}

export interface ExpandedSweep {
  cells: { id: string; config: CellConfig; baselineId: string | null }[];
  corruptions: ExpandedCorruption[];
}

export function expandSweep(spec: ResolvedSweepSpec): ExpandedSweep {
  const dtype = spec.dtype;
  // The dtype is part of every cell id, so 'auto' must become the dtype this machine runs first.
  if (dtype === 'auto')
    throw new HealbertError('ERR_CONFIG', 'spec.dtype: "auto" must be resolved (resolveSweepDtype) before the cells are expanded');
  const corruptions = spec.corruptions.flatMap((entry, i) => expandCorruption(entry, `spec.corruptions[${i}]`));
  const make = (
    model: (typeof spec.models)[number],
    task: (typeof spec.tasks)[number],
    corruption: ExpandedCorruption['spec'] | null,
    seed: number,
  ): CellConfig => ({
    protocol: spec.protocol,
    model,
    task,
    corruption,
    seed,
    recipe: spec.recipe,
    probe: spec.probe,
    // Clean baselines are plain fine-tuning: recovery strategies concern corrupted parameters.
    recovery: corruption ? spec.recovery : DEFAULT_RECOVERY,
    // Absent unless set: the ids of sweeps without measurements stay what they were.
    ...(spec.measure ? { measure: spec.measure } : {}),
    device: spec.device.startsWith('cuda') ? 'cuda' : 'cpu',
    dtype,
  });
  const configs: CellConfig[] = [];
  const listed: ExpandedCorruption[] = [];
  if (spec.cells) {
    for (const [i, c] of spec.cells.entries()) {
      const pick = <T extends { name: string }>(list: T[], name: string | undefined, kind: string): T => {
        if (name === undefined) {
          if (list.length !== 1)
            throw new HealbertError('ERR_CONFIG', `spec.cells[${i}].${kind}: required when the spec has several ${kind}s`);
          return list[0] as T;
        }
        const found = list.find((x) => x.name === name);
        if (!found) throw new HealbertError('ERR_CONFIG', `spec.cells[${i}].${kind}: no ${kind} named "${name}"`);
        return found;
      };
      const model = pick(spec.models, c.model, 'model');
      const task = pick(spec.tasks, c.task, 'task');
      let corruption: ExpandedCorruption['spec'] | null = null;
      if (c.corruption) {
        const expanded = expandCorruption(c.corruption, `spec.cells[${i}].corruption`);
        if (expanded.length !== 1) throw new HealbertError('ERR_CONFIG', `spec.cells[${i}].corruption: a listed cell cannot vary`);
        listed.push(expanded[0] as ExpandedCorruption);
        corruption = (expanded[0] as ExpandedCorruption).spec;
      }
      configs.push(make(model, task, corruption, c.seed));
    }
  } else {
    for (const model of spec.models) {
      for (const task of spec.tasks) {
        for (const seed of spec.seeds) {
          configs.push(make(model, task, null, seed));
          for (const c of corruptions) configs.push(make(model, task, c.spec, seed));
        }
      }
    }
  }
  // Every corrupted cell needs its clean baseline; add the ones a cell list left out. The configs share
  // their model, task, recipe, probe and recovery objects and are not changed while they are hashed.
  const memo = new WeakMap<object, string>();
  const idOf = (config: CellConfig) => cellId(config, memo);
  const byId = new Map<string, { id: string; config: CellConfig; baselineId: string | null }>();
  for (const config of configs) {
    const baseline = config.corruption ? make(config.model, config.task, null, config.seed) : null;
    const baselineId = baseline ? idOf(baseline) : null;
    if (baseline && baselineId && !byId.has(baselineId)) byId.set(baselineId, { id: baselineId, config: baseline, baselineId: null });
    const id = idOf(config);
    if (!byId.has(id)) byId.set(id, { id, config, baselineId });
    // The control heals the same task model with the corrupted cells' recovery, uncorrupted: one per
    // baseline and recovery (the recovery is part of the config, so a different one is another control).
    if (baseline && baselineId && config.protocol === 'finetuned') {
      const control: CellConfig = { ...baseline, recovery: config.recovery, control: true };
      const controlId = idOf(control);
      if (!byId.has(controlId)) byId.set(controlId, { id: controlId, config: control, baselineId });
    }
  }
  const cells = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { cells, corruptions: spec.cells ? listed : corruptions };
}

/** The cells of shard `index` of `count`: a deterministic share (every count-th cell in id order). */
export function shardCells<T extends { id: string }>(cells: T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard) return cells;
  return cells.filter((_, i) => i % shard.count === shard.index);
}
