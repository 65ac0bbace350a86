/**
 * Weight-space comparisons: per (layer, component) sums of a model's tensors against a reference's, in
 * float64, from which relative L2 distance and cosine similarity follow (and aggregate exactly over any set
 * of groups). The sums are pure; reading tensors out of a model is at the bottom.
 */
import type { Model, ParameterInfo } from '../model/model.js';
import type { WeightGroup, WeightSums } from './types.js';

export const emptySums = (): WeightSums => ({ numel: 0, dot: 0, modelSq: 0, referenceSq: 0, diffSq: 0 });

/** Sums of model values a against reference values b (equally long). */
export function tensorSums(a: ArrayLike<number>, b: ArrayLike<number>): WeightSums {
  if (a.length !== b.length) throw new Error(`tensorSums: ${a.length} against ${b.length} values`);
  let dot = 0;
  let modelSq = 0;
  let referenceSq = 0;
  let diffSq = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    modelSq += x * x;
    referenceSq += y * y;
    diffSq += (x - y) * (x - y);
  }
  return { numel: a.length, dot, modelSq, referenceSq, diffSq };
}

export function addSums(into: WeightSums, s: WeightSums): WeightSums {
  into.numel += s.numel;
  into.dot += s.dot;
  into.modelSq += s.modelSq;
  into.referenceSq += s.referenceSq;
  into.diffSq += s.diffSq;
  return into;
}

/** |a - b| / |b|: null when the reference is all zeros. */
export const relativeDistance = (s: WeightSums): number | null => (s.referenceSq > 0 ? Math.sqrt(s.diffSq / s.referenceSq) : null);

/** a.b / (|a| |b|): null when either is all zeros. */
export const cosine = (s: WeightSums): number | null =>
  s.modelSq > 0 && s.referenceSq > 0 ? s.dot / Math.sqrt(s.modelSq * s.referenceSq) : null;

/** Groups keyed "layer|component", in parameter order. */
export function groupSums(entries: Iterable<{ p: Pick<ParameterInfo, 'layer' | 'component'>; sums: WeightSums }>): WeightGroup[] {
  const groups = new Map<string, WeightGroup>();
  for (const { p, sums } of entries) {
    const key = `${p.layer}|${p.component}`;
    const g = groups.get(key) ?? { layer: p.layer, component: p.component, sums: emptySums() };
    addSums(g.sums, sums);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** A model member's tensors by name (float32 copies), for the parameters `keep` selects. */
export async function readTensors(model: Model, member: number, keep: (p: ParameterInfo) => boolean): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of model.parameters()) if (keep(p)) out.set(p.name, await model.getParameter(p.name, { member }));
  return out;
}

/** A member's parameters against reference tensors (those the reference has), grouped by layer and component. */
export async function compareWithReference(
  model: Model,
  member: number,
  reference: ReadonlyMap<string, Float32Array>,
  keep: (p: ParameterInfo) => boolean = () => true,
): Promise<WeightGroup[]> {
  const entries: { p: ParameterInfo; sums: WeightSums }[] = [];
  for (const p of model.parameters()) {
    const ref = reference.get(p.name);
    if (!ref || !keep(p)) continue;
    entries.push({ p, sums: tensorSums(await model.getParameter(p.name, { member }), ref) });
  }
  return groupSums(entries);
}
