/**
 * The figures of a report as Vega-Lite specs, each with the table of exactly the data it plots (written
 * as CSV next to it): recovery curves and dose-response here, layer attribution in figures-layers.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Analysis } from '../analysis/analyze.js';
import { type Figure, interval, num, slug, text } from './figure-parts.js';
import { headFigures } from './figures-heads.js';
import { bottomTopFigures, heatmapsFigures, interactionsFigures, sensitivityFigures, shapleyFigures } from './figures-layers.js';
import { measurementFigures } from './figures-measure.js';
import { summaryFigures } from './figures-summary.js';
import { protocolsOf } from './protocol-note.js';
import { MAX_CURVES, MAX_DOSE_SERIES, MAX_FIGURES_PER_KIND, spread } from './scale.js';
import type { Cell } from './table.js';

export type { Figure } from './figure-parts.js';

/** Per epoch, the mean of the conditions' mean scores and their 10th-90th percentile band (n: conditions). */
function spreadRows(groups: Analysis['groups']): Record<string, Cell>[] {
  const byEpoch = new Map<number, number[]>();
  for (const g of groups) {
    for (const p of g.curve) {
      if (p.summary.mean === null) continue;
      const list = byEpoch.get(p.epoch) ?? [];
      list.push(p.summary.mean);
      byEpoch.set(p.epoch, list);
    }
  }
  return [...byEpoch]
    .sort(([x], [y]) => x - y)
    .map(([epoch, means]) => {
      const s = spread(means) as NonNullable<ReturnType<typeof spread>>;
      return {
        condition: `mean of ${groups.length} conditions`,
        epoch,
        mean: s.mean,
        low: s.low,
        high: s.high,
        n: means.length,
      };
    });
}

function curves(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  const settings = [...new Set(a.groups.map((g) => `${g.model} / ${g.task} / ${g.protocol}`))];
  for (const setting of settings) {
    const groups = a.groups.filter((g) => `${g.model} / ${g.task} / ${g.protocol}` === setting);
    const methods = [...new Set(groups.flatMap((g) => (g.config.corruption ? [g.config.corruption.method] : [])))];
    for (const method of methods.length ? methods : ['clean']) {
      const chosen = groups.filter((g) => !g.config.corruption || g.config.corruption.method === method);
      const corrupted = chosen.filter((g) => g.config.corruption);
      // Thousands of conditions (an exact Shapley design): their spread per epoch instead of a line each.
      const many = corrupted.length > MAX_CURVES;
      const lines = many ? chosen.filter((g) => !g.config.corruption) : chosen;
      const rows = lines.flatMap((g) => {
        const excluded = g.counts.diverged + g.counts.failed + g.counts.running + g.counts.pending;
        const name = `${g.label}${excluded ? ` (${excluded} excluded)` : ''}`;
        return g.curve.map(
          (p): Record<string, Cell> => ({
            condition: name,
            epoch: p.epoch,
            mean: p.summary.mean,
            low: p.summary.ci?.low ?? null,
            high: p.summary.ci?.high ?? null,
            n: p.summary.n,
          }),
        );
      });
      if (many) rows.push(...spreadRows(corrupted));
      if (rows.length === 0) continue;
      const id = `curves-${slug(settings.length > 1 ? `${setting}-${method}` : method)}`;
      const x = { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } };
      const conditions = new Set(rows.map((r) => r.condition)).size;
      const color = {
        field: 'condition',
        type: 'nominal',
        legend: { labelLimit: 260, symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 },
        scale: { scheme: conditions > 10 ? 'category20' : 'tableau10' },
      };
      figures.push({
        id,
        kind: 'curves',
        title: `Recovery curves: ${method}${settings.length > 1 ? ` (${setting})` : ''}`,
        caption: `Primary metric after each epoch of (re)training, mean over done seeds with a ${Math.round(a.options.level * 100)}% bootstrap band; the clean model for reference${protocolsOf(a).includes('finetuned') ? ' (finetuned protocol: and its control, the task model healed alike with no corruption, which the residual gap is measured against)' : ''}. Diverged and failed cells are excluded and counted in the legend.${many ? ` The ${corrupted.length} ${method} conditions are one line, the mean of their means per epoch, and a band from their 10th to 90th percentile; each condition's curve is in csv/curves.csv.` : ''}`,
        data: {
          id,
          title: `Recovery curves: ${method}`,
          columns: [text('condition'), { key: 'epoch', title: 'epoch', kind: 'int' }, ...interval],
          rows,
        },
        spec: {
          data: { values: rows },
          width: 460,
          height: 280,
          layer: [
            {
              transform: [{ filter: 'isValid(datum.low)' }],
              mark: { type: 'area', opacity: 0.12 },
              encoding: {
                x,
                y: { field: 'low', type: 'quantitative' },
                y2: { field: 'high' },
                color,
              },
            },
            {
              mark: { type: 'line', point: true },
              encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'score', scale: { zero: false } }, color },
            },
          ],
        } as TopLevelSpec,
      });
    }
  }
  return figures;
}

function doseResponse(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const context of [...new Set(a.doseResponse.map((s) => s.context))]) {
    const all = a.doseResponse.filter((s) => s.context === context);
    // Many layer sets: those measured at the most doses (then the fewest layers), up to MAX_DOSE_SERIES.
    const names = [...new Set(all.map((s) => s.layers))];
    const kept = new Set(
      names
        .map((name) => ({ name, doses: Math.max(...all.filter((s) => s.layers === name).map((s) => s.points.length)) }))
        .sort((x, y) => y.doses - x.doses || x.name.split(',').length - y.name.split(',').length)
        .slice(0, MAX_DOSE_SERIES)
        .map((x) => x.name),
    );
    const series = all.filter((s) => kept.has(s.layers));
    const logScale = series.every((s) => s.logScale);
    const rows: Record<string, Cell>[] = [];
    for (const stage of new Set(series.map((s) => s.stage))) {
      const clean = (series.find((s) => s.stage === stage) as (typeof series)[number]).clean;
      rows.push({
        type: 'clean',
        layers: null,
        stage,
        dose: 0,
        mean: clean.mean,
        low: clean.ci?.low ?? null,
        high: clean.ci?.high ?? null,
        n: clean.n,
      });
    }
    for (const s of series) {
      for (const p of s.points)
        rows.push({
          type: 'point',
          layers: s.layers,
          stage: s.stage,
          dose: p.dose,
          mean: p.score.mean,
          low: p.score.ci?.low ?? null,
          high: p.score.ci?.high ?? null,
          n: p.score.n,
        });
      for (const c of s.curve)
        rows.push({ type: 'fit', layers: s.layers, stage: s.stage, dose: c.dose, mean: c.score, low: null, high: null, n: null });
    }
    const id = `dose-response-${slug(context)}`;
    const doseName = series[0]?.doseName ?? 'level';
    const x = { field: 'dose', type: 'quantitative', title: doseName, scale: logScale ? { type: 'log' } : {} };
    const color = { field: 'layers', type: 'nominal', title: 'layers' };
    const only = (t: string) => [{ filter: `datum.type === '${t}' && isValid(datum.mean)` }];
    figures.push({
      id,
      kind: 'dose-response',
      title: `Dose-response: ${context}`,
      caption: `Score against ${doseName}${logScale ? ' (log scale)' : ''} before and after fine-tuning, mean over done seeds with bootstrap intervals; lines: fitted logistic curves anchored at the clean score (dashed, the clean model at dose 0${protocolsOf(a).includes('finetuned') ? '; finetuned protocol, after fine-tuning: the control, healed alike' : ''}). The half-loss doses are in the fits table.${kept.size < names.length ? ` ${kept.size} of ${names.length} layer sets shown (those measured at the most doses); all in csv/dose-response.csv.` : ''}`,
      data: { id, title: context, columns: [text('type'), text('layers'), text('stage'), num('dose', doseName), ...interval], rows },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'stage', type: 'nominal', title: null, sort: ['before fine-tuning', 'after fine-tuning'] } },
        spec: {
          width: 260,
          height: 220,
          layer: [
            {
              transform: only('clean'),
              mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
              encoding: { y: { field: 'mean', type: 'quantitative', title: 'score' } },
            },
            {
              transform: only('fit'),
              mark: 'line',
              encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'score', scale: { zero: false } }, color },
            },
            {
              transform: only('point'),
              mark: { type: 'point', filled: true, size: 40 },
              encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'score' }, color },
            },
            {
              transform: [{ filter: "datum.type === 'point' && isValid(datum.low)" }],
              mark: { type: 'errorbar', ticks: true, size: 8 },
              encoding: { x, y: { field: 'low', type: 'quantitative', title: 'score' }, y2: { field: 'high' }, color },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}

/** Every figure of an analysis, in report order (at most MAX_FIGURES_PER_KIND of a kind: figureSet). */
export function buildFigures(a: Analysis): Figure[] {
  return figureSet(a).figures;
}

/** Where each kind of figure's full data is, for the note about figures left out. */
const DATA_OF: Record<Figure['kind'], string> = {
  heatmap: 'layer-dose',
  sensitivity: 'layer-dose',
  'by-k': 'layer-dose',
  extremes: 'layer-dose',
  distribution: 'layer-dose',
  curves: 'curves',
  'bottom-top': 'bottom-top',
  shapley: 'shapley',
  interactions: 'interactions',
  'dose-response': 'dose-response',
  cka: 'cka',
  weights: 'weight-distance',
  mlm: 'mlm-knowledge',
};

/**
 * The figures, and the kinds of which some were left out: beyond MAX_FIGURES_PER_KIND figures of a kind
 * (one per method context: a heads sweep makes a context per head), those with the most data rows stay.
 */
export function figureSet(a: Analysis): {
  figures: Figure[];
  omitted: { kind: Figure['kind']; shown: number; total: number; table: string }[];
} {
  const plotted = (f: Figure) => f.data.rows.some((r) => [r.mean, r.count].some((v) => typeof v === 'number' && Number.isFinite(v)));
  const all = [
    // Heatmaps show the grid of a sweep in progress (cells "no data" with what is excluded), so they stay.
    ...heatmapsFigures(a),
    ...headFigures(a),
    ...summaryFigures(a).filter(plotted),
    ...[
      ...curves(a),
      ...sensitivityFigures(a),
      ...bottomTopFigures(a),
      ...shapleyFigures(a),
      ...interactionsFigures(a),
      ...doseResponse(a),
      ...measurementFigures(a),
    ].filter(plotted),
  ];
  const omitted: { kind: Figure['kind']; shown: number; total: number; table: string }[] = [];
  const keep = new Set<Figure>();
  for (const kind of new Set(all.map((f) => f.kind))) {
    const ofKind = all.filter((f) => f.kind === kind);
    const chosen = [...ofKind].sort((x, y) => y.data.rows.length - x.data.rows.length).slice(0, MAX_FIGURES_PER_KIND);
    for (const f of chosen) keep.add(f);
    if (chosen.length < ofKind.length) omitted.push({ kind, shown: chosen.length, total: ofKind.length, table: DATA_OF[kind] });
  }
  return { figures: all.filter((f) => keep.has(f)), omitted };
}
