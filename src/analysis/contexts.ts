/**
 * Cells arranged for layer attribution and dose-response: by context (everything but seed, layers and
 * dose, see keys.ts), then dose, then the resolved set of corrupted layers, then seed. Two cells that
 * corrupt the same layers ("bottom:2" and "0-1") are the same experiment and share a slot; duplicates
 * within one seed are averaged.
 */
import type { CellConfig, Protocol } from '../sweep/types.js';
import { emptyCounts, type StatusCounts } from './groups.js';
import { contextKey, describeMethod, doseOf } from './keys.js';
import { type Depth, layerSetName, resolveLayerSet } from './layers.js';
import type { CellMeasures } from './quantities.js';
import { mean } from './stats.js';

export interface LayerSetCells {
  layers: number[];
  name: string;
  /** Done, measured cells by seed. */
  bySeed: Map<number, CellMeasures[]>;
  /** Every cell of this slot by state, measured or not. */
  counts: StatusCounts;
}

export interface DoseCells {
  dose: number;
  /** By layer-set name. */
  sets: Map<string, LayerSetCells>;
}

export interface AttributionContext {
  key: string;
  label: string;
  model: string;
  task: string;
  protocol: Protocol;
  metric: string | null;
  method: string;
  doseName: 'level' | 'fraction';
  /** Whether more dose is more corruption (a monotone dose-response curve makes sense). */
  monotone: boolean;
  depth: Depth | null;
  /** Whether the corruption touches nothing but the listed layers (no embeddings, pooler, head or name globs), so layers are the only players. */
  layersOnly: boolean;
  doses: DoseCells[];
  /**
   * The clean model's scores by seed: before fine-tuning (probe or beforeCorruption) and after it (the clean
   * score; finetuned: the control's, the uncorrupted task model healed alike, null without a done control).
   */
  clean: Map<number, { before: number | null; score: number | null }>;
  /** Cells whose layer selector could not be resolved (unknown depth or a bad selector). */
  unresolved: number;
}

/** One number per seed: the mean of a quantity over that seed's duplicate cells. */
export function seedValues(set: LayerSetCells | undefined, f: (c: CellMeasures) => number | null): Map<number, number> {
  const out = new Map<number, number>();
  if (!set) return out;
  for (const [seed, cells] of set.bySeed) {
    const v = cells.map(f).filter((x): x is number => x !== null);
    if (v.length) out.set(seed, mean(v));
  }
  return out;
}

export function buildContexts(measures: readonly CellMeasures[], depths: Map<string, Depth | null>): AttributionContext[] {
  const contexts = new Map<string, AttributionContext>();
  const several = (f: (c: CellConfig) => string) => new Set(measures.map((m) => f(m.config))).size > 1;
  const prefix = [several((c) => c.model.name), several((c) => c.task.name), several((c) => c.protocol)];
  for (const m of measures) {
    const corruption = m.config.corruption;
    const key = contextKey(m.config);
    if (!corruption || key === null) continue;
    let context = contexts.get(key);
    if (!context) {
      const dose = doseOf(corruption);
      const parts = [prefix[0] ? m.config.model.name : '', prefix[1] ? m.config.task.name : '', prefix[2] ? m.config.protocol : ''];
      context = {
        key,
        label: [...parts.filter(Boolean), describeMethod(corruption)].join(' / '),
        model: m.config.model.name,
        task: m.config.task.name,
        protocol: m.config.protocol,
        metric: m.metric,
        method: corruption.method,
        doseName: dose.name,
        monotone: dose.monotone,
        depth: depths.get(m.config.model.name) ?? null,
        layersOnly: !corruption.targets.include?.length && !corruption.targets.names?.length,
        doses: [],
        clean: new Map(),
        unresolved: 0,
      };
      contexts.set(key, context);
    }
    context.metric ??= m.metric;
    const layers = resolveLayerSet(corruption.targets.layers, context.depth?.layers ?? null);
    if (layers === null) {
      context.unresolved++;
      continue;
    }
    const doseValue = doseOf(corruption).value;
    let dose = context.doses.find((d) => d.dose === doseValue);
    if (!dose) {
      dose = { dose: doseValue, sets: new Map() };
      context.doses.push(dose);
    }
    const name = layerSetName(layers);
    let set = dose.sets.get(name);
    if (!set) {
      set = { layers, name, bySeed: new Map(), counts: emptyCounts() };
      dose.sets.set(name, set);
    }
    set.counts[m.status]++;
    if (m.status === 'done' && m.recovered !== null) {
      set.bySeed.set(m.seed, [...(set.bySeed.get(m.seed) ?? []), m]);
      // finetuned: healed cells are compared with the healed control, as the residual gap is.
      const score = m.config.protocol === 'finetuned' ? m.controlScore : m.cleanScore;
      if (!context.clean.has(m.seed)) context.clean.set(m.seed, { before: m.cleanBefore, score });
    }
  }
  const list = [...contexts.values()];
  for (const c of list) c.doses.sort((a, b) => a.dose - b.dose);
  const seen = new Map<string, number>();
  for (const c of list) {
    const n = (seen.get(c.label) ?? 0) + 1;
    seen.set(c.label, n);
    if (n > 1) c.label = `${c.label} #${n}`;
  }
  return list.sort((a, b) => a.label.localeCompare(b.label));
}
