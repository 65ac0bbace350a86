/**
 * The head figure: for every context of a sweep with single-head cells, a layer x head heatmap of the damage
 * and one of the residual gap side by side (the top layer first), each cell labelled with its mean and n.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Analysis } from '../analysis/analyze.js';
import { type Figure, interval, quantityName, slug, text } from './figure-parts.js';
import { protocolNote } from './protocol-note.js';
import type { Cell } from './table.js';

export function headFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const context of [...new Set(a.heads.map((r) => r.context))]) {
    const rows = a.heads.filter((r) => r.context === context);
    const data = rows.flatMap((r) =>
      (['damage', 'residualGap'] as const).map((q): Record<string, Cell> => {
        const s = q === 'damage' ? r.damage : r.residualGap;
        const value = s.mean === null ? 'no data' : (Math.abs(s.mean) < 5e-4 ? 0 : s.mean).toFixed(3);
        return {
          quantity: quantityName(q),
          layer: r.layer,
          head: r.head,
          mean: s.mean,
          low: s.ci?.low ?? null,
          high: s.ci?.high ?? null,
          n: s.n,
          label: `${value}\nn=${s.n}`,
        };
      }),
    );
    const x = { field: 'head', type: 'ordinal', title: 'attention head', axis: { labelAngle: 0 } };
    const y = { field: 'layer', type: 'ordinal', title: 'layer (0 = bottom)', sort: 'descending' };
    const id = `heads-${slug(context)}`;
    figures.push({
      id,
      kind: 'heatmap',
      title: `Damage and residual gap per attention head: ${context}`,
      caption: `One head of one layer corrupted per condition: mean damage (left) and residual gap (right; ${protocolNote(a)}) over done seeds, n seeds per cell; the table has the bootstrap intervals. Red: score lost; blue: score gained. Grey: no done cell.`,
      data: {
        id,
        title: context,
        columns: [
          text('quantity'),
          { key: 'layer', title: 'layer', kind: 'int' },
          { key: 'head', title: 'head', kind: 'int' },
          ...interval,
        ],
        rows: data,
      },
      spec: {
        data: { values: data },
        facet: { column: { field: 'quantity', type: 'nominal', title: null, sort: ['damage', 'residual gap'] } },
        resolve: { scale: { color: 'independent' } },
        config: { axis: { grid: false } },
        spec: {
          width: { step: 44 },
          height: { step: 30 },
          layer: [
            { mark: { type: 'rect', fill: '#e6e6e6' }, encoding: { x, y } },
            {
              transform: [{ filter: 'isValid(datum.mean)' }],
              mark: 'rect',
              encoding: {
                x,
                y,
                color: {
                  field: 'mean',
                  type: 'quantitative',
                  title: 'score lost',
                  scale: { scheme: 'redblue', reverse: true, domainMid: 0 },
                },
              },
            },
            {
              mark: { type: 'text', lineBreak: '\n', fontSize: 8 },
              encoding: { x, y, text: { field: 'label' }, color: { value: '#222' } },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}
