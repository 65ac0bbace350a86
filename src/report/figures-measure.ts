/**
 * Figures of where healing happens (analysis.measurements): CKA by layer before and after healing per
 * condition, weight distance by layer, MLM loss by stage; each with the table of exactly what it plots.
 * The re-initialised layers' return toward their originals is a table (tables-measure.ts).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Analysis } from '../analysis/analyze.js';
import type { Summary } from '../analysis/stats.js';
import { type Figure, interval, pointsWithBars, text } from './figure-parts.js';
import type { Cell } from './table.js';
import { layerName } from './tables-measure.js';

const withInterval = (s: Summary): Record<string, Cell> => ({ mean: s.mean, low: s.ci?.low ?? null, high: s.ci?.high ?? null, n: s.n });
const level = (a: Analysis) => `${Math.round(a.options.level * 100)}%`;
const conditionColor = (n: number) => ({
  field: 'condition',
  type: 'nominal',
  legend: { labelLimit: 260 },
  scale: { scheme: n > 10 ? 'category20' : 'tableau10' },
});

function ckaFigures(a: Analysis): Figure[] {
  const figures: Figure[] = [];
  for (const pooling of ['mean', 'first'] as const) {
    const rows = a.measurements.cka
      .filter((r) => r.pooling === pooling && r.comparison !== 'fromStart')
      .map(
        (r): Record<string, Cell> => ({
          condition: r.condition,
          comparison: r.comparison === 'beforeHealing' ? 'before healing' : 'after healing',
          layer: layerName(r.layer),
          order: r.layer,
          ...withInterval(r.cka),
        }),
      );
    if (rows.length === 0) continue;
    const id = `cka-by-layer-${pooling}`;
    const x = { field: 'layer', type: 'ordinal', title: 'layer', sort: { field: 'order', op: 'min' }, axis: { labelAngle: 0 } };
    const conditions = new Set(rows.map((r) => r.condition)).size;
    figures.push({
      id,
      kind: 'cka',
      title: `Where the damage sits and where it remains: CKA by layer (${pooling === 'mean' ? 'mean over tokens' : 'first token'})`,
      caption: `CKA of each layer's representations of the same evaluation examples, 1 where they are the same up to rotation and scale. Before healing: the model before corruption against the corrupted model; after healing: the clean fine-tuned model (pretrained protocol: the clean cell of the same seed; finetuned: the task model) against the healed one (a control: what healing alone changed). Mean over seeds with ${level(a)} bootstrap intervals. The embeddings' first token is the same for every example, so it has no CKA.`,
      data: { id, title: `CKA by layer, ${pooling}`, columns: [text('condition'), text('comparison'), text('layer'), ...interval], rows },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'comparison', type: 'nominal', title: null, sort: ['before healing', 'after healing'] } },
        spec: { width: 260, height: 220, layer: pointsWithBars(x, conditionColor(conditions), { title: 'CKA' }) },
      } as TopLevelSpec,
    });
  }
  return figures;
}

function weightFigures(a: Analysis): Figure[] {
  const rows = a.measurements.weights
    .filter((r) => r.component === null)
    .map(
      (r): Record<string, Cell> => ({
        condition: r.condition,
        reference: r.reference === 'pretrained' ? 'to the pre-trained weights' : 'to the clean fine-tuned weights',
        part: r.part,
        order: r.order,
        ...withInterval(r.distance),
      }),
    );
  if (rows.length === 0) return [];
  const id = 'weight-distance-by-layer';
  const x = { field: 'part', type: 'ordinal', title: null, sort: { field: 'order', op: 'min' }, axis: { labelAngle: -30 } };
  return [
    {
      id,
      kind: 'weights',
      title: 'Weight distance by layer',
      caption: `Relative L2 distance |final - reference| / |reference| of each part's weights (LayerNorm gains left out; each component is in the weight table), mean over seeds with ${level(a)} bootstrap intervals; the cosines are in the weight table. A re-initialised layer is far from the pre-trained weights by construction; what healing changed shows against the clean fine-tuned model.`,
      data: { id, title: 'Weight distance by layer', columns: [text('condition'), text('reference'), text('part'), ...interval], rows },
      spec: {
        data: { values: rows },
        facet: { column: { field: 'reference', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 260,
          height: 220,
          layer: pointsWithBars(x, conditionColor(new Set(rows.map((r) => r.condition)).size), { title: 'relative distance' }),
        },
      } as TopLevelSpec,
    },
  ];
}

function mlmFigures(a: Analysis): Figure[] {
  const order = { beforeCorruption: 0, afterCorruption: 1, final: 2 };
  const rows = a.measurements.mlm.map(
    (r): Record<string, Cell> => ({
      condition: r.condition,
      stage: r.stage === 'beforeCorruption' ? 'before corruption' : r.stage === 'afterCorruption' ? 'after corruption' : 'after healing',
      order: order[r.stage],
      ...withInterval(r.loss),
    }),
  );
  if (rows.length === 0) return [];
  const id = 'mlm-loss';
  const x = { field: 'stage', type: 'ordinal', title: null, sort: { field: 'order', op: 'min' }, axis: { labelAngle: 0 } };
  return [
    {
      id,
      kind: 'mlm',
      title: 'Knowledge beyond the task: held-out MLM loss before and after',
      caption: `Masked-language-model loss on held-out evaluation text under the checkpoint's own MLM head (lower is better), before corruption, after corruption and after healing; mean over seeds with ${level(a)} bootstrap intervals. The clean condition shows what fine-tuning alone does to language modelling; the MLM table has the accuracy and each condition against the clean fine-tuned model of the same seed.`,
      data: { id, title: 'MLM loss', columns: [text('condition'), text('stage'), ...interval], rows },
      spec: {
        data: { values: rows },
        width: 360,
        height: 240,
        layer: pointsWithBars(x, conditionColor(new Set(rows.map((r) => r.condition)).size), { title: 'MLM loss' }),
      } as TopLevelSpec,
    },
  ];
}

/** The measurement figures an analysis has data for. */
export function measurementFigures(a: Analysis): Figure[] {
  return [...ckaFigures(a), ...weightFigures(a), ...mlmFigures(a)];
}
