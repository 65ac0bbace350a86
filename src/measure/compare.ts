/**
 * CKA by layer between two sets of representations of the same examples: every layer (the embeddings'
 * output first) and both poolings. A set's Gram statistics are computed once and kept with it, so a
 * reference compared with many sets (the clean model with every corrupted one) costs one Gram per layer.
 */
import { type CkaEstimator, ckaFromStats, type GramStats, gramStats } from './cka.js';
import { layerBlock, type Representations } from './passes.js';
import { type CkaLayer, POOLINGS } from './types.js';

const grams = new WeakMap<Representations, Map<CkaEstimator, GramStats[]>>();

/** Gram statistics of every (layer, pooling) block, in block order, computed once per set and estimator. */
function statsOf(r: Representations, estimator: CkaEstimator): GramStats[] {
  const byEstimator = grams.get(r) ?? new Map<CkaEstimator, GramStats[]>();
  grams.set(r, byEstimator);
  const known = byEstimator.get(estimator);
  if (known) return known;
  const stats: GramStats[] = [];
  for (let layer = -1; layer < r.depth - 1; layer++)
    for (const pooling of POOLINGS) stats.push(gramStats(layerBlock(r, layer, pooling), r.n, r.hidden, estimator));
  byEstimator.set(estimator, stats);
  return stats;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** CKA of a and b for every layer, both poolings. */
export function ckaByLayer(a: Representations, b: Representations, estimator: CkaEstimator): CkaLayer[] {
  if (a.depth !== b.depth || a.n !== b.n)
    throw new Error(`ckaByLayer: sets of ${a.depth} layers x ${a.n} examples and ${b.depth} x ${b.n}`);
  const sa = statsOf(a, estimator);
  const sb = statsOf(b, estimator);
  const rows: CkaLayer[] = [];
  for (let layer = -1; layer < a.depth - 1; layer++) {
    const at = (layer + 1) * POOLINGS.length;
    rows.push({
      layer,
      mean: finite(ckaFromStats(sa[at] as GramStats, sb[at] as GramStats)),
      first: finite(ckaFromStats(sa[at + 1] as GramStats, sb[at + 1] as GramStats)),
    });
  }
  return rows;
}
