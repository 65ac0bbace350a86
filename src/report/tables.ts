/** The analysis as tables: one per kind of result, each also the data behind a figure (figures.ts filters them). */
import type { Analysis } from '../analysis/analyze.js';
import type { GroupSummary } from '../analysis/groups.js';
import type { Protocol } from '../sweep/types.js';
import { protocolsOf, withProtocol } from './protocol-note.js';
import type { Column, Table } from './table.js';
import { countColumns, summaryCells, summaryColumns } from './table-columns.js';
import {
  bottomTopTable,
  doseResponseTable,
  fitsTable,
  headsTable,
  interactionsTable,
  layerDoseTable,
  shapleyTable,
  trendsTable,
} from './tables-layers.js';
import { measurementTables } from './tables-measure.js';

export function statusTable(a: Analysis): Table {
  return { id: 'status', title: 'Cells by state', columns: countColumns, rows: [{ ...a.counts }] };
}

/** finetuned only: the control's score and the uncontrolled gap, beside the residual gap. */
const finetunedColumns = (a: Analysis, summary: boolean): Column[] => {
  if (!protocolsOf(a).includes('finetuned')) return [];
  const columns = (key: string, title: string): Column[] => (summary ? summaryColumns(key, title) : [{ key, title, kind: 'num' }]);
  return [...columns('control', 'control score'), ...columns('gap_task', 'gap to the task model before healing (no control)')];
};

export function groupsTable(a: Analysis): Table {
  return {
    id: 'groups',
    title: withProtocol('Conditions (means over done seeds)', a),
    columns: [
      { key: 'label', title: 'condition' },
      { key: 'metric', title: 'metric' },
      ...countColumns,
      { key: 'complete', title: 'complete' },
      ...summaryColumns('clean', 'clean score'),
      ...summaryColumns('damage', 'damage'),
      ...summaryColumns('recovered', 'recovered'),
      ...summaryColumns('gap', 'residual gap'),
      ...finetunedColumns(a, true),
      { key: 'ratio', title: 'recovery ratio', kind: 'num' },
      { key: 'ratio_low', title: 'CI low', kind: 'num' },
      { key: 'ratio_high', title: 'CI high', kind: 'num' },
      { key: 'ratio_reason', title: 'no ratio because' },
      { key: 'finding', title: 'finding' },
    ],
    rows: a.groups.map((g) => ({
      label: g.label,
      metric: g.metric,
      ...g.counts,
      complete: g.complete,
      ...summaryCells('clean', g.cleanScore),
      ...summaryCells('damage', g.damage),
      ...summaryCells('recovered', g.recovered),
      ...summaryCells('gap', g.residualGap),
      ...summaryCells('control', g.controlScore),
      ...summaryCells('gap_task', g.gapToTaskModelBeforeHealing),
      ratio: g.recoveryRatio.value,
      ratio_low: g.recoveryRatio.ci?.low ?? null,
      ratio_high: g.recoveryRatio.ci?.high ?? null,
      ratio_reason: g.config.corruption ? g.recoveryRatio.reason : null,
      finding: g.config.corruption || g.config.control ? findingText(g.finding, g.protocol) : null,
    })),
  };
}

/** A condition's finding in words, with the protocol's reference: "better than clean" is a finding of its own. */
export function findingText(finding: GroupSummary['finding'], protocol: Protocol): string {
  if (finding !== 'better than reference') return finding;
  return `better than ${protocol === 'finetuned' ? 'the control' : 'clean'}: the corruption improved the model`;
}

export function cellsTable(a: Analysis): Table {
  return {
    id: 'cells',
    title: withProtocol('Every cell', a),
    columns: [
      { key: 'id', title: 'id' },
      { key: 'label', title: 'corruption' },
      { key: 'seed', title: 'seed', kind: 'int' },
      { key: 'status', title: 'status' },
      { key: 'note', title: 'note' },
      { key: 'clean', title: 'clean score', kind: 'num' },
      { key: 'damage', title: 'damage', kind: 'num' },
      { key: 'recovered', title: 'recovered', kind: 'num' },
      { key: 'gap', title: 'residual gap', kind: 'num' },
      ...finetunedColumns(a, false),
      { key: 'ratio', title: 'recovery ratio', kind: 'num' },
      { key: 'inputs', title: 'inputs' },
    ],
    rows: a.cells.map((c) => ({
      id: c.id,
      label: c.label,
      seed: c.seed,
      status: c.status,
      note: c.note,
      clean: c.cleanScore,
      damage: c.damage,
      recovered: c.recovered,
      gap: c.residualGap,
      control: c.controlScore,
      gap_task: c.gapToTaskModelBeforeHealing,
      ratio: c.recoveryRatio,
      inputs: c.inputs ?? null,
    })),
  };
}

export function curvesTable(a: Analysis): Table {
  return {
    id: 'curves',
    title: 'Recovery curves (primary metric after each epoch)',
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'method', title: 'method' },
      { key: 'epoch', title: 'epoch', kind: 'int' },
      ...summaryColumns('score', 'score'),
    ],
    rows: a.groups.flatMap((g) =>
      g.curve.map((p) => ({
        condition: g.label,
        method: g.config.corruption?.method ?? (g.config.control ? 'control' : 'clean'),
        setting: `${g.model}|${g.task}|${g.protocol}`,
        epoch: p.epoch,
        ...summaryCells('score', p.summary),
      })),
    ),
  };
}

/** Every table of an analysis, in report order. */
export function allTables(a: Analysis): Table[] {
  return [
    statusTable(a),
    groupsTable(a),
    curvesTable(a),
    layerDoseTable(a),
    ...(a.heads.length > 0 ? [headsTable(a)] : []),
    bottomTopTable(a),
    shapleyTable(a),
    interactionsTable(a),
    doseResponseTable(a),
    fitsTable(a),
    trendsTable(a),
    ...measurementTables(a),
    cellsTable(a),
  ];
}
