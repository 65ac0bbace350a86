/**
 * Evaluation passes that also gather representations: the same batches as the cell's own evaluation
 * (src/sweep/train.ts: examples sorted by length, the same batch size), so its logits and first-token
 * features are exactly those the cell computes without measurements, and every layer's pooled states of
 * the rows a measurement compares, from the same forward pass.
 */
import { collate } from '../data/batches.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import type { Model } from '../model/model.js';
import { lengthOrder } from '../sweep/train.js';
import { POOLINGS } from './types.js';

/** Every layer's pooled representations of n examples: (L + 1) x 2 x n x H, row-major, float32. */
export interface Representations {
  /** L + 1: the embeddings' output, then each encoder layer's. */
  depth: number;
  n: number;
  hidden: number;
  data: Float32Array;
}

/** The n x H block of one layer (-1: embeddings) and pooling. */
export function layerBlock(r: Representations, layer: number, pooling: (typeof POOLINGS)[number]): Float32Array {
  const size = r.n * r.hidden;
  const at = ((layer + 1) * POOLINGS.length + POOLINGS.indexOf(pooling)) * size;
  return r.data.subarray(at, at + size);
}

export interface LayerPass {
  /** Per member, row-major, in dataset order: the logits of every example. */
  logits: Float32Array[];
  width: number;
  /** Per member: the final first-token state of every example (what predict's 'cls' gives). */
  cls: Float32Array[];
  /** Per member: the representations of `rows`, in the order of `rows`. */
  representations: Representations[];
}

/**
 * One evaluation pass over `d` (every member of the model): logits and first-token features of all its
 * examples, and the layer representations of the examples `rows` (dataset indices).
 */
export async function passWithLayers(model: Model, d: TokenizedDataset, batchSize: number, rows: Int32Array): Promise<LayerPass> {
  const order = lengthOrder(d);
  const slot = new Map<number, number>();
  rows.forEach((example, k) => {
    slot.set(example, k);
  });
  const k = model.members;
  const depth = model.config.numLayers + 1;
  const hidden = model.config.hiddenSize;
  const n = rows.length;
  const representations = Array.from({ length: k }, () => ({ depth, n, hidden, data: new Float32Array(depth * 2 * n * hidden) }));
  const cls = Array.from({ length: k }, () => new Float32Array(d.size * hidden));
  let logits: Float32Array[] | undefined;
  let width = 0;
  for (let start = 0; start < d.size; start += batchSize) {
    const indices = order.subarray(start, Math.min(d.size, start + batchSize));
    const { labels: _, ...inputs } = collate(d, indices);
    const out = await model.predictLayersMembers(inputs);
    const b = indices.length;
    width = (out.logits[0] as Float32Array).length / b;
    logits ??= out.logits.map(() => new Float32Array(d.size * width));
    for (let m = 0; m < k; m++) {
      const source = out.layers[m] as Float32Array; // (L + 1, 2, B, H)
      const target = representations[m] as Representations;
      indices.forEach((example, row) => {
        (logits as Float32Array[])[m]?.set((out.logits[m] as Float32Array).subarray(row * width, (row + 1) * width), example * width);
        const last = ((depth - 1) * 2 + 1) * b; // the last layer's first-token block
        (cls[m] as Float32Array).set(source.subarray((last + row) * hidden, (last + row + 1) * hidden), example * hidden);
        const s = slot.get(example);
        if (s === undefined) return;
        for (let block = 0; block < depth * 2; block++)
          target.data.set(source.subarray((block * b + row) * hidden, (block * b + row + 1) * hidden), (block * n + s) * hidden);
      });
    }
  }
  return { logits: logits ?? [], width, cls, representations };
}
