import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../src/batch.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import type { Model } from '../../src/model/model.js';
import { parseHeader } from '../../src/model/safetensors.js';
import { packageRoot } from '../../src/native/binding.js';

export const fixturesDir = join(packageRoot, 'test', 'fixtures');
export const modelFixture = (name: string) => join(fixturesDir, 'models', name);

/** Reads every tensor of a small safetensors file (F32 as Float32Array, I64 as number[]), plus its metadata. */
export function readTensors(path: string): {
  tensors: Map<string, { shape: number[]; data: Float32Array | number[] }>;
  metadata: Record<string, string>;
} {
  const bytes = readFileSync(path);
  const headerSize = Number(bytes.readBigUInt64LE(0));
  const header = parseHeader(path, bytes.subarray(8, 8 + headerSize), bytes.length);
  const tensors = new Map<string, { shape: number[]; data: Float32Array | number[] }>();
  for (const t of header.tensors.values()) {
    const slice = bytes.subarray(t.offset, t.offset + t.nbytes);
    const copy = new Uint8Array(slice).buffer;
    const data = t.dtype === 'F32' ? new Float32Array(copy) : Array.from(new BigInt64Array(copy), Number);
    tensors.set(t.name, { shape: t.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** Max |a - b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** A batch from a parity fixture's input tensors. */
export function fixtureBatch(
  tensors: Map<string, { shape: number[]; data: Float32Array | number[] }>,
  options: { tokenTypes: boolean; regression: boolean; mlm?: boolean },
): Batch {
  const ids = tensors.get('input_ids');
  const mask = tensors.get('attention_mask');
  const types = tensors.get('token_type_ids');
  const labels = tensors.get('labels');
  if (!ids || !mask || !types || !labels) throw new Error('fixture lacks inputs');
  const [batchSize, seqLen] = ids.shape as [number, number];
  return {
    batchSize,
    seqLen,
    inputIds: Int32Array.from(ids.data),
    attentionMask: Uint8Array.from(mask.data),
    ...(options.tokenTypes ? { tokenTypeIds: Int32Array.from(types.data) } : {}),
    ...(options.mlm
      ? { mlmLabels: Int32Array.from(labels.data) }
      : { labels: options.regression ? Float32Array.from(labels.data) : Int32Array.from(labels.data) }),
  };
}

/**
 * Attention key biases get no gradient in exact arithmetic (adding q.b_k to every score of a row does not
 * change its softmax), so their reference gradients are round-off noise (~1e-9) and Adam, which divides by
 * sqrt(v), turns that noise into updates of up to lr per step in either direction. Comparing them relatively
 * would compare noise with noise: their gradients are checked against the model's gradient scale instead,
 * and their parameters against the largest distance Adam can move them. DeBERTa's too: its pos_key_proj bias
 * adds q.b to every c2p score of a row (no gradient in exact arithmetic), and its key_proj bias reaches the
 * scores other than through q.b only by the p2c term, b.Pq[r(i, j)] (no gradient without p2c; measured 3e-14
 * then, and 6e-9 against the query bias's 8e-7 with it, deberta-v2-tiny).
 */
export const isKeyBias = (name: string) =>
  /(attention\.self\.key|attention\.k_lin|attention\.key|attention\.self\.key_proj|attention\.self\.pos_key_proj)\.bias$/.test(name);

/** A small BERT (3 layers, hidden 128) with fresh weights: the corruption tests' model. */
export const SMALL_BERT_CONFIG = {
  model_type: 'bert',
  vocab_size: 1000,
  hidden_size: 128,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  intermediate_size: 512,
  max_position_embeddings: 64,
  type_vocab_size: 2,
  num_labels: 2,
};

/**
 * Every corruption method, masked and not, every init, both bit sets: what every path (tensor ops, the
 * kernel on the host, the kernel on CUDA) must reproduce byte for byte. The last two are scaled by each
 * tensor's std, a device reduction: other devices may differ in its last bit (README).
 */
export const CORRUPTION_PATH_SPECS: CorruptionSpec[] = [
  { method: 'gaussian', level: 0.1, targets: { layers: 'all' } },
  { method: 'gaussian', level: 0.1, fraction: 0.3, targets: { layers: [0, 2] } },
  { method: 'reinit', targets: { layers: 'all', include: ['embeddings'] } },
  { method: 'reinit', init: 'bert-normal', fraction: 0.5, targets: { layers: 1 } },
  { method: 'reinit', init: 'kaiming-0', targets: { layers: 0 } },
  { method: 'zero', fraction: 0.25, targets: { layers: 'all' } },
  { method: 'scale', level: 0.5, fraction: 0.6, targets: { layers: 2 } },
  { method: 'sign-flip', targets: { layers: 1 } },
  { method: 'bit-flip', level: 0.02, targets: { layers: 'all' } },
  { method: 'bit-flip', level: 0.3, bits: 'exponent', fraction: 0.5, targets: { layers: 0 } },
  { method: 'gaussian', level: 0.2, relative: true, fraction: 0.5, targets: { layers: 'all' } },
  { method: 'uniform', level: 0.3, targets: { layers: [1, 2] } },
];

/** The training recipe a parity reference records in its metadata (test/fixtures/parity/generate.py). */
export interface ReferenceRecipe {
  adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  schedule: { warmup_steps: number; total_steps: number };
  maxGradNorm: number;
}

/** Sets up a model's training exactly as the reference trained (AdamW, decay, schedule, clipping). */
export function configureAsReference(model: Model, r: ReferenceRecipe): Promise<void> {
  return model.configureTraining({
    lr: r.adamw.lr,
    beta1: r.adamw.betas[0],
    beta2: r.adamw.betas[1],
    eps: r.adamw.eps,
    weightDecay: r.adamw.weight_decay,
    warmupSteps: r.schedule.warmup_steps,
    totalSteps: r.schedule.total_steps,
    maxGradNorm: r.maxGradNorm,
  });
}
