/**
 * The tables of where healing happens (analysis.measurements): one per measurement, each with every value
 * the analysis has (CSV keeps full precision). Only measurements the sweep made get a table.
 */
import type { Analysis } from '../analysis/analyze.js';
import type { CkaComparison } from '../analysis/measurements.js';
import type { Table } from './table.js';
import { summaryCells, summaryColumns } from './table-columns.js';

export const COMPARISON_TITLE: Record<CkaComparison, string> = {
  beforeHealing: 'before healing (model before corruption vs corrupted)',
  afterHealing: 'after healing (clean fine-tuned vs healed)',
  fromStart: 'from the start (model before corruption vs final)',
};

/** "embeddings" for layer -1, else the layer's index. */
export const layerName = (layer: number) => (layer < 0 ? 'embeddings' : String(layer));

function ckaTable(a: Analysis): Table {
  return {
    id: 'cka',
    title: `Representation similarity by layer (${[...new Set(a.cells.flatMap((c) => (c.config.measure?.cka ? [c.config.measure.cka.estimator] : [])))].join(', ') || 'linear'} CKA)`,
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'comparison', title: 'comparison' },
      { key: 'pooling', title: 'pooling' },
      { key: 'layer', title: 'layer' },
      ...summaryColumns('cka', 'CKA'),
    ],
    rows: a.measurements.cka.map((r) => ({
      condition: r.condition,
      comparison: COMPARISON_TITLE[r.comparison],
      pooling: r.pooling === 'mean' ? 'mean over tokens' : 'first token',
      layer: layerName(r.layer),
      ...summaryCells('cka', r.cka),
    })),
  };
}

function weightsTable(a: Analysis): Table {
  return {
    id: 'weight-distance',
    title: 'Weight space by part: relative L2 distance and cosine of the final weights to a reference',
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'reference', title: 'reference' },
      { key: 'part', title: 'part' },
      { key: 'component', title: 'component' },
      ...summaryColumns('distance', 'relative distance'),
      ...summaryColumns('cosine', 'cosine'),
    ],
    rows: a.measurements.weights.map((r) => ({
      condition: r.condition,
      reference: r.reference === 'pretrained' ? 'pre-trained' : 'clean fine-tuned',
      part: r.part,
      component: r.component ?? 'all but LayerNorms',
      ...summaryCells('distance', r.distance),
      ...summaryCells('cosine', r.cosine),
    })),
  };
}

function reinitTable(a: Analysis): Table {
  return {
    id: 'reinit-return',
    title: 'Re-initialised layers: does healing move them back toward their original weights?',
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'part', title: 'part' },
      ...summaryColumns('at', 'cosine with the original at re-initialisation'),
      ...summaryColumns('healed', 'cosine with the original after healing'),
      ...summaryColumns('change', 'change'),
      { key: 'returned', title: 'seeds moving back', kind: 'int' },
      { key: 'n', title: 'seeds', kind: 'int' },
      { key: 'verdict', title: 'returns toward the original' },
    ],
    rows: a.measurements.reinit.map((r) => ({
      condition: r.condition,
      part: r.part,
      ...summaryCells('at', r.atReinit),
      ...summaryCells('healed', r.healed),
      ...summaryCells('change', r.change),
      returned: r.returned,
      n: r.n,
      verdict: r.change.ci ? (r.change.ci.low > 0 ? 'yes' : r.change.ci.high < 0 ? 'no, away' : 'not distinguishable') : 'n/a',
    })),
  };
}

function updatesTable(a: Analysis): Table {
  return {
    id: 'update-norms',
    title: 'Update norms per layer per epoch (|weights after the epoch - before it|)',
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'epoch', title: 'epoch', kind: 'int' },
      { key: 'part', title: 'part' },
      ...summaryColumns('norm', 'update norm'),
      ...summaryColumns('relative', 'relative to the weights'),
    ],
    rows: a.measurements.updates.map((r) => ({
      condition: r.condition,
      epoch: r.epoch,
      part: r.part,
      ...summaryCells('norm', r.norm),
      ...summaryCells('relative', r.relative),
    })),
  };
}

function mlmTable(a: Analysis): Table {
  return {
    id: 'mlm-knowledge',
    title: "Knowledge beyond the task: held-out MLM loss and accuracy under the checkpoint's own MLM head",
    columns: [
      { key: 'condition', title: 'condition' },
      { key: 'stage', title: 'stage' },
      ...summaryColumns('loss', 'MLM loss'),
      ...summaryColumns('accuracy', 'MLM accuracy'),
      ...summaryColumns('loss_vs', 'loss minus the clean fine-tuned'),
      ...summaryColumns('accuracy_vs', 'accuracy minus the clean fine-tuned'),
    ],
    rows: a.measurements.mlm.map((r) => ({
      condition: r.condition,
      stage: r.stage === 'beforeCorruption' ? 'before corruption' : r.stage === 'afterCorruption' ? 'after corruption' : 'after healing',
      ...summaryCells('loss', r.loss),
      ...summaryCells('accuracy', r.accuracy),
      ...(r.lossVsClean ? summaryCells('loss_vs', r.lossVsClean) : {}),
      ...(r.accuracyVsClean ? summaryCells('accuracy_vs', r.accuracyVsClean) : {}),
    })),
  };
}

function costsTable(a: Analysis): Table {
  return {
    id: 'measure-costs',
    title: "What the measurements cost per cell (seconds; a fleet shares its cells' time)",
    columns: [
      { key: 'condition', title: 'condition' },
      ...summaryColumns('cka', 'CKA s'),
      ...summaryColumns('weights', 'weights s'),
      ...summaryColumns('mlm', 'MLM s'),
      ...summaryColumns('total', 'cell total s'),
    ],
    rows: a.measurements.costs.map((r) => ({
      condition: r.condition,
      ...summaryCells('cka', r.cka),
      ...summaryCells('weights', r.weights),
      ...summaryCells('mlm', r.mlm),
      ...summaryCells('total', r.total),
    })),
  };
}

/** The measurement tables an analysis has rows for, in report order. */
export function measurementTables(a: Analysis): Table[] {
  return [ckaTable(a), weightsTable(a), reinitTable(a), updatesTable(a), mlmTable(a), costsTable(a)].filter((t) => t.rows.length > 0);
}
