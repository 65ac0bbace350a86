/**
 * Per-cell quantities: how much a corruption damaged the model, how much fine-tuning gave back.
 *
 * pretrained protocol (corrupt the pretrained model, then fine-tune it):
 *   clean score     = the clean cell's final (fine-tuned) score
 *   damage          = clean cell's linear-probe score - corrupted cell's linear-probe score (before fine-tuning)
 *   recovered score = the corrupted cell's final score
 *   residual gap    = clean final - corrupted final
 * finetuned protocol (corrupt a fine-tuned task model, then heal it by further fine-tuning):
 *   clean score     = beforeCorruption (the task model's score)
 *   damage          = beforeCorruption - afterCorruption
 *   recovered score = final
 *   control score   = the control's final score: the same task model healed the same way, uncorrupted
 *   residual gap    = control score - final
 *   gap to the task model before healing = beforeCorruption - final (no control: kept under this name only)
 * Healing is more training: when the task model was not converged, it gains from healing epochs whether
 * corrupted or not, and beforeCorruption - final credits that gain to recovery (it went negative, "better
 * than clean", in a user's sweep). The control takes the gain out. A finetuned cell whose control is
 * missing (folders written before controls existed) or not done has no residual gap and no ratio, and
 * says why: never the uncontrolled gap in its place.
 * recovery ratio = (damage - residual gap) / damage: the share of the damage that fine-tuning healed;
 * undefined when damage < minDamage (nothing to heal: negative damage, or noise over noise). Under the
 * pretrained protocol damage is measured with a probe and the gap after fine-tuning, so the ratio
 * compares two scales; it is 1 when the gap closes and 0 when fine-tuning closes nothing.
 * All scores are the result's primary metric. Only `done` cells have quantities; a diverged or failed
 * cell (or one whose clean baseline is not done) has none, and says why.
 */
import { conditionName } from '../sweep/expand.js';
import type { CellConfig, CellResult, MetricValues } from '../sweep/types.js';
import { baselineKey, controlKey } from './keys.js';
import type { CellStatus, SweepCell } from './load.js';

export interface CurvePoint {
  epoch: number;
  value: number;
}

export interface CellMeasures {
  id: string;
  status: CellStatus;
  config: CellConfig;
  seed: number;
  /** corruption label, or "clean". */
  label: string;
  metric: string | null;
  baselineId: string | null;
  /** Why quantities are missing (diverged, failed, in flight, baseline missing ...). */
  note: string | null;
  /** A digest of the result's input fingerprints (src/sweep/fingerprint.ts), set by analyze(). */
  inputs?: string | null;
  cleanScore: number | null;
  /** The score before fine-tuning: probe of the clean model (pretrained) or beforeCorruption (finetuned). */
  cleanBefore: number | null;
  /** The corrupted model's score before fine-tuning: its probe (pretrained) or afterCorruption (finetuned). */
  corruptedBefore: number | null;
  damage: number | null;
  recovered: number | null;
  /** finetuned protocol: the control's final score (the task model healed the same way, uncorrupted). */
  controlScore: number | null;
  /** pretrained: clean final - final; finetuned: control score - final. */
  residualGap: number | null;
  /** finetuned protocol: beforeCorruption - final, the uncontrolled gap (healing's own gain counts as recovery). */
  gapToTaskModelBeforeHealing: number | null;
  recoveryRatio: number | null;
  /** Primary metric after each epoch of (re)training; finetuned cells start at epoch 0 = right after corruption. */
  curve: CurvePoint[];
}

export interface MeasureOptions {
  /** Below this |damage| the recovery ratio is undefined (default 0.01, one point of accuracy). */
  minDamage?: number;
}

const pick = (values: MetricValues | undefined, metric: string): number | null => {
  const v = values?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

function curveOf(result: CellResult, metric: string): CurvePoint[] {
  const points: CurvePoint[] = [];
  const after = result.config.protocol === 'finetuned' ? pick(result.scores.afterCorruption, metric) : null;
  if (after !== null) points.push({ epoch: 0, value: after });
  for (const e of result.scores.epochs) {
    const v = pick(e.metrics, metric);
    if (v !== null) points.push({ epoch: e.epoch, value: v });
  }
  return points;
}

const empty = (cell: SweepCell, note: string | null) => ({
  id: cell.id,
  status: cell.status,
  config: cell.config,
  seed: cell.config.seed,
  label: conditionName(cell.config),
  metric: cell.result?.primaryMetric ?? null,
  baselineId: cell.result?.baselineId ?? null,
  note,
  cleanScore: null,
  cleanBefore: null,
  corruptedBefore: null,
  damage: null,
  recovered: null,
  controlScore: null,
  residualGap: null,
  gapToTaskModelBeforeHealing: null,
  recoveryRatio: null,
  curve: cell.result?.primaryMetric ? curveOf(cell.result, cell.result.primaryMetric) : [],
});

const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/** The control a finetuned corrupted cell is measured against: its final score, or why there is none. */
function controlScoreOf(control: SweepCell | undefined, metric: string): { score: number | null; note: string | null } {
  if (!control) return { score: null, note: 'no control cell (a sweep from before controls: run it again to add them)' };
  if (control.status !== 'done' || !control.result) return { score: null, note: `control ${control.status}` };
  const score = pick(control.result.scores.final, metric);
  return score === null ? { score, note: `control has no final ${metric}` } : { score, note: null };
}

/**
 * The quantities of every cell, each corrupted cell paired with its clean baseline (same config, same seed)
 * and, under the finetuned protocol, with its control.
 */
export function measureCells(cells: readonly SweepCell[], options: MeasureOptions = {}): CellMeasures[] {
  const minDamage = options.minDamage ?? 0.01;
  const byId = new Map(cells.map((c) => [c.id, c]));
  const cleanByKey = new Map<string, SweepCell>();
  const controlByKey = new Map<string, SweepCell>();
  for (const c of cells) {
    if (c.config.corruption !== null) continue;
    if (c.config.control) controlByKey.set(controlKey(c.config), c);
    else cleanByKey.set(baselineKey(c.config), c);
  }

  return cells.map((cell): CellMeasures => {
    const result = cell.result;
    if (cell.status === 'running') return empty(cell, 'in flight');
    if (cell.status === 'pending') return empty(cell, 'not started');
    if (!result) return empty(cell, 'no result');
    if (cell.status !== 'done') {
      const where = result.error?.step !== undefined ? ` at step ${result.error.step}` : '';
      return { ...empty(cell, `${cell.status}${where}${result.error ? `: ${result.error.code}` : ''}`) };
    }
    const metric = result.primaryMetric;
    const final = pick(result.scores.final, metric);
    if (final === null) return empty(cell, `no final ${metric}`);
    const finetuned = cell.config.protocol === 'finetuned';
    let cleanScore: number | null;
    let cleanBefore: number | null;
    let corruptedBefore: number | null;
    let note: string | null = null;
    if (cell.config.corruption === null) {
      cleanScore = finetuned ? (pick(result.scores.beforeCorruption, metric) ?? final) : final;
      cleanBefore = finetuned ? cleanScore : pick(result.scores.probe, metric);
      corruptedBefore = cleanBefore;
    } else if (finetuned && pick(result.scores.beforeCorruption, metric) !== null) {
      cleanScore = pick(result.scores.beforeCorruption, metric);
      cleanBefore = cleanScore;
      corruptedBefore = pick(result.scores.afterCorruption, metric);
      if (corruptedBefore === null) note = `no afterCorruption ${metric}`;
    } else {
      const baseline = (result.baselineId ? byId.get(result.baselineId) : undefined) ?? cleanByKey.get(baselineKey(cell.config));
      if (!baseline) return empty(cell, 'clean baseline missing');
      if (baseline.status !== 'done' || !baseline.result) return empty(cell, `clean baseline ${baseline.status}`);
      const b = baseline.result;
      cleanScore = finetuned ? (pick(b.scores.beforeCorruption, metric) ?? pick(b.scores.final, metric)) : pick(b.scores.final, metric);
      cleanBefore = finetuned ? cleanScore : pick(b.scores.probe, metric);
      corruptedBefore = finetuned ? pick(result.scores.afterCorruption, metric) : pick(result.scores.probe, metric);
      if (cleanScore === null) return empty(cell, `clean baseline has no ${metric}`);
      if (corruptedBefore === null || cleanBefore === null) note = finetuned ? `no afterCorruption ${metric}` : `no probe ${metric}`;
    }
    const damage = difference(cleanBefore, corruptedBefore);
    let controlScore: number | null = null;
    let residualGap: number | null;
    let gapToTaskModelBeforeHealing: number | null = null;
    if (!finetuned) residualGap = difference(cleanScore, final);
    else {
      gapToTaskModelBeforeHealing = difference(cleanScore, final);
      if (cell.config.control) controlScore = final;
      else if (cell.config.corruption !== null) {
        const control = controlScoreOf(controlByKey.get(controlKey(cell.config)), metric);
        controlScore = control.score;
        note = note ?? control.note;
      }
      // The clean baseline was not healed: nothing to compare with the healed control.
      residualGap = cell.config.corruption !== null || cell.config.control ? difference(controlScore, final) : null;
    }
    // A share of damage needs damage: none where the corruption did not hurt (damage below minDamage, or negative).
    const recoveryRatio = damage !== null && residualGap !== null && damage >= minDamage ? (damage - residualGap) / damage : null;
    return {
      ...empty(cell, note),
      cleanScore,
      cleanBefore,
      corruptedBefore,
      damage,
      recovered: final,
      controlScore,
      residualGap,
      gapToTaskModelBeforeHealing,
      recoveryRatio,
    };
  });
}
