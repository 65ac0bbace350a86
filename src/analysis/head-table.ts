/**
 * Damage and residual gap per attention head: the conditions of a sweep that corrupt one head of one layer
 * (`targets: { layers: 3, heads: 5 }`, e.g. from `vary: { targets.heads: [0, ..., 11] }`), arranged by
 * context (everything but the layer and the head, the dose included) into a layer x head grid. Each cell is
 * the condition's summary over its seeds: k seeds give per-head intervals.
 */
import type { CellConfig } from '../sweep/types.js';
import type { GroupSummary, StatusCounts } from './groups.js';
import { describeMethod, doseOf, stableStringify } from './keys.js';
import { type Depth, resolveLayerSet } from './layers.js';
import type { Summary } from './stats.js';

/** Damage and residual gap of one (layer, head) target of a head-level sweep, over seeds. */
export interface HeadRow {
  /** The method and dose, prefixed by model, task and protocol when the sweep has several. */
  context: string;
  layer: number;
  head: number;
  seeds: number[];
  damage: Summary;
  residualGap: Summary;
  counts: StatusCounts;
}

type Corruption = NonNullable<CellConfig['corruption']>;

/** The one head a selector names, or null (none, several, or a selector that needs the head count). */
function singleHead(selector: Corruption['targets']['heads']): number | null {
  const list = Array.isArray(selector) ? selector : selector === undefined ? [] : [selector];
  if (list.length !== 1) return null;
  const s = list[0];
  if (typeof s === 'number') return s;
  return typeof s === 'string' && /^\s*\d+\s*$/.test(s) ? Number(s) : null;
}

export function headRows(groups: readonly GroupSummary[], depths: Map<string, Depth | null>): HeadRow[] {
  const several = (f: (g: GroupSummary) => string) => new Set(groups.map(f)).size > 1;
  const prefix = [several((g) => g.model), several((g) => g.task), several((g) => g.protocol)];
  const rows: (HeadRow & { key: string })[] = [];
  for (const g of groups) {
    const c = g.config.corruption;
    if (!c) continue;
    const head = singleHead(c.targets.heads);
    if (head === null) continue;
    const layers = resolveLayerSet(c.targets.layers ?? 'all', depths.get(g.model)?.layers ?? null);
    if (layers?.length !== 1) continue;
    const dose = doseOf(c);
    const doseText = dose.name === 'level' ? ` ${dose.value}` : dose.value !== 1 ? ` fraction ${dose.value}` : '';
    const { heads: _heads, ...others } = c.targets;
    const method = `${describeMethod({ ...c, targets: others })}${doseText}`;
    const parts = [prefix[0] ? g.model : '', prefix[1] ? g.task : '', prefix[2] ? g.protocol : '', method];
    const { seed: _seed, ...rest } = g.config;
    const targets = { ...c.targets, layers: undefined, heads: undefined };
    rows.push({
      key: stableStringify({ ...rest, corruption: { ...c, label: undefined, targets } }),
      context: parts.filter(Boolean).join(' / '),
      layer: layers[0] as number,
      head,
      seeds: g.seeds,
      damage: g.damage,
      residualGap: g.residualGap,
      counts: g.counts,
    });
  }
  // One grid per context: configurations that describe alike but differ are numbered apart.
  const byLabel = new Map<string, string[]>();
  for (const r of rows) {
    const keys = byLabel.get(r.context) ?? [];
    if (!keys.includes(r.key)) keys.push(r.key);
    byLabel.set(r.context, keys);
  }
  return rows
    .map(({ key, ...r }) => {
      const n = (byLabel.get(r.context) as string[]).indexOf(key);
      return n > 0 ? { ...r, context: `${r.context} #${n + 1}` } : r;
    })
    .sort((a, b) => a.context.localeCompare(b.context) || a.layer - b.layer || a.head - b.head);
}
