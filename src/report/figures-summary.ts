/**
 * Figures for methods with more layer sets than a heatmap can show (scale.ts): an exact Shapley design
 * corrupts all 4,095 subsets of 12 layers. In place of the heatmap, per method context: damage and residual
 * gap by the number of layers corrupted, the most and least harmful layer sets with their intervals, and
 * the distribution over all sets. Shapley values and interactions have their own figures already.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Analysis } from '../analysis/analyze.js';
import type { LayerDoseRow } from '../analysis/layer-table.js';
import { type Figure, interval, num, quantityName, slug, text } from './figure-parts.js';
import { protocolNote } from './protocol-note.js';
import { EXTREMES, MAX_HEATMAP_ROWS, spread } from './scale.js';
import type { Cell } from './table.js';

const QUANTITIES = ['damage', 'residualGap'] as const;

/** Contexts of the layer-dose table with more layer sets than a heatmap shows. */
export function largeContexts(a: Analysis): string[] {
  const sets = new Map<string, Set<string>>();
  for (const r of a.layerDose) {
    const s = sets.get(r.context) ?? new Set<string>();
    s.add(r.layers);
    sets.set(r.context, s);
  }
  return [...sets].filter(([, s]) => s.size > MAX_HEATMAP_ROWS).map(([context]) => context);
}

function byK(a: Analysis, context: string, rows: LayerDoseRow[]): Figure {
  const data: Record<string, Cell>[] = [];
  const groups = new Map<string, { dose: number; k: number; values: Record<(typeof QUANTITIES)[number], number[]> }>();
  for (const r of rows) {
    const key = `${r.dose}|${r.k}`;
    const g = groups.get(key) ?? { dose: r.dose, k: r.k, values: { damage: [], residualGap: [] } };
    for (const q of QUANTITIES) if (r[q].mean !== null) g.values[q].push(r[q].mean as number);
    groups.set(key, g);
  }
  for (const g of [...groups.values()].sort((x, y) => x.dose - y.dose || x.k - y.k)) {
    for (const q of QUANTITIES) {
      const s = spread(g.values[q]);
      data.push({
        k: g.k,
        dose: g.dose,
        quantity: quantityName(q),
        mean: s?.mean ?? null,
        low: s?.low ?? null,
        high: s?.high ?? null,
        n: g.values[q].length,
      });
    }
  }
  const doseName = rows[0]?.doseName ?? 'level';
  const id = `by-k-${slug(context)}`;
  const x = { field: 'k', type: 'ordinal', title: 'layers corrupted (k)' };
  const color = { field: 'dose', type: 'ordinal', title: doseName, scale: { scheme: 'viridis' } };
  return {
    id,
    kind: 'by-k',
    title: `Damage and residual gap by number of corrupted layers: ${context}`,
    caption: `For each number of layers corrupted together, the mean over the layer sets of that size (each set: its mean over done seeds); whiskers: the 10th to 90th percentile across those sets, n: how many sets. ${protocolNote(a)}. The ${new Set(rows.map((r) => r.layers)).size} layer sets one by one are in csv/layer-dose.csv and analysis.json.`,
    data: {
      id,
      title: context,
      columns: [
        { key: 'k', title: 'k', kind: 'int' },
        num('dose', doseName),
        text('quantity'),
        num('mean', 'mean over sets'),
        num('low', '10th percentile'),
        num('high', '90th percentile'),
        { key: 'n', title: 'sets', kind: 'int' },
      ],
      rows: data,
    },
    spec: {
      data: { values: data },
      facet: { column: { field: 'quantity', type: 'nominal', title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 260,
        height: 200,
        layer: [
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'score lost' }, color } },
          {
            transform: [{ filter: 'isValid(datum.low)' }],
            mark: { type: 'errorbar', ticks: true, size: 6 },
            encoding: { x, y: { field: 'low', type: 'quantitative', title: 'score lost' }, y2: { field: 'high' }, color },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

function extremes(a: Analysis, context: string, dose: number, rows: LayerDoseRow[]): Figure | null {
  const ranked = rows.filter((r) => r.damage.mean !== null).sort((x, y) => (y.damage.mean as number) - (x.damage.mean as number));
  const n = Math.min(EXTREMES, Math.floor(ranked.length / 2));
  if (n === 0) return null;
  const chosen = [
    ...ranked.slice(0, n).map((r) => ({ r, side: 'most harmful' })),
    ...ranked.slice(ranked.length - n).map((r) => ({ r, side: 'least harmful' })),
  ];
  const data = chosen.flatMap(({ r, side }, order) =>
    QUANTITIES.map(
      (q): Record<string, Cell> => ({
        layers: r.layers,
        order,
        k: r.k,
        side,
        quantity: quantityName(q),
        mean: r[q].mean,
        low: r[q].ci?.low ?? null,
        high: r[q].ci?.high ?? null,
        n: r[q].n,
      }),
    ),
  );
  const doseName = rows[0]?.doseName ?? 'level';
  const id = `extremes-${slug(context)}-${slug(String(dose))}`;
  const y = { field: 'layers', type: 'ordinal', title: 'corrupted layers', sort: { field: 'order', op: 'min' }, axis: { labelLimit: 320 } };
  const color = {
    field: 'side',
    type: 'nominal',
    title: null,
    scale: { domain: ['most harmful', 'least harmful'], range: ['#d62728', '#1f77b4'] },
  };
  return {
    id,
    kind: 'extremes',
    title: `The ${n} most and ${n} least damaging layer sets: ${context}, ${doseName} ${dose}`,
    caption: `Of ${ranked.length} layer sets, ranked by damage (mean over done seeds); points: means, whiskers: bootstrap intervals over seeds; the residual gap of the same sets beside (${protocolNote(a)}). Every set is in csv/layer-dose.csv.`,
    data: {
      id,
      title: `${context} ${doseName} ${dose}`,
      columns: [text('layers'), { key: 'k', title: 'k', kind: 'int' }, text('side'), text('quantity'), ...interval],
      rows: data,
    },
    spec: {
      data: { values: data },
      facet: { column: { field: 'quantity', type: 'nominal', title: null } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 260,
        height: { step: 13 },
        layer: [
          {
            transform: [{ filter: 'isValid(datum.low)' }],
            mark: { type: 'rule' },
            encoding: { y, x: { field: 'low', type: 'quantitative', title: 'score lost' }, x2: { field: 'high' }, color },
          },
          {
            mark: { type: 'point', filled: true, size: 30 },
            encoding: { y, x: { field: 'mean', type: 'quantitative', title: 'score lost' }, color },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

const BINS = 24;

function distribution(a: Analysis, context: string, rows: LayerDoseRow[]): Figure {
  const data: Record<string, Cell>[] = [];
  const doses = [...new Set(rows.map((r) => r.dose))].sort((x, y) => x - y);
  for (const dose of doses) {
    for (const q of QUANTITIES) {
      const values = rows.filter((r) => r.dose === dose && r[q].mean !== null).map((r) => r[q].mean as number);
      if (values.length === 0) continue;
      const lo = Math.min(...values);
      const width = (Math.max(...values) - lo) / BINS || 1;
      const counts = new Array<number>(BINS).fill(0);
      for (const v of values)
        counts[Math.min(BINS - 1, Math.floor((v - lo) / width))] = (counts[Math.min(BINS - 1, Math.floor((v - lo) / width))] as number) + 1;
      counts.forEach((count, i) => {
        data.push({ dose, quantity: quantityName(q), start: lo + i * width, end: lo + (i + 1) * width, count });
      });
    }
  }
  const doseName = rows[0]?.doseName ?? 'level';
  const id = `distribution-${slug(context)}`;
  return {
    id,
    kind: 'distribution',
    title: `Distribution over layer sets: ${context}`,
    caption: `How many layer sets lost how much (each set: its mean over done seeds), damage and residual gap (${protocolNote(a)}), ${BINS} bins per panel${doses.length > 1 ? `, one row per ${doseName}` : ''}.`,
    data: {
      id,
      title: context,
      columns: [
        num('dose', doseName),
        text('quantity'),
        num('start', 'from'),
        num('end', 'to'),
        { key: 'count', title: 'layer sets', kind: 'int' },
      ],
      rows: data,
    },
    spec: {
      data: { values: data },
      facet: {
        column: { field: 'quantity', type: 'nominal', title: null },
        ...(doses.length > 1 ? { row: { field: 'dose', type: 'ordinal', title: doseName } } : {}),
      },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 260,
        height: 120,
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'score lost', bin: { binned: true } },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', title: 'layer sets' },
        },
      },
    } as TopLevelSpec,
  };
}

/** The summary figures of every context too large for a heatmap, in context order. */
export function summaryFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const context of largeContexts(a)) {
    const rows = a.layerDose.filter((r) => r.context === context);
    figures.push(byK(a, context, rows));
    for (const dose of [...new Set(rows.map((r) => r.dose))].sort((x, y) => x - y)) {
      const figure = extremes(
        a,
        context,
        dose,
        rows.filter((r) => r.dose === dose),
      );
      if (figure) figures.push(figure);
    }
    figures.push(distribution(a, context, rows));
  }
  return figures;
}
