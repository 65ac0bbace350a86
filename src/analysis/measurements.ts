/**
 * Where healing happens: per condition, the cells' measurements (src/measure/types.ts) summarised over
 * seeds, each with its bootstrap interval. CKA by layer before and after healing, weight distance and
 * cosine by layer, whether re-initialised layers return toward their originals, update norms per epoch,
 * MLM loss and accuracy against the clean fine-tuned model's, and what each measurement cost.
 */
import type { CkaLayer, Pooling, WeightGroup, WeightSums } from '../measure/types.js';
import { addSums, cosine, emptySums, relativeDistance } from '../measure/weights.js';
import type { CellResult } from '../sweep/types.js';
import type { GroupSummary } from './groups.js';
import { conditionKey } from './keys.js';
import type { SweepCell } from './load.js';
import { type BootstrapOptions, deriveSeed, type Summary, summarize } from './stats.js';

export type CkaComparison = 'beforeHealing' | 'afterHealing' | 'fromStart';

export interface CkaRow {
  condition: string;
  comparison: CkaComparison;
  pooling: Pooling;
  /** -1: the embeddings' output; l: encoder layer l's output. */
  layer: number;
  cka: Summary;
}

/** A part of the model: the embeddings, an encoder layer, the pooler, the task head. */
export interface Part {
  part: string;
  /** For ordering: -1 embeddings, 0..L-1 the layers, L the pooler, L + 1 the head. */
  order: number;
}

export interface WeightRow extends Part {
  condition: string;
  reference: 'pretrained' | 'clean';
  /** One component of the part (attention.query ...), or null for the part as a whole (without its LayerNorms). */
  component: string | null;
  distance: Summary;
  cosine: Summary;
}

export interface ReinitRow extends Part {
  condition: string;
  /** Cosine with the original weights right after re-initialisation, and after healing. */
  atReinit: Summary;
  healed: Summary;
  /** healed minus atReinit, per seed. */
  change: Summary;
  /** Seeds whose healed cosine is above the cosine at re-initialisation. */
  returned: number;
  n: number;
}

export interface UpdateRow extends Part {
  condition: string;
  epoch: number;
  /** |update| of the epoch, and |update| / |weights before it|. */
  norm: Summary;
  relative: Summary;
}

export interface MlmRow {
  condition: string;
  stage: 'beforeCorruption' | 'afterCorruption' | 'final';
  loss: Summary;
  accuracy: Summary;
  /** final only, corrupted cells and controls: this cell's minus the clean fine-tuned cell's of the same seed. */
  lossVsClean: Summary | null;
  accuracyVsClean: Summary | null;
}

export interface CostRow {
  condition: string;
  /** Seconds per cell (a fleet's cells share theirs). */
  cka: Summary;
  weights: Summary;
  mlm: Summary;
  /** The cell's whole time, for scale. */
  total: Summary;
}

export interface MeasurementAnalysis {
  cka: CkaRow[];
  weights: WeightRow[];
  reinit: ReinitRow[];
  updates: UpdateRow[];
  mlm: MlmRow[];
  costs: CostRow[];
}

/** The part a weight group belongs to, for a model of `layers` encoder layers. */
export function partOf(layer: number, component: string, layers: number): Part {
  if (layer >= 0) return { part: `layer ${layer}`, order: layer };
  if (component.startsWith('embeddings')) return { part: 'embeddings', order: -1 };
  if (component === 'pooler') return { part: 'pooler', order: layers };
  return { part: 'head', order: layers + 1 };
}

/**
 * Group sums added up per part. LayerNorm gains (near 1, with a norm of sqrt(H)) are left out of a part's
 * whole: in a layer of small matrices they would outweigh the matrices; each component has its own row.
 */
function byPart(groups: readonly WeightGroup[], layers: number): Map<string, { part: Part; sums: WeightSums }> {
  const out = new Map<string, { part: Part; sums: WeightSums }>();
  for (const g of groups) {
    if (g.component.endsWith('layernorm')) continue;
    const part = partOf(g.layer, g.component, layers);
    const entry = out.get(part.part) ?? { part, sums: emptySums() };
    addSums(entry.sums, g.sums);
    out.set(part.part, entry);
  }
  return out;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every measurement of the done cells, per condition (labels as summarizeGroups gave them). */
export function analyzeMeasurements(
  cells: readonly SweepCell[],
  groups: readonly GroupSummary[],
  depths: ReadonlyMap<string, { layers: number } | null>,
  options: BootstrapOptions = {},
): MeasurementAnalysis {
  const out: MeasurementAnalysis = { cka: [], weights: [], reinit: [], updates: [], mlm: [], costs: [] };
  const byId = new Map(cells.map((c) => [c.id, c]));
  const done = cells.filter((c) => c.status === 'done' && c.result?.measurements);
  for (const group of groups) {
    const results = done.filter((c) => conditionKey(c.config) === group.key).map((c) => c.result as CellResult);
    if (results.length === 0) continue;
    const condition = group.label;
    const layers =
      depths.get(group.model)?.layers ??
      Math.max(0, ...results.flatMap((r) => r.measurements?.cka?.fromStart?.map((x) => x.layer + 1) ?? []));
    const summary = (values: readonly (number | null | undefined)[], what: string) =>
      summarize(values.filter(finite), { ...options, seed: deriveSeed(options.seed ?? 0, `${group.key}|${what}`) });

    for (const comparison of ['beforeHealing', 'afterHealing', 'fromStart'] as const) {
      const rows = results.map((r) => r.measurements?.cka?.[comparison]).filter((x): x is CkaLayer[] => x !== undefined);
      if (rows.length === 0) continue;
      const layerIds = [...new Set(rows.flatMap((x) => x.map((l) => l.layer)))].sort((a, b) => a - b);
      for (const pooling of ['mean', 'first'] as const)
        for (const layer of layerIds)
          out.cka.push({
            condition,
            comparison,
            pooling,
            layer,
            cka: summary(
              rows.map((x) => x.find((l) => l.layer === layer)?.[pooling]),
              `cka|${comparison}|${pooling}|${layer}`,
            ),
          });
    }

    for (const reference of ['pretrained', 'clean'] as const) {
      const perCell = results
        .map((r) => (reference === 'pretrained' ? r.measurements?.weights?.toPretrained : r.measurements?.weights?.toClean))
        .filter((x): x is WeightGroup[] => x !== undefined)
        .map((g) => byPart(g, layers));
      const parts = [...new Map(perCell.flatMap((m) => [...m.values()].map((e) => [e.part.part, e.part] as const))).values()];
      const groupsOf = results
        .map((r) => (reference === 'pretrained' ? r.measurements?.weights?.toPretrained : r.measurements?.weights?.toClean))
        .filter((x): x is WeightGroup[] => x !== undefined);
      const row = (part: Part, component: string | null, sums: (WeightSums | undefined)[]) => {
        const what = `w|${reference}|${part.part}|${component}`;
        out.weights.push({
          condition,
          reference,
          ...part,
          component,
          distance: summary(
            sums.map((s) => (s ? relativeDistance(s) : null)),
            `${what}|d`,
          ),
          cosine: summary(
            sums.map((s) => (s ? cosine(s) : null)),
            `${what}|c`,
          ),
        });
      };
      const inPart = (g: WeightGroup, part: Part) => partOf(g.layer, g.component, layers).part === part.part;
      for (const part of parts.sort((a, b) => a.order - b.order)) {
        row(
          part,
          null,
          perCell.map((m) => m.get(part.part)?.sums),
        );
        const components = [...new Set(groupsOf.flatMap((g) => g.filter((x) => inPart(x, part)).map((x) => x.component)))];
        for (const component of components)
          row(
            part,
            component,
            groupsOf.map((g) => g.find((x) => x.component === component && inPart(x, part))?.sums),
          );
      }
    }

    const reinit = results.flatMap((r) => (r.measurements?.weights?.reinit ? [r.measurements.weights.reinit] : []));
    if (reinit.length > 0) {
      const perCell = reinit.map((rows) => ({
        at: byPart(
          rows.map((x) => ({ layer: x.layer, component: x.component, sums: x.atReinit })),
          layers,
        ),
        healed: byPart(
          rows.map((x) => ({ layer: x.layer, component: x.component, sums: x.healed })),
          layers,
        ),
      }));
      const parts = [...new Map(perCell.flatMap((m) => [...m.at.values()].map((e) => [e.part.part, e.part] as const))).values()];
      for (const part of parts.sort((a, b) => a.order - b.order)) {
        const pairs = perCell.flatMap((m) => {
          const at = m.at.get(part.part);
          const healed = m.healed.get(part.part);
          const [a, h] = [at ? cosine(at.sums) : null, healed ? cosine(healed.sums) : null];
          return a !== null && h !== null ? [{ a, h }] : [];
        });
        out.reinit.push({
          condition,
          ...part,
          atReinit: summary(
            pairs.map((p) => p.a),
            `r|${part.part}|a`,
          ),
          healed: summary(
            pairs.map((p) => p.h),
            `r|${part.part}|h`,
          ),
          change: summary(
            pairs.map((p) => p.h - p.a),
            `r|${part.part}|c`,
          ),
          returned: pairs.filter((p) => p.h > p.a).length,
          n: pairs.length,
        });
      }
    }

    const updates = results.flatMap((r) => (r.measurements?.weights ? [r.measurements.weights.updates] : []));
    const keys = [...new Set(updates.flatMap((u) => u.map((x) => `${x.epoch}|${x.layer}`)))];
    for (const key of keys) {
      const [epoch, layer] = key.split('|').map(Number) as [number, number];
      const rows = updates.map((u) => u.find((x) => x.epoch === epoch && x.layer === layer));
      out.updates.push({
        condition,
        epoch,
        ...partOf(layer, 'embeddings', layers),
        norm: summary(
          rows.map((x) => (x ? Math.sqrt(x.updateSq) : null)),
          `u|${key}|n`,
        ),
        relative: summary(
          rows.map((x) => (x && x.weightSq > 0 ? Math.sqrt(x.updateSq / x.weightSq) : null)),
          `u|${key}|r`,
        ),
      });
    }
    out.updates.sort((a, b) => (a.condition === b.condition ? a.epoch - b.epoch || a.order - b.order : 0));

    const mlm = results.filter((r) => r.measurements?.mlm);
    if (mlm.length > 0) {
      const cleanFinal = (r: CellResult) => {
        const b = r.baselineId ? byId.get(r.baselineId)?.result : undefined;
        return b?.status === 'done' ? b.measurements?.mlm?.final : undefined;
      };
      for (const stage of ['beforeCorruption', 'afterCorruption', 'final'] as const) {
        const scores = mlm.map((r) => r.measurements?.mlm?.[stage]);
        if (!scores.some((x) => x)) continue;
        const paired = stage === 'final' && mlm.some((r) => r.baselineId !== null);
        const vs = (key: 'loss' | 'accuracy') =>
          paired
            ? summary(
                mlm.map((r) => {
                  const own = r.measurements?.mlm?.final?.[key];
                  const clean = cleanFinal(r)?.[key];
                  return finite(own) && finite(clean) ? own - clean : null;
                }),
                `m|${stage}|${key}|vs`,
              )
            : null;
        out.mlm.push({
          condition,
          stage,
          loss: summary(
            scores.map((x) => x?.loss),
            `m|${stage}|l`,
          ),
          accuracy: summary(
            scores.map((x) => x?.accuracy),
            `m|${stage}|a`,
          ),
          lossVsClean: vs('loss'),
          accuracyVsClean: vs('accuracy'),
        });
      }
    }

    out.costs.push({
      condition,
      cka: summary(
        results.map((r) => r.measurements?.seconds.cka),
        'c|cka',
      ),
      weights: summary(
        results.map((r) => r.measurements?.seconds.weights),
        'c|w',
      ),
      mlm: summary(
        results.map((r) => r.measurements?.seconds.mlm),
        'c|m',
      ),
      total: summary(
        results.map((r) => r.timings.total),
        'c|t',
      ),
    });
  }
  return out;
}
