/** Tables of layer attribution, dose-response and trends (tables.ts has conditions, cells and curves). */
import type { Analysis } from '../analysis/analyze.js';
import { withProtocol } from './protocol-note.js';
import type { Cell, Table } from './table.js';
import { countColumns, summaryCells, summaryColumns } from './table-columns.js';

export function layerDoseTable(a: Analysis): Table {
  return {
    id: 'layer-dose',
    title: withProtocol('Damage and residual gap by corrupted layers and dose', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'dose_name', title: 'dose' },
      { key: 'dose', title: 'value', kind: 'num' },
      { key: 'layers', title: 'layers' },
      { key: 'k', title: 'k', kind: 'int' },
      { key: 'edge', title: 'edge' },
      ...summaryColumns('damage', 'damage'),
      ...summaryColumns('gap', 'residual gap'),
      ...summaryColumns('recovered', 'recovered'),
      ...countColumns,
    ],
    rows: a.layerDose.map((r) => ({
      context: r.context,
      dose_name: r.doseName,
      dose: r.dose,
      layers: r.layers,
      k: r.k,
      edge: r.edge,
      ...summaryCells('damage', r.damage),
      ...summaryCells('gap', r.residualGap),
      ...summaryCells('recovered', r.recovered),
      ...r.counts,
    })),
  };
}

export function headsTable(a: Analysis): Table {
  return {
    id: 'heads',
    title: withProtocol('Damage and residual gap per attention head (one head of one layer corrupted)', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'layer', title: 'layer', kind: 'int' },
      { key: 'head', title: 'head', kind: 'int' },
      ...summaryColumns('damage', 'damage'),
      ...summaryColumns('gap', 'residual gap'),
      ...countColumns,
    ],
    rows: a.heads.map((r) => ({
      context: r.context,
      layer: r.layer,
      head: r.head,
      ...summaryCells('damage', r.damage),
      ...summaryCells('gap', r.residualGap),
      ...r.counts,
    })),
  };
}

export function bottomTopTable(a: Analysis): Table {
  return {
    id: 'bottom-top',
    title: withProtocol('Bottom-k against top-k (paired by seed at equal dose)', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'dose', title: 'dose', kind: 'num' },
      { key: 'k', title: 'k', kind: 'int' },
      { key: 'quantity', title: 'quantity' },
      ...summaryColumns('bottom', 'bottom'),
      ...summaryColumns('top', 'top'),
      { key: 'pairs', title: 'pairs', kind: 'int' },
      { key: 'diff', title: 'bottom - top', kind: 'num' },
      { key: 'diff_low', title: 'CI low', kind: 'num' },
      { key: 'diff_high', title: 'CI high', kind: 'num' },
      { key: 't', title: 't', kind: 'num' },
      { key: 'p_t', title: 'p (t)', kind: 'p' },
      { key: 'p_perm', title: 'p (sign-flip)', kind: 'p' },
      { key: 'd_z', title: 'd_z', kind: 'num' },
      { key: 'seeds_needed', title: 'seeds for 80% power', kind: 'int' },
      { key: 'unpaired', title: 'unpaired seeds' },
      { key: 'notes', title: 'notes' },
    ],
    rows: a.bottomTop.map((r) => ({
      context: r.context,
      dose: r.dose,
      k: r.k,
      quantity: r.quantity === 'residualGap' ? 'residual gap' : 'damage',
      ...summaryCells('bottom', r.bottom),
      ...summaryCells('top', r.top),
      pairs: r.difference.n,
      diff: r.difference.meanDifference,
      diff_low: r.difference.ci?.low ?? null,
      diff_high: r.difference.ci?.high ?? null,
      t: r.difference.t,
      p_t: r.difference.pT,
      p_perm: r.difference.pPermutation,
      d_z: r.difference.effectSize,
      seeds_needed: Number.isFinite(r.difference.seedsNeeded ?? Number.NaN) ? r.difference.seedsNeeded : null,
      unpaired: r.unpairedSeeds.join(' '),
      notes: r.difference.warnings.join('; '),
    })),
  };
}

export function shapleyTable(a: Analysis): Table {
  return {
    id: 'shapley',
    title: withProtocol('Shapley values of layers', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'dose', title: 'dose', kind: 'num' },
      { key: 'quantity', title: 'quantity' },
      { key: 'estimator', title: 'estimator' },
      { key: 'layer', title: 'layer', kind: 'int' },
      ...summaryColumns('value', 'Shapley value'),
      { key: 'se', title: 'permutation SE', kind: 'num' },
      { key: 'total', title: 'v(all layers)', kind: 'num' },
      { key: 'seeds_left_out', title: 'seeds left out' },
      { key: 'missing', title: 'missing coalitions' },
    ],
    rows: a.shapley.flatMap((s): Record<string, Cell>[] => {
      const base = {
        context: s.context,
        dose: s.dose,
        quantity: s.quantity === 'residualGap' ? 'residual gap' : 'damage',
        estimator: s.estimator === 'monte-carlo' ? `monte-carlo (${s.permutations} permutations)` : s.estimator,
        total: s.total,
        seeds_left_out: s.incompleteSeeds.join(' '),
      };
      if (s.estimator === 'unavailable') {
        return [
          {
            ...base,
            layer: null,
            missing: `${s.missingCount}: ${s.missing.join(' | ')}${s.missingCount > s.missing.length ? ' ...' : ''}`,
          },
        ];
      }
      return s.values.map((v) => ({ ...base, layer: v.layer, ...summaryCells('value', v.value), se: v.standardError, missing: '' }));
    }),
  };
}

export function interactionsTable(a: Analysis): Table {
  return {
    id: 'interactions',
    title: withProtocol('Pairwise interactions between layers', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'dose', title: 'dose', kind: 'num' },
      { key: 'quantity', title: 'quantity' },
      { key: 'kind', title: 'kind' },
      { key: 'i', title: 'layer i', kind: 'int' },
      { key: 'j', title: 'layer j', kind: 'int' },
      ...summaryColumns('value', 'interaction'),
    ],
    rows: a.interactions.map((r) => ({
      context: r.context,
      dose: r.dose,
      quantity: r.quantity === 'residualGap' ? 'residual gap' : 'damage',
      kind: r.kind,
      i: r.i,
      j: r.j,
      ...summaryCells('value', r.value),
    })),
  };
}

export function doseResponseTable(a: Analysis): Table {
  return {
    id: 'dose-response',
    title: 'Score by dose',
    columns: [
      { key: 'context', title: 'method' },
      { key: 'layers', title: 'layers' },
      { key: 'stage', title: 'stage' },
      { key: 'dose_name', title: 'dose' },
      { key: 'dose', title: 'value', kind: 'num' },
      ...summaryColumns('score', 'score'),
      ...countColumns,
    ],
    rows: a.doseResponse.flatMap((s) => [
      {
        context: s.context,
        layers: s.layers,
        stage: s.stage,
        dose_name: s.doseName,
        dose: 0,
        ...summaryCells('score', s.clean),
        done: s.clean.n,
      },
      ...s.points.map((p) => ({
        context: s.context,
        layers: s.layers,
        stage: s.stage,
        dose_name: s.doseName,
        dose: p.dose,
        ...summaryCells('score', p.score),
        ...p.counts,
      })),
    ]),
  };
}

export function fitsTable(a: Analysis): Table {
  return {
    id: 'dose-response-fits',
    title: 'Fitted dose-response curves',
    columns: [
      { key: 'context', title: 'method' },
      { key: 'layers', title: 'layers' },
      { key: 'stage', title: 'stage' },
      { key: 'scale', title: 'scale' },
      { key: 'top', title: 'clean (top)', kind: 'num' },
      { key: 'bottom', title: 'floor', kind: 'num' },
      { key: 'half', title: 'half-loss dose', kind: 'num' },
      { key: 'half_measured', title: 'within measured doses' },
      { key: 'slope', title: 'slope', kind: 'num' },
      { key: 'rmse', title: 'RMSE', kind: 'num' },
      { key: 'n', title: 'points', kind: 'int' },
      { key: 'note', title: 'note' },
    ],
    rows: a.doseResponse.map((s) => ({
      context: s.context,
      layers: s.layers,
      stage: s.stage,
      scale: s.logScale ? 'log' : 'linear',
      top: s.fit?.top ?? null,
      bottom: s.fit?.bottom ?? null,
      half: s.fit?.halfDoseMeasured ? s.fit.halfDose : null,
      half_measured: s.fit ? s.fit.halfDoseMeasured : null,
      slope: s.fit?.slope ?? null,
      rmse: s.fit?.rmse ?? null,
      n: s.fit?.n ?? null,
      note:
        s.fitNote ??
        (s.fit && !s.fit.halfDoseMeasured
          ? `half-loss dose outside the measured doses (extrapolated ${s.fit.halfDose.toPrecision(3)})`
          : ''),
    })),
  };
}

export function trendsTable(a: Analysis): Table {
  return {
    id: 'trends',
    title: withProtocol('Trends (correlations over seed-level points)', a),
    columns: [
      { key: 'context', title: 'method' },
      { key: 'dose', title: 'dose', kind: 'num' },
      { key: 'x', title: 'x' },
      { key: 'y', title: 'y' },
      { key: 'n', title: 'n', kind: 'int' },
      { key: 'spearman', title: 'Spearman rho', kind: 'num' },
      { key: 'spearman_p', title: 'p', kind: 'p' },
      { key: 'pearson', title: 'Pearson r', kind: 'num' },
      { key: 'pearson_p', title: 'p', kind: 'p' },
    ],
    rows: a.trends.map((t) => ({
      context: t.context,
      dose: t.dose,
      x: t.x,
      y: t.y,
      n: t.n,
      spearman: t.spearman.r,
      spearman_p: t.spearman.p,
      pearson: t.pearson.r,
      pearson_p: t.pearson.p,
    })),
  };
}
