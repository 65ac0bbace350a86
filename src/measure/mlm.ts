/**
 * Knowledge beyond the task: how well an encoder still predicts masked words under the checkpoint's own MLM
 * head. A second model holds the checkpoint with its head (one member per cell of the fleet); a cell's
 * encoder (embeddings and layers) is copied into it before each evaluation, so the head stays the original
 * and the cell's own model is never touched. The word embeddings are copied too: where the decoder is tied
 * to them (BERT's default), the decoder is the cell's.
 */
import type { Batch } from '../batch.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import type { Model, ParameterInfo } from '../model/model.js';
import { maskedBatch } from '../pretrain/masking.js';
import type { SpecialIds } from '../pretrain/pack.js';
import type { MlmScores } from './types.js';

/** The masks are the same in every cell and every run: a fixed seed, one stream per batch. */
const MASK_SEED = 0x6d6c6d;

export interface MlmProbe {
  batches: Batch[];
  /** Masked positions over all batches. */
  positions: number;
}

/** BERT-masked batches of the examples `rows` of `d` (15% of ordinary tokens; 80% [MASK], 10% random, 10% kept). */
export function mlmProbe(d: TokenizedDataset, rows: Int32Array, specials: SpecialIds, batchSize: number): MlmProbe {
  const batches: Batch[] = [];
  let positions = 0;
  for (let start = 0, stream = 0; start < rows.length; start += batchSize, stream++) {
    const indices = rows.subarray(start, Math.min(rows.length, start + batchSize));
    const b = maskedBatch(d, indices, specials, { seed: MASK_SEED, stream });
    // maskedBatch leaves token types out (pre-training packs single segments); a task's pairs need theirs.
    const tokenTypeIds = new Int32Array(b.batchSize * b.seqLen);
    indices.forEach((example, r) => {
      const from = d.offsets[example] as number;
      const to = d.offsets[example + 1] as number;
      tokenTypeIds.set(d.typeIds.subarray(from, to), r * b.seqLen);
    });
    for (const label of b.mlmLabels as Int32Array) if (label !== -100) positions++;
    batches.push({ ...b, tokenTypeIds });
  }
  return { batches, positions };
}

/** The parameters an encoder is: everything but the task head, the pooler and the MLM head. */
export const isEncoder = (p: ParameterInfo) => !p.isHead && p.component !== 'pooler' && !p.component.startsWith('mlm.');

/** Copies member `fromMember`'s encoder into member `toMember` of the MLM model. */
export async function copyEncoder(from: Model, fromMember: number, to: Model, toMember: number): Promise<void> {
  for (const p of to.parameters()) {
    if (!isEncoder(p)) continue;
    await to.setParameter(p.name, await from.getParameter(p.name, { member: fromMember }), { member: toMember });
  }
}

/** Each member's mean loss and accuracy over the probe's masked positions. */
export async function scoreMlm(mlm: Model, probe: MlmProbe): Promise<MlmScores[]> {
  const loss = new Float64Array(mlm.members);
  const correct = new Float64Array(mlm.members);
  let count = 0;
  for (const batch of probe.batches) {
    const r = await mlm.evaluateMlm(batch);
    for (let m = 0; m < mlm.members; m++) {
      loss[m] = (loss[m] as number) + (r.lossSums[m] as number);
      correct[m] = (correct[m] as number) + (r.corrects[m] as number);
    }
    count += r.count;
  }
  return Array.from({ length: mlm.members }, (_, m) => ({ loss: (loss[m] as number) / count, accuracy: (correct[m] as number) / count }));
}
