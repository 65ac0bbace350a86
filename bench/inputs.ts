/** Inputs the benchmarks share: bert-base's configuration and seeded random batches. */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../src/batch.js';
import type { RawConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';

export function bertBaseConfig(): RawConfig {
  return JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', 'bert-base-uncased.json'), 'utf8'));
}

/** A Hugging Face folder at `dir`: bert-base shapes, random weights (seed 0), the bert-base-uncased tokenizer. */
export async function randomBertBaseFolder(dir: string): Promise<string> {
  const model = await Model.fromConfig(bertBaseConfig(), { seed: 0 });
  await model.save(dir);
  model.dispose();
  for (const f of ['vocab.txt', 'tokenizer_config.json'])
    copyFileSync(join(packageRoot, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased', f), join(dir, f));
  return dir;
}

/**
 * (B, T) random token ids in [1000, 30000), no padding, two labels; with `mlm`, 15% of the positions
 * masked ([MASK] = 103) with their original ids as labels, as a pre-training batch has.
 */
export function randomBatch(b: number, t: number, seed: number, options: { mlm?: boolean } = {}): Batch {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s;
  };
  const inputIds = Int32Array.from({ length: b * t }, () => 1000 + (next() % 29000));
  const batch: Batch = {
    batchSize: b,
    seqLen: t,
    inputIds,
    attentionMask: new Uint8Array(b * t).fill(1),
    tokenTypeIds: new Int32Array(b * t),
  };
  if (!options.mlm) return { ...batch, labels: Int32Array.from({ length: b }, () => next() % 2) };
  const mlmLabels = new Int32Array(b * t).fill(-100);
  for (let i = 0; i < b * t; i++) {
    if (next() % 100 < 15) {
      mlmLabels[i] = inputIds[i] as number;
      inputIds[i] = 103;
    }
  }
  return { ...batch, mlmLabels };
}
