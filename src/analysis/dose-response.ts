/**
 * Score against dose (corruption level, or the share of entries corrupted) for each method and layer set,
 * before fine-tuning (probe, or right after corruption) and after it, with the clean score at dose 0 and a
 * fitted monotone logistic curve (fit.ts) whose midpoint is the dose at which half the performance is lost.
 */
import { type AttributionContext, seedValues } from './contexts.js';
import { curvePoints, fitLogistic, type LogisticFit } from './fit.js';
import type { StatusCounts } from './groups.js';
import type { CellMeasures } from './quantities.js';
import { type BootstrapOptions, deriveSeed, mean, type Summary, summarize } from './stats.js';

/** When a dose-response score was taken: before fine-tuning (probe, or right after corruption) or after it. */
export type Stage = 'before fine-tuning' | 'after fine-tuning';

/** Score against dose for one method and layer set at one stage, with the clean score at dose 0 and a fitted logistic curve. */
export interface DoseResponseSeries {
  context: string;
  doseName: 'level' | 'fraction';
  layers: string;
  stage: Stage;
  /** Whether the curve is fitted in log(dose). */
  logScale: boolean;
  /** The clean model's score (dose 0), over the seeds of this context. */
  clean: Summary;
  points: { dose: number; score: Summary; counts: StatusCounts }[];
  fit: LogisticFit | null;
  /** Why there is no fit. */
  fitNote: string | null;
  /** The fitted curve, for plotting. */
  curve: { dose: number; score: number }[];
}

const STAGES: [Stage, (c: CellMeasures) => number | null, 'before' | 'score'][] = [
  ['before fine-tuning', (c) => c.corruptedBefore, 'before'],
  ['after fine-tuning', (c) => c.recovered, 'score'],
];

export function doseResponse(contexts: readonly AttributionContext[], options: BootstrapOptions = {}): DoseResponseSeries[] {
  const series: DoseResponseSeries[] = [];
  for (const context of contexts) {
    if (context.doses.length < 2) continue;
    const names = new Set(context.doses.flatMap((d) => [...d.sets.keys()]));
    for (const name of names) {
      const doses = context.doses.filter((d) => d.sets.has(name));
      if (doses.length < 2) continue;
      for (const [stage, f, cleanField] of STAGES) {
        const seed = deriveSeed(options.seed ?? 0, `${context.key}|${name}|${stage}`);
        const cleanValues = [...context.clean.values()].map((c) => c[cleanField]).filter((v): v is number => v !== null);
        const clean = summarize(cleanValues, { ...options, seed });
        const raw: { dose: number; score: number }[] = [];
        const points = doses.map((d) => {
          const set = d.sets.get(name);
          const values = [...seedValues(set, f).values()];
          for (const v of values) raw.push({ dose: d.dose, score: v });
          return { dose: d.dose, score: summarize(values, { ...options, seed }), counts: set?.counts as StatusCounts };
        });
        if (raw.length === 0) continue;
        const logScale = context.doseName === 'level' && doses.every((d) => d.dose > 0);
        let fit: LogisticFit | null = null;
        let fitNote: string | null = null;
        if (!context.monotone) fitNote = `${context.method}: the level is not a strength (1 is clean), so no monotone curve is fitted`;
        else if (cleanValues.length === 0) fitNote = 'no clean score to anchor the curve';
        else {
          fit = fitLogistic(raw, mean(cleanValues), logScale);
          if (!fit) fitNote = 'fewer than three doses with results';
        }
        const positive = doses.map((d) => d.dose).filter((d) => !logScale || d > 0);
        series.push({
          context: context.label,
          doseName: context.doseName,
          layers: name,
          stage,
          logScale,
          clean,
          points,
          fit,
          fitNote,
          curve: fit ? curvePoints(fit, Math.min(...positive), Math.max(...positive)) : [],
        });
      }
    }
  }
  return series;
}
