/**
 * Masked-language-model batches: BERT's recipe, as transformers' DataCollatorForLanguageModeling applies
 * it: each non-special token is selected with probability 0.15; of the selected, 80% become [MASK], 10% a
 * random token, 10% stay; labels hold the original ids at selected positions and -100 elsewhere.
 * Deterministic given the seed (dynamic masking: a new mask every time a sequence is seen).
 */
import type { Batch } from '../batch.js';
import { seededRandom } from '../data/random.js';
import type { TokenizedDataset } from '../data/tokenized.js';
import type { SpecialIds } from './pack.js';

export interface MaskOptions {
  probability?: number;
  seed: number;
  /** A stream number (e.g. the global step), so every batch gets its own masks. */
  stream: number;
  /** Pad every batch to this length (default: the longest sequence in the batch). */
  fixedLength?: number;
}

export function maskedBatch(dataset: TokenizedDataset, indices: ArrayLike<number>, specials: SpecialIds, options: MaskOptions): Batch {
  const p = options.probability ?? 0.15;
  const random = seededRandom(options.seed, options.stream);
  const b = indices.length;
  let t = options.fixedLength ?? 0;
  for (let r = 0; r < b; r++) {
    const i = indices[r] as number;
    t = Math.max(t, (dataset.offsets[i + 1] as number) - (dataset.offsets[i] as number));
  }
  const inputIds = new Int32Array(b * t).fill(specials.pad);
  const attentionMask = new Uint8Array(b * t);
  const mlmLabels = new Int32Array(b * t).fill(-100);
  let selected = 0;
  let firstCandidate = -1;
  for (let r = 0; r < b; r++) {
    const i = indices[r] as number;
    const start = dataset.offsets[i] as number;
    const len = (dataset.offsets[i + 1] as number) - start;
    for (let k = 0; k < len; k++) {
      const at = r * t + k;
      const id = dataset.ids[start + k] as number;
      inputIds[at] = id;
      attentionMask[at] = 1;
      if (id === specials.cls || id === specials.sep || id === specials.pad) continue;
      if (firstCandidate < 0) firstCandidate = at;
      if (random() >= p) continue;
      selected++;
      mlmLabels[at] = id;
      const roll = random();
      if (roll < 0.8) inputIds[at] = specials.mask;
      else if (roll < 0.9) inputIds[at] = Math.floor(random() * specials.vocabSize);
    }
  }
  // A batch with no selected token would carry no loss: select its first ordinary token.
  if (selected === 0 && firstCandidate >= 0) {
    mlmLabels[firstCandidate] = inputIds[firstCandidate] as number;
    inputIds[firstCandidate] = specials.mask;
  }
  return { batchSize: b, seqLen: t, inputIds, attentionMask, mlmLabels };
}
