/**
 * Figures of layer attribution: residual-gap heatmaps by layer set and dose, per-layer sensitivity,
 * bottom-k against top-k, Shapley bars and interaction maps. One figure per method context (and dose where
 * it matters), so that layer sets and doses of different methods never share an axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Analysis } from '../analysis/analyze.js';
import { type Figure, interval, num, pointsWithBars, quantityName, slug, text } from './figure-parts.js';
import { largeContexts } from './figures-summary.js';
import { protocolNote } from './protocol-note.js';
import type { Cell } from './table.js';

export function heatmapsFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  // A method with thousands of layer sets gets summaries instead (figures-summary.ts).
  const large = new Set(largeContexts(a));
  const contexts = [...new Set(a.layerDose.map((r) => r.context))].filter((c) => !large.has(c));
  for (const context of contexts) {
    const rows = a.layerDose.filter((r) => r.context === context);
    if (rows.length < 2) continue;
    const doseName = rows[0]?.doseName ?? 'level';
    const data = rows.map((r, i): Record<string, Cell> => {
      const excluded = r.counts.diverged + r.counts.failed + r.counts.running + r.counts.pending;
      // (no "-0.000": a gap that rounds to zero prints as 0.000)
      const value = r.residualGap.mean === null ? 'no data' : (Math.abs(r.residualGap.mean) < 5e-4 ? 0 : r.residualGap.mean).toFixed(3);
      return {
        layers: r.layers,
        k: r.k,
        order: i,
        dose: r.dose,
        dose_label: `${r.dose}`,
        mean: r.residualGap.mean,
        low: r.residualGap.ci?.low ?? null,
        high: r.residualGap.ci?.high ?? null,
        n: r.residualGap.n,
        excluded,
        label: `${value}\nn=${r.residualGap.n}${excluded ? ` (+${excluded} excl.)` : ''}`,
      };
    });
    const y = { field: 'layers', type: 'ordinal', title: 'corrupted layers', sort: { field: 'order', op: 'min' } };
    const x = { field: 'dose_label', type: 'ordinal', title: doseName, sort: { field: 'dose', op: 'min' }, axis: { labelAngle: 0 } };
    const means = data.map((d) => d.mean).filter((m): m is number => typeof m === 'number');
    // Labels turn white on the darker half of the colour scale.
    const dark = means.length ? Math.min(...means) + 0.55 * (Math.max(...means) - Math.min(...means)) : 0;
    figures.push({
      id: `heatmap-${slug(context)}`,
      kind: 'heatmap',
      title: `Residual gap by corrupted layers and ${doseName}: ${context}`,
      caption: `Mean residual gap (${protocolNote(a)}) over done seeds; n is the number of seeds averaged, "excl." counts diverged, failed, running and pending cells left out. Grey: no done cell.`,
      data: {
        id: `heatmap-${slug(context)}`,
        title: context,
        columns: [
          text('layers'),
          { key: 'k', title: 'k', kind: 'int' },
          num('dose', doseName),
          ...interval,
          { key: 'excluded', title: 'excluded', kind: 'int' },
        ],
        rows: data,
      },
      spec: {
        data: { values: data },
        width: { step: 84 },
        height: { step: 36 },
        config: { axis: { grid: false } },
        layer: [
          { mark: { type: 'rect', fill: '#e6e6e6' }, encoding: { x, y } },
          {
            transform: [{ filter: 'isValid(datum.mean)' }],
            mark: 'rect',
            encoding: { x, y, color: { field: 'mean', type: 'quantitative', title: 'residual gap', scale: { scheme: 'orangered' } } },
          },
          {
            mark: { type: 'text', lineBreak: '\n', fontSize: 9 },
            encoding: {
              x,
              y,
              text: { field: 'label' },
              color: { condition: { test: `isValid(datum.mean) && datum.mean > ${dark}`, value: 'white' }, value: 'black' },
            },
          },
        ],
      } as TopLevelSpec,
    });
  }
  return figures;
}

export function sensitivityFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const context of [...new Set(a.layerDose.map((r) => r.context))]) {
    const single = a.layerDose.filter((r) => r.context === context && r.k === 1);
    if (new Set(single.map((r) => r.layers)).size < 2) continue;
    const rows = single.flatMap((r) =>
      (['damage', 'residualGap'] as const).map((q): Record<string, Cell> => {
        const s = q === 'damage' ? r.damage : r.residualGap;
        return {
          layer: r.layerList[0] as number,
          dose: r.dose,
          quantity: quantityName(q),
          mean: s.mean,
          low: s.ci?.low ?? null,
          high: s.ci?.high ?? null,
          n: s.n,
        };
      }),
    );
    const id = `sensitivity-${slug(context)}`;
    figures.push({
      id,
      kind: 'sensitivity',
      title: `Per-layer sensitivity (one layer corrupted): ${context}`,
      caption: `Damage and residual gap (${protocolNote(a)}) when a single layer is corrupted, by layer (0 = bottom), mean over done seeds with bootstrap intervals; one panel per dose.`,
      data: {
        id,
        title: context,
        columns: [{ key: 'layer', title: 'layer', kind: 'int' }, num('dose', 'dose'), text('quantity'), ...interval],
        rows,
      },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'dose', type: 'ordinal', title: rows.length ? `${single[0]?.doseName}` : 'dose' } },
        spec: {
          width: 220,
          height: 200,
          layer: pointsWithBars(
            { field: 'layer', type: 'ordinal', title: 'layer' },
            { field: 'quantity', type: 'nominal' },
            { title: 'score lost' },
          ),
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}

export function bottomTopFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const context of [...new Set(a.bottomTop.map((r) => r.context))]) {
    const rows = a.bottomTop
      .filter((r) => r.context === context)
      .flatMap((r) =>
        (['bottom', 'top'] as const).map((side): Record<string, Cell> => {
          const s = r[side];
          return {
            k: r.k,
            dose: r.dose,
            quantity: quantityName(r.quantity),
            side,
            mean: s.mean,
            low: s.ci?.low ?? null,
            high: s.ci?.high ?? null,
            n: s.n,
            p_t: r.difference.pT,
          };
        }),
      );
    const doses = new Set(rows.map((r) => r.dose));
    const id = `bottom-top-${slug(context)}`;
    const x = { field: 'k', type: 'ordinal', title: 'k layers corrupted' };
    const color = { field: 'side', type: 'nominal', scale: { domain: ['bottom', 'top'], range: ['#d62728', '#1f77b4'] } };
    figures.push({
      id,
      kind: 'bottom-top',
      title: `Bottom-k against top-k: ${context}`,
      caption: `Damage and residual gap (${protocolNote(a)}) when the bottom k or the top k layers are corrupted, mean over done seeds with bootstrap intervals. The paired tests (by seed) are in the bottom-vs-top table.`,
      data: {
        id,
        title: context,
        columns: [
          { key: 'k', title: 'k', kind: 'int' },
          num('dose', 'dose'),
          text('quantity'),
          text('side'),
          ...interval,
          { key: 'p_t', title: 'p (paired t)', kind: 'p' },
        ],
        rows,
      },
      spec: {
        data: { values: rows },
        facet: {
          column: { field: 'quantity', type: 'nominal', title: null },
          ...(doses.size > 1 ? { row: { field: 'dose', type: 'ordinal' } } : {}),
        },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 200,
          height: 180,
          layer: pointsWithBars(x, color, { extra: { xOffset: { field: 'side' } }, lines: false, title: 'score lost' }),
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}

export function shapleyFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  const available = a.shapley.filter((s) => s.estimator !== 'unavailable');
  for (const key of [...new Set(available.map((s) => `${s.context}|${s.dose}`))]) {
    const results = available.filter((s) => `${s.context}|${s.dose}` === key);
    const first = results[0] as (typeof results)[number];
    const rows = results.flatMap((s) =>
      s.values.map((v): Record<string, Cell> => {
        const se = v.standardError;
        // Intervals over seeds when there are several, else +-2 permutation standard errors (Monte-Carlo, one seed).
        const low = v.value.ci?.low ?? (se !== null && v.value.mean !== null ? v.value.mean - 2 * se : null);
        const high = v.value.ci?.high ?? (se !== null && v.value.mean !== null ? v.value.mean + 2 * se : null);
        return {
          layer: v.layer,
          quantity: quantityName(s.quantity),
          estimator: s.estimator,
          mean: v.value.mean,
          low,
          high,
          n: v.value.n,
          se,
        };
      }),
    );
    const id = `shapley-${slug(first.context)}-${slug(String(first.dose))}`;
    const x = { field: 'layer', type: 'ordinal', title: 'layer' };
    figures.push({
      id,
      kind: 'shapley',
      title: `Shapley values of layers: ${first.context}, ${first.doseName} ${first.dose}`,
      caption: `${first.estimator === 'exact' ? 'Exact' : `Monte-Carlo (${first.permutations} permutations)`} Shapley values over seeds ${first.seeds.join(', ')}${first.incompleteSeeds.length ? ` (seeds ${first.incompleteSeeds.join(', ')} lack coalitions and are left out)` : ''}; bars: mean over seeds; whiskers: bootstrap interval over seeds${first.estimator === 'monte-carlo' ? ', or +-2 permutation standard errors with one seed' : ''}. Values add up to v(all layers).`,
      data: {
        id,
        title: key,
        columns: [
          { key: 'layer', title: 'layer', kind: 'int' },
          text('quantity'),
          text('estimator'),
          ...interval,
          num('se', 'permutation SE'),
        ],
        rows,
      },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'quantity', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 200,
          height: 180,
          layer: [
            {
              mark: 'bar',
              encoding: {
                x,
                y: { field: 'mean', type: 'quantitative', title: 'Shapley value' },
                color: { field: 'quantity', type: 'nominal', legend: null },
              },
            },
            {
              transform: [{ filter: 'isValid(datum.low)' }],
              mark: { type: 'errorbar', ticks: true, size: 8 },
              encoding: { x, y: { field: 'low', type: 'quantitative', title: 'Shapley value' }, y2: { field: 'high' } },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}

export function interactionsFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const key of [...new Set(a.interactions.map((r) => `${r.context}|${r.dose}`))]) {
    const all = a.interactions.filter((r) => `${r.context}|${r.dose}` === key);
    const kind = all.some((r) => r.kind === 'shapley-index') ? 'shapley-index' : 'pair';
    const chosen = all.filter((r) => r.kind === kind);
    const first = chosen[0] as (typeof chosen)[number];
    // Colour by the share of the largest |interaction| of the same quantity, so damage and gap panels both use the scale.
    const largest = new Map<string, number>();
    for (const r of chosen) largest.set(r.quantity, Math.max(largest.get(r.quantity) ?? 0, Math.abs(r.value.mean ?? 0)));
    const rows = chosen.map(
      (r): Record<string, Cell> => ({
        i: r.i,
        j: r.j,
        quantity: quantityName(r.quantity),
        mean: r.value.mean,
        low: r.value.ci?.low ?? null,
        high: r.value.ci?.high ?? null,
        n: r.value.n,
        relative: r.value.mean === null ? null : r.value.mean / (largest.get(r.quantity) || 1),
        label: r.value.mean === null ? '' : Number(r.value.mean.toPrecision(2)).toString(),
      }),
    );
    const id = `interactions-${slug(first.context)}-${slug(String(first.dose))}`;
    const x = { field: 'j', type: 'ordinal', title: 'layer j', axis: { labelAngle: 0 } };
    const y = { field: 'i', type: 'ordinal', title: 'layer i' };
    figures.push({
      id,
      kind: 'interactions',
      title: `Layer interactions: ${first.context}, ${first.doseName} ${first.dose}`,
      caption:
        kind === 'shapley-index'
          ? "Grabisch's Shapley interaction index of each pair of layers, mean over seeds: positive when corrupting both hurts more than the sum of each."
          : 'v({i,j}) - v({i}) - v({j}), mean over seeds: positive when corrupting both layers hurts more than corrupting each alone.',
      data: {
        id,
        title: key,
        columns: [{ key: 'i', title: 'i', kind: 'int' }, { key: 'j', title: 'j', kind: 'int' }, text('quantity'), ...interval],
        rows,
      },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'quantity', type: 'nominal', title: null } },
        config: { axis: { grid: false } },
        spec: {
          width: { step: 72 },
          height: { step: 36 },
          layer: [
            {
              mark: 'rect',
              encoding: {
                x,
                y,
                color: {
                  field: 'relative',
                  type: 'quantitative',
                  title: 'share of largest',
                  scale: { scheme: 'redblue', reverse: true, domain: [-1, 1] },
                },
              },
            },
            {
              mark: { type: 'text', fontSize: 10 },
              encoding: {
                x,
                y,
                text: { field: 'label' },
                color: { condition: { test: 'abs(datum.relative) > 0.6', value: 'white' }, value: 'black' },
              },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}
