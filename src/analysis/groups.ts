/**
 * Per condition (all seeds of one configuration): the quantities' means and bootstrap intervals over the
 * seeds whose cell is done, and the count of every other state. Diverged, failed, running and pending
 * cells are counted and shown, never averaged in: a condition with any of them is marked incomplete.
 */
import { conditionName } from '../sweep/expand.js';
import type { CellConfig, Protocol } from '../sweep/types.js';
import { conditionKey } from './keys.js';
import type { CellStatus } from './load.js';
import type { CellMeasures } from './quantities.js';
import { type BootstrapOptions, bootstrapInterval, deriveSeed, type Interval, type Summary, summarize } from './stats.js';

export type StatusCounts = Record<CellStatus, number>;

export const emptyCounts = (): StatusCounts => ({ done: 0, diverged: 0, failed: 0, running: 0, pending: 0 });

export interface CurveSummary {
  epoch: number;
  summary: Summary;
}

export interface GroupSummary {
  key: string;
  /** Unique within an analysis: the corruption label (or "clean"), prefixed by model/task/protocol when the sweep has several. */
  label: string;
  model: string;
  task: string;
  protocol: Protocol;
  metric: string | null;
  config: CellConfig;
  counts: StatusCounts;
  /** Seeds with a done cell whose quantities could be computed. */
  seeds: number[];
  /** Every cell done and measured. */
  complete: boolean;
  cleanScore: Summary;
  damage: Summary;
  recovered: Summary;
  /** finetuned protocol: the control's final score (empty under pretrained). */
  controlScore: Summary;
  /** pretrained: clean final - final; finetuned: control score - final. */
  residualGap: Summary;
  /** finetuned protocol: beforeCorruption - final, no control (empty under pretrained). */
  gapToTaskModelBeforeHealing: Summary;
  /**
   * The healed share: (mean damage - mean gap) / mean damage over the same seeds, with a bootstrap over seeds.
   * Only where there is damage to heal: positive damage whose interval excludes 0 (and at least minDamage),
   * and a residual gap not below 0 (a corruption that improved the model is a finding of its own, `finding`,
   * not more than 100% healed). Otherwise null, and `reason` says why.
   */
  recoveryRatio: { value: number | null; ci: Interval | null; n: number; reason: string | null };
  /** What the residual gap's interval says (healingFinding). */
  finding: HealingFinding;
  curve: CurveSummary[];
}

const values = (cells: readonly CellMeasures[], f: (c: CellMeasures) => number | null) =>
  cells.map(f).filter((v): v is number => v !== null);

function curveOf(cells: readonly CellMeasures[], options: BootstrapOptions): CurveSummary[] {
  const byEpoch = new Map<number, number[]>();
  for (const c of cells) for (const p of c.curve) byEpoch.set(p.epoch, [...(byEpoch.get(p.epoch) ?? []), p.value]);
  return [...byEpoch.entries()].sort(([a], [b]) => a - b).map(([epoch, v]) => ({ epoch, summary: summarize(v, options) }));
}

/**
 * What a condition's residual gap says: its interval above 0 (not fully healed), below 0 (the corrupted model
 * ended better than its reference: the corruption improved it), or neither; 'none' without a gap.
 */
export type HealingFinding = 'not fully healed' | 'better than reference' | 'gap not distinguishable from 0' | 'no residual gap';

export function healingFinding(gap: Summary): HealingFinding {
  if (gap.mean === null) return 'no residual gap';
  if (gap.ci && gap.ci.low > 0) return 'not fully healed';
  if (gap.ci && gap.ci.high < 0) return 'better than reference';
  return 'gap not distinguishable from 0';
}

/** Why a condition has no healed share, or null when it has one (GroupSummary.recoveryRatio). */
export function noShareReason(damage: Summary, gap: Summary, minDamage: number): string | null {
  if (damage.mean === null || gap.mean === null) return 'no damage or residual gap measured';
  if (damage.mean <= 0 || (damage.ci !== null && damage.ci.high < 0)) return 'no damage to heal';
  if (damage.ci === null) return 'damage not distinguishable from 0 (one seed: no interval)';
  if (damage.ci.low <= 0) return 'damage not distinguishable from 0';
  if (damage.mean < minDamage) return `damage below the minimum (${minDamage})`;
  if (healingFinding(gap) === 'better than reference') return 'better than the reference: the corruption improved the model';
  return null;
}

function ratioOf(
  cells: readonly CellMeasures[],
  minDamage: number,
  options: BootstrapOptions,
  reason: string | null,
): GroupSummary['recoveryRatio'] {
  const pairs = cells.filter((c) => c.damage !== null && c.residualGap !== null) as (CellMeasures & {
    damage: number;
    residualGap: number;
  })[];
  // The means of damage and gap over a resample of seeds (summed in draw order, as mean() sums).
  const ratio = (sample: readonly number[]) => {
    let d = 0;
    let g = 0;
    for (const i of sample) {
      d += (pairs[i] as { damage: number }).damage;
      g += (pairs[i] as { residualGap: number }).residualGap;
    }
    d /= sample.length;
    g /= sample.length;
    return Math.abs(d) >= minDamage ? (d - g) / d : Number.NaN;
  };
  const all = pairs.map((_, i) => i);
  const value = pairs.length && reason === null ? ratio(all) : Number.NaN;
  if (!Number.isFinite(value)) return { value: null, ci: null, n: pairs.length, reason: reason ?? 'no damage to heal' };
  const ci = bootstrapInterval(all, options, ratio);
  return { value, ci: ci && Number.isFinite(ci.low) && Number.isFinite(ci.high) ? ci : null, n: pairs.length, reason: null };
}

export interface GroupOptions extends BootstrapOptions {
  minDamage?: number;
}

export function summarizeGroups(measures: readonly CellMeasures[], options: GroupOptions = {}): GroupSummary[] {
  const byKey = new Map<string, CellMeasures[]>();
  for (const m of measures) {
    const key = conditionKey(m.config);
    const cells = byKey.get(key);
    if (cells) cells.push(m);
    else byKey.set(key, [m]);
  }
  const several = (f: (c: CellConfig) => string) => new Set(measures.map((m) => f(m.config))).size > 1;
  const prefix = [several((c) => c.model.name), several((c) => c.task.name), several((c) => c.protocol)];
  const groups: GroupSummary[] = [];
  for (const [key, cells] of byKey) {
    const config = (cells[0] as CellMeasures).config;
    const counts = emptyCounts();
    for (const c of cells) counts[c.status]++;
    const measured = cells.filter((c) => c.status === 'done' && c.recovered !== null);
    const bootstrap = { ...options, seed: deriveSeed(options.seed ?? 0, key) };
    const summaryOf = (pick: Parameters<typeof values>[1]) => summarize(values(measured, pick), bootstrap);
    const damage = summaryOf((c) => c.damage);
    const residualGap = summaryOf((c) => c.residualGap);
    const minDamage = options.minDamage ?? 0.01;
    const parts = [prefix[0] ? config.model.name : '', prefix[1] ? config.task.name : '', prefix[2] ? config.protocol : ''].filter(Boolean);
    const label = [...parts, conditionName(config)].join(' / ');
    groups.push({
      key,
      label,
      model: config.model.name,
      task: config.task.name,
      protocol: config.protocol,
      metric: cells.find((c) => c.metric)?.metric ?? null,
      config,
      counts,
      seeds: [...new Set(measured.map((c) => c.seed))].sort((a, b) => a - b),
      complete: measured.length === cells.length,
      cleanScore: summaryOf((c) => c.cleanScore),
      damage,
      recovered: summaryOf((c) => c.recovered),
      controlScore: summaryOf((c) => c.controlScore),
      residualGap,
      gapToTaskModelBeforeHealing: summaryOf((c) => c.gapToTaskModelBeforeHealing),
      recoveryRatio: ratioOf(measured, minDamage, bootstrap, noShareReason(damage, residualGap, minDamage)),
      finding: healingFinding(residualGap),
      curve: curveOf(measured, bootstrap),
    });
  }
  // Labels must be unique: conditions that differ in something the label does not show get #2, #3 ...
  const seen = new Map<string, number>();
  for (const g of groups) {
    const n = (seen.get(g.label) ?? 0) + 1;
    seen.set(g.label, n);
    if (n > 1) g.label = `${g.label} #${n}`;
  }
  // The clean baseline, then its control, then the corruptions.
  const rank = (c: CellConfig) => (c.corruption !== null ? 2 : c.control ? 1 : 0);
  return groups.sort((a, b) => rank(a.config) - rank(b.config) || a.label.localeCompare(b.label));
}
