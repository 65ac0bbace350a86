/**
 * The scan's figure as a Vega-Lite spec in the report's style (src/report: same renderer, fonts and
 * marks): mean score per target with its t-interval as an error bar, the clean model as a dashed rule.
 * Per (layer, component): one line per component over the layers.
 */
import type { TopLevelSpec } from 'vega-lite';
import { describeCorruption } from './format.js';
import type { ScanConfig, ScanRow } from './types.js';

/**
 * A head or neuron scan: a layer x head (or layer x neuron group) heatmap of the drop (clean - mean: red is
 * damage, blue a gain, white none), the top layer first, each cell labelled with its drop; the clean score
 * in the title.
 */
export function scanHeatmap(config: ScanConfig, clean: number, rows: ScanRow[]): TopLevelSpec {
  const heads = config.each === 'head';
  const data = rows.map((r, order) => ({
    target: r.target,
    layer: r.layer,
    column: heads ? `${r.head}` : `${r.neurons?.[0]}-${(r.neurons?.[1] ?? 0) - 1}`,
    order,
    drop: r.drop,
    label: r.drop === null ? 'n/a' : `${r.drop > 0 ? '+' : ''}${r.drop.toFixed(3)}`,
    mean: r.mean,
    n: r.n,
  }));
  const columns = new Set(data.map((d) => d.column)).size;
  const seeds = config.seeds.length;
  const x = {
    field: 'column',
    type: 'ordinal',
    title: heads ? 'attention head' : 'FFN neurons',
    sort: { field: 'order' },
    axis: { labelAngle: heads ? 0 : -30, grid: false },
  };
  const y = { field: 'layer', type: 'ordinal', title: 'layer (0 = bottom)', sort: 'descending', axis: { grid: false } };
  return {
    title: {
      text: `${describeCorruption(config.corruption, config.kinds)} per ${heads ? 'head' : 'neuron group'}: ${config.model.name} on ${config.task.name}, clean ${config.metric} ${clean.toFixed(4)}`,
      subtitle: `drop in ${config.metric} (clean - mean over ${seeds} seed${seeds === 1 ? '' : 's'}); ${config.task.split}, ${config.task.examples} rows, ${config.evaluation === 'head' ? 'task head' : 'linear probe'}`,
      fontSize: 12,
      subtitleFontSize: 10,
      anchor: 'start',
    },
    width: Math.max(240, Math.min(900, columns * 40)),
    height: Math.max(120, config.layers.length * 28),
    data: { values: data },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field: 'drop', type: 'quantitative', title: 'drop', scale: { scheme: 'redblue', reverse: true, domainMid: 0 } },
          tooltip: [{ field: 'target' }, { field: 'mean', format: '.4f' }, { field: 'drop', format: '.4f' }, { field: 'n' }],
        },
      },
      { mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'label' }, color: { value: '#222' } } },
    ],
  } as TopLevelSpec;
}

export function scanFigure(config: ScanConfig, clean: number, rows: ScanRow[]): TopLevelSpec {
  if (config.each === 'head' || config.each === 'neuron') return scanHeatmap(config, clean, rows);
  const data = rows.map((r, order) => ({
    target: r.target,
    layer: r.layer,
    component: r.component ?? 'all',
    order,
    mean: r.mean,
    low: r.ci?.low ?? null,
    high: r.ci?.high ?? null,
    n: r.n,
  }));
  const seeds = config.seeds.length;
  const byLayer = config.each !== 'component';
  const x = byLayer
    ? { field: 'layer', type: 'ordinal', title: 'corrupted layer (0 = bottom)', axis: { labelAngle: 0 } }
    : {
        field: 'target',
        type: 'nominal',
        title: 'corrupted component (all scanned layers)',
        sort: { field: 'order' },
        axis: { labelAngle: -30 },
      };
  const color =
    config.each === 'layer.component'
      ? { field: 'component', type: 'nominal', title: 'component', sort: { field: 'order' }, scale: { scheme: 'tableau10' } }
      : { value: '#4c78a8' };
  const y = { field: 'mean', type: 'quantitative', title: config.metric, scale: { zero: false } };
  const lines = config.each !== 'component';
  return {
    title: {
      text: `${describeCorruption(config.corruption, config.kinds)} per ${config.each}: ${config.model.name} on ${config.task.name}`,
      subtitle: `${config.task.split}, ${config.task.examples} rows, ${config.evaluation === 'head' ? 'task head' : 'linear probe'}; mean over ${seeds} seed${seeds === 1 ? '' : 's'}${seeds > 1 ? ' with 95% t-intervals' : ' (no interval)'}; dashed: clean ${clean.toFixed(4)}`,
      fontSize: 12,
      subtitleFontSize: 10,
      anchor: 'start',
    },
    width: Math.max(260, Math.min(900, (byLayer ? config.layers.length : rows.length) * 44)),
    height: 240,
    layer: [
      {
        data: { values: [{ clean }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
        encoding: { y: { field: 'clean', type: 'quantitative', title: config.metric } },
      },
      {
        data: { values: data },
        transform: [{ filter: 'isValid(datum.mean)' }],
        mark: lines ? { type: 'line', point: { filled: true, size: 40 } } : { type: 'point', filled: true, size: 50 },
        encoding: { x, y, color, tooltip: [{ field: 'target' }, { field: 'mean', format: '.4f' }, { field: 'n' }] },
      },
      {
        data: { values: data },
        transform: [{ filter: 'isValid(datum.low)' }],
        mark: { type: 'errorbar', ticks: true, size: 8 },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: config.metric }, y2: { field: 'high' }, color },
      },
    ],
  } as TopLevelSpec;
}
