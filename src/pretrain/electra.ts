/**
 * ELECTRA pre-training (replaced-token detection, Clark et al. 2020) for `healbert pretrain --objective
 * electra`: the model (an ELECTRA discriminator with a generator that shares its embedding tables; the engine's
 * loss: native/engine/model_electra.cc), its held-out evaluation, and the two folders it saves.
 */
import { existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawConfig } from '../model/config.js';
import { GENERATOR_PREFIX } from '../model/layout.js';
import type { Model } from '../model/model.js';
import { maskedBatch } from './masking.js';
import { bertConfig, type PretrainArchitecture } from './model-config.js';
import type { PackedCorpus } from './pack.js';

/** The discriminator's sizes (the generator's follow from them, generatorSizes). */
export type ElectraArchitecture = PretrainArchitecture;

/**
 * The generator's sizes for a share of the discriminator's width (the paper's default for small models: 1/4):
 * hidden size share x hidden (a multiple of 64 / heads where it can be), as many layers, heads of 64 where the
 * width allows (at least 1), FFN 4 x its hidden size.
 */
export function generatorSizes(a: ElectraArchitecture, share: number) {
  const headDim = a.hidden / a.heads;
  const heads = Math.max(1, Math.round((a.heads * share) as number));
  const hidden = heads * headDim;
  return { hidden_size: hidden, num_attention_heads: heads, intermediate_size: 4 * hidden, num_hidden_layers: a.layers };
}

/** config.json of an ELECTRA pre-training model (healbert's checkpoints): the discriminator's, and the generator's sizes. */
export function electraConfig(
  vocabSize: number,
  a: ElectraArchitecture,
  padId: number,
  generatorShare: number,
  rtdWeight: number,
): RawConfig {
  return {
    ...bertConfig(vocabSize, a, padId),
    model_type: 'electra',
    architectures: ['ElectraForPreTraining'],
    embedding_size: a.hidden,
    healbert_generator: generatorSizes(a, generatorShare),
    healbert_rtd_weight: rtdWeight,
  };
}

/** Area under the ROC curve of scores for the positive labels (1) against the negative (0), ties counted half. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1; // the tied run's mean rank, 1-based
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** ELECTRA's held-out evaluation: the generator's MLM loss and accuracy and the discriminator's accuracy and AUC. */
export interface ElectraEval {
  /** The generator's held-out MLM loss (mean over masked tokens) and accuracy. */
  loss: number;
  accuracy: number;
  count: number;
  /** The discriminator's accuracy over every real token, its AUC on replaced tokens, and their share. */
  discriminator: { accuracy: number; auc: number; replaced: number; tokens: number };
}

/** Held-out evaluation on fixed sequences, masks (15%) and replacement draws, so that steps compare. */
export async function evaluateElectra(
  model: Model,
  corpus: PackedCorpus,
  options: { evalSequences?: number; batchSize: number; seed: number },
): Promise<ElectraEval> {
  const n = Math.min(options.evalSequences ?? 512, corpus.heldOut.size);
  let [lossSum, correct, count, right, tokens, replaced] = [0, 0, 0, 0, 0, 0];
  const logits: number[] = [];
  const labels: number[] = [];
  for (let start = 0; start < n; start += options.batchSize) {
    const indices = Array.from({ length: Math.min(options.batchSize, n - start) }, (_, k) => start + k);
    const batch = maskedBatch(corpus.heldOut, indices, corpus.specials, { seed: options.seed + 1_000_003, stream: start });
    const r = await model.evaluateElectra(batch, options.seed + 2_000_003 + start);
    lossSum += r.generatorLossSum;
    correct += r.generatorCorrect;
    count += r.masked;
    r.rtdLogits.forEach((z, i) => {
      const y = r.rtdLabels[i] as number;
      if ((z > 0 ? 1 : 0) === y) right++;
      replaced += y;
      logits.push(z);
      labels.push(y);
    });
    tokens += r.rtdLogits.length;
  }
  return {
    loss: lossSum / count,
    accuracy: correct / count,
    count,
    discriminator: { accuracy: right / tokens, auc: rocAuc(logits, labels), replaced: replaced / tokens, tokens },
  };
}

const TOKENIZER_FILES = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

async function withTokenizer(dir: string, tokenizer: string): Promise<void> {
  for (const file of TOKENIZER_FILES)
    if (existsSync(join(tokenizer, file)) && !existsSync(join(dir, file))) await copyFile(join(tokenizer, file), join(dir, file));
}

/**
 * The two folders transformers loads: <out>/model, the discriminator (ElectraForPreTraining; every healbert
 * command takes it as an ELECTRA model), and <out>/generator (ElectraForMaskedLM, the shared embeddings with the
 * generator's layers and head).
 */
export async function saveElectraFolders(
  model: Model,
  out: string,
  tokenizer: string,
  dtype: 'float32' | 'float16' | 'bfloat16',
): Promise<{ discriminator: string; generator: string }> {
  const generatorSizes = model.rawConfig.healbert_generator as Record<string, number>;
  const withoutGenerator = (raw: RawConfig) => {
    const { healbert_generator: _g, healbert_rtd_weight: _w, id2label: _i, label2id: _l, problem_type: _p, ...rest } = raw;
    return rest;
  };
  const discriminator = join(out, 'model');
  await rm(discriminator, { recursive: true, force: true });
  await model.save(discriminator, {
    architecture: 'ElectraForPreTraining',
    dtype,
    skip: (p) => p.network === 1 || p.component === 'classifier' || p.component === 'classifier.dense',
    config: withoutGenerator,
  });
  await withTokenizer(discriminator, tokenizer);
  const generator = join(out, 'generator');
  await rm(generator, { recursive: true, force: true });
  const shared = (p: { network?: number; component: string }) => p.network === 1 || p.component.startsWith('embeddings.');
  await model.save(generator, {
    architecture: 'ElectraForMaskedLM',
    dtype,
    skip: (p) => !shared(p) || p.component === 'embeddings.projection',
    rename: (p) => (p.name.startsWith(GENERATOR_PREFIX) ? p.name.slice(GENERATOR_PREFIX.length) : p.name),
    config: (raw) => ({ ...withoutGenerator(raw), ...generatorSizes, architectures: ['ElectraForMaskedLM'] }),
  });
  await withTokenizer(generator, tokenizer);
  return { discriminator, generator };
}
