/**
 * The demo's sweep: the paper's questions on one model and SST-2. On the CPU with the bundled mini-BERT
 * it is sized to finish in minutes on two cores; with --device cuda and a real checkpoint it runs the
 * full-size version (the whole training set, more layer sets, levels and seeds).
 *
 * Two protocols, the same corruptions, seeds, task and recipe: `pretrained` (the paper's: corrupt the
 * pretrained model, fine-tune, compare with the clean model fine-tuned) and `finetuned` (fine-tune the clean
 * model into a task model, corrupt it, heal it by `healEpochs` more epochs, compare with the control: the
 * task model healed alike, uncorrupted). Each protocol has its own sweep name and default folder, so that
 * their cells never meet in one analysis.
 */
import { join } from 'node:path';
import type { DtypeChoice } from '../dtype/choose.js';
import { HealbertError } from '../errors.js';
import type { MeasureSpec } from '../measure/spec.js';
import { packageRoot } from '../native/binding.js';
import type { Protocol, SweepSpec } from '../sweep/types.js';

export const bundledModel = join(packageRoot, 'models', 'mini-bert');
export const bundledData = join(packageRoot, 'demo', 'data');

export interface DemoOptions {
  model: string;
  data: string;
  device: string;
  /** Encoder layers of the model (decides the layer sets). */
  layers: number;
  seeds?: number;
  trainExamples?: number;
  epochs?: number;
  /** Compute dtype (default auto: bfloat16 on CUDA and on CPUs where bf16 measures faster). */
  dtype?: DtypeChoice;
  /** Default pretrained (the paper's protocol). */
  protocol?: Protocol;
  /** finetuned protocol only: epochs of healing after corruption (default 1). */
  healEpochs?: number;
  /** What each cell measures beyond its scores (default: CKA by layer on 512 dev examples; null: nothing). */
  measure?: MeasureSpec | null;
}

/**
 * Seeds per condition: 6, the fewest with which the exact sign-flip test of a paired comparison can reach
 * p < 0.05 (its smallest p is 2 / 2^n: 0.25 with 3 seeds, 0.0625 with 5, 0.031 with 6).
 */
export const DEMO_SEEDS = 6;

/** The demo's representation view: CKA by layer of 512 dev examples, before and after healing. */
export const DEMO_MEASURE: MeasureSpec = { cka: { examples: 512 } };

/** The default results folder of each protocol: distinct, so that a rerun of one never resumes the other. */
export const demoOutDefault = (protocol: Protocol) => (protocol === 'finetuned' ? 'healbert-demo-finetuned' : 'healbert-demo');

/** k values for bottom-k / top-k: 1, 2, a quarter and half of the depth (distinct, below the depth). */
export function layerCounts(depth: number, full: boolean): number[] {
  const ks = full ? [1, 2, Math.round(depth / 4), Math.round(depth / 2)] : [1, 2];
  return [...new Set(ks)].filter((k) => k >= 1 && k < depth).sort((a, b) => a - b);
}

export function demoSpec(o: DemoOptions): SweepSpec {
  const full = o.device.startsWith('cuda');
  const ks = layerCounts(o.layers, full);
  const trainExamples = o.trainExamples ?? (full ? undefined : 1500);
  const protocol = o.protocol ?? 'pretrained';
  if (protocol !== 'finetuned' && o.healEpochs !== undefined)
    throw new HealbertError('ERR_ARGUMENT', 'healEpochs: only the finetuned protocol heals (the pretrained protocol fine-tunes once)');
  return {
    name: `${full ? 'healing-demo-full' : 'healing-demo'}${protocol === 'finetuned' ? '-finetuned' : ''}`,
    protocol,
    models: [{ name: 'model', path: o.model }],
    tasks: [{ name: 'sst2', data: o.data, ...(trainExamples ? { trainExamples } : {}) }],
    corruptions: [
      // The paper's protocol: re-initialise whole layers as fresh layers, bottom or top of the encoder.
      { method: 'reinit', label: 'reinit', targets: {}, vary: { 'targets.layers': ks.flatMap((k) => [`bottom:${k}`, `top:${k}`]) } },
      // Gaussian noise relative to each tensor's std, in every layer, at increasing levels.
      {
        method: 'gaussian',
        relative: true,
        label: 'gaussian',
        targets: { layers: 'all' },
        vary: { level: full ? [0.25, 0.5, 1, 2] : [0.25, 0.5, 1] },
      },
    ],
    seeds: Array.from({ length: o.seeds ?? DEMO_SEEDS }, (_, i) => i),
    // lr 1e-4 on the CPU: the mini-BERT's analogue of bert-base's 2e-5, a rate that adapts pre-trained features
    // in the demo's few steps but cannot train the architecture from scratch in them (random initialisation
    // stays at the majority class there), which is the regime the paper studies; at 3e-4 a random
    // initialisation learns nearly as well as the pre-trained model (models/mini-bert/README.md has both).
    // On the CPU, batches of similar length cut the padding of SST-2's short phrases (median 10 tokens).
    recipe: full
      ? { epochs: o.epochs ?? 3, lr: 2e-5, batchSize: 32, maxLength: 128 }
      : { epochs: o.epochs ?? 3, lr: 1e-4, batchSize: 32, maxLength: 64, groupByLength: true },
    ...(protocol === 'finetuned' ? { recovery: { healEpochs: o.healEpochs ?? 1 } } : {}),
    ...(o.measure === null ? {} : { measure: o.measure ?? DEMO_MEASURE }),
    device: o.device,
    dtype: o.dtype ?? 'auto',
  };
}
