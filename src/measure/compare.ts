/**
 * CKA by layer between two sets of representations of the same examples: every layer (the embeddings'
 * output first) and both poolings. A set's Gram statistics are computed once and kept with it, so a
 * reference compared with many sets (the clean model with every corrupted one) costs one Gram per layer.
 * The Gram matrices come from the engine (float64 products through libtorch's BLAS: a bert-base layer of 512
 * examples is 0.2 GFLOP, seconds in a JavaScript loop) or, without one, from cka.ts's own loop.
 */
import { type CkaEstimator, ckaFromStats, type GramStats, gramStats, statsFromCentredGram } from './cka.js';
import { layerBlock, type Representations } from './passes.js';
import { type CkaLayer, POOLINGS } from './types.js';

/** (n, d) float32 features -> their centred Gram matrix (n, n) in float64 (loadNative().centredGram). */
export type GramEngine = (features: Float32Array, n: number, d: number) => Promise<Float64Array>;

const grams = new WeakMap<Representations, Map<CkaEstimator, Promise<GramStats[]>>>();

/** Gram statistics of every (layer, pooling) block, in block order, computed once per set and estimator. */
function statsOf(r: Representations, estimator: CkaEstimator, engine: GramEngine | undefined): Promise<GramStats[]> {
  const byEstimator = grams.get(r) ?? new Map<CkaEstimator, Promise<GramStats[]>>();
  grams.set(r, byEstimator);
  const known = byEstimator.get(estimator);
  if (known) return known;
  const stats = (async () => {
    const out: GramStats[] = [];
    for (let layer = -1; layer < r.depth - 1; layer++)
      for (const pooling of POOLINGS) {
        const block = layerBlock(r, layer, pooling);
        out.push(
          engine ? statsFromCentredGram(await engine(block, r.n, r.hidden), r.n, estimator) : gramStats(block, r.n, r.hidden, estimator),
        );
      }
    return out;
  })();
  byEstimator.set(estimator, stats);
  return stats;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** CKA of a and b for every layer, both poolings. */
export async function ckaByLayer(
  a: Representations,
  b: Representations,
  estimator: CkaEstimator,
  engine?: GramEngine,
): Promise<CkaLayer[]> {
  if (a.depth !== b.depth || a.n !== b.n)
    throw new Error(`ckaByLayer: sets of ${a.depth} layers x ${a.n} examples and ${b.depth} x ${b.n}`);
  const [sa, sb] = [await statsOf(a, estimator, engine), await statsOf(b, estimator, engine)];
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
