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
import { protocolsOf } from './protocol-note.js';
import type { Cell } from './table.js';

export type { Figure } from './figure-parts.js';

function curves(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  const settings = [...new Set(a.groups.map((g) => `${g.model} / ${g.task} / ${g.protocol}`))];
  for (const setting of settings) {
    const groups = a.groups.filter((g) => `${g.model} / ${g.task} / ${g.protocol}` === setting);
    const methods = [...new Set(groups.flatMap((g) => (g.config.corruption ? [g.config.corruption.method] : [])))];
    for (const method of methods.length ? methods : ['clean']) {
      const chosen = groups.filter((g) => !g.config.corruption || g.config.corruption.method === method);
      const rows = chosen.flatMap((g) => {
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
        caption: `Primary metric after each epoch of (re)training, mean over done seeds with a ${Math.round(a.options.level * 100)}% bootstrap band; the clean model for reference${protocolsOf(a).includes('finetuned') ? ' (finetuned protocol: and its control, the task model healed alike with no corruption, which the residual gap is measured against)' : ''}. Diverged and failed cells are excluded and counted in the legend.`,
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
    const series = a.doseResponse.filter((s) => s.context === context);
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
      caption: `Score against ${doseName}${logScale ? ' (log scale)' : ''} before and after fine-tuning, mean over done seeds with bootstrap intervals; lines: fitted logistic curves anchored at the clean score (dashed, the clean model at dose 0${protocolsOf(a).includes('finetuned') ? '; finetuned protocol, after fine-tuning: the control, healed alike' : ''}). The half-loss doses are in the fits table.`,
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

/** Every figure of an analysis, in report order. */
export function buildFigures(a: Analysis): Figure[] {
  const plotted = (f: Figure) => f.data.rows.some((r) => typeof r.mean === 'number' && Number.isFinite(r.mean));
  return [
    // Heatmaps show the grid of a sweep in progress (cells "no data" with what is excluded), so they stay.
    ...heatmapsFigures(a),
    ...headFigures(a),
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
}
