/** Pieces shared by the figure builders: the Figure type, column helpers and the interval mark layers. */
import type { TopLevelSpec } from 'vega-lite';
import type { Column, Table } from './table.js';

export interface Figure {
  id: string;
  kind:
    | 'heatmap'
    | 'curves'
    | 'sensitivity'
    | 'bottom-top'
    | 'shapley'
    | 'interactions'
    | 'dose-response'
    | 'by-k'
    | 'extremes'
    | 'distribution'
    | 'cka'
    | 'weights'
    | 'mlm';
  title: string;
  caption: string;
  spec: TopLevelSpec;
  data: Table;
}

export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80) || 'x';

export const num = (key: string, title: string): Column => ({ key, title, kind: 'num' });
export const text = (key: string, title = key): Column => ({ key, title });
export const interval: Column[] = [
  num('mean', 'mean'),
  num('low', 'CI low'),
  num('high', 'CI high'),
  { key: 'n', title: 'n', kind: 'int' },
];
export const quantityName = (q: string) => (q === 'residualGap' ? 'residual gap' : q);

/** Mark layers shared by the interval plots: points joined by lines with error bars where an interval exists. */
export function pointsWithBars(
  x: Record<string, unknown>,
  color: Record<string, unknown>,
  options: { extra?: Record<string, unknown>; lines?: boolean; title?: string } = {},
) {
  const extra = options.extra ?? {};
  const y = { field: 'mean', type: 'quantitative', title: options.title ?? 'mean' };
  return [
    {
      mark: options.lines === false ? { type: 'point', filled: true, size: 50 } : { type: 'line', point: true },
      encoding: { x, y, color, ...extra },
    },
    {
      transform: [{ filter: 'isValid(datum.low)' }],
      mark: { type: 'errorbar', ticks: true, size: 8 },
      encoding: { x, y: { field: 'low', type: 'quantitative', title: y.title }, y2: { field: 'high' }, color, ...extra },
    },
  ];
}
