/** What the fleet tests share (test/model/fleet.test.ts on the CPU lanes, test/gpu/fleet.test.ts on CUDA). */
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import type { Model, ParameterInfo, TrainingOptions } from '../../src/model/model.js';
import { isKeyBias, maxAbs, maxAbsDiff } from './fixtures.js';

export const LR = 1e-3;
export const STEPS = 3;

/** Rows of lengths 9, 4 and 6 padded to 9 (packing active), ids within every fixture's vocabulary. */
export function batch(pad: number, step: number, kind: 'class' | 'regression' | 'mlm', tokenTypes: boolean): Batch {
  const lengths = [9, 4, 6];
  const seqLen = 9;
  const inputIds = new Int32Array(lengths.length * seqLen).fill(pad);
  const attentionMask = new Uint8Array(lengths.length * seqLen);
  const tokenTypeIds = new Int32Array(lengths.length * seqLen);
  const mlmLabels = new Int32Array(lengths.length * seqLen).fill(-100);
  lengths.forEach((n, r) => {
    for (let k = 0; k < n; k++) {
      const i = r * seqLen + k;
      inputIds[i] = 5 + ((r * 17 + k * 7 + step * 13) % 55);
      attentionMask[i] = 1;
      tokenTypeIds[i] = k >= n / 2 ? 1 : 0;
      if ((k + step) % 3 === 1) mlmLabels[i] = inputIds[i] as number;
    }
  });
  const b: Batch = { batchSize: lengths.length, seqLen, inputIds, attentionMask, ...(tokenTypes ? { tokenTypeIds } : {}) };
  if (kind === 'mlm') return { ...b, mlmLabels };
  if (kind === 'regression') return { ...b, labels: Float32Array.from([0.5, 3.25, 1.5 + step]) };
  return { ...b, labels: Int32Array.from([step % 2, 1, 0]) };
}

/** What each member gets: a corruption (or none) and its training settings, as a sweep's recovery gives them. */
export interface MemberPlan {
  corruption: CorruptionSpec | null;
  trainable?: (p: ParameterInfo) => boolean;
  lrScale?: (p: ParameterInfo) => number;
}

export const PLANS: MemberPlan[] = [
  { corruption: null },
  { corruption: { method: 'gaussian', level: 0.5, targets: { layers: 0 } }, lrScale: (p) => (p.layer >= 0 ? 0.5 ** (1 - p.layer) : 0.25) },
  {
    corruption: { method: 'reinit', targets: { layers: 1 } },
    // freezeUncorrupted: only the corrupted layer and the head train.
    trainable: (p) => p.layer === 1 || p.isHead || p.component === 'pooler',
    lrScale: (p) => (p.layer === 1 ? 3 : 1),
  },
];

export const training = (plan: MemberPlan): TrainingOptions => ({
  lr: LR,
  weightDecay: 0.01,
  warmupSteps: 1,
  totalSteps: 10,
  maxGradNorm: 0.5,
  ...(plan.trainable ? { trainable: plan.trainable } : {}),
  ...(plan.lrScale ? { lrScale: plan.lrScale } : {}),
});

/**
 * A fleet of PLANS.length members and one solo model per plan, set up alike: each plan's corruption (seed 5)
 * in its member and in its solo model, and each plan's training settings (the fleet's per member).
 */
export async function preparePlans(fleet: Model, solos: Model[]): Promise<void> {
  for (const [k, plan] of PLANS.entries()) {
    if (!plan.corruption) continue;
    await corrupt(fleet, plan.corruption, { seed: 5, member: k });
    await corrupt(solos[k] as Model, plan.corruption, { seed: 5 });
  }
  await fleet.configureTraining({
    ...training({ corruption: null }),
    trainable: (p, k) => (PLANS[k]?.trainable ? (PLANS[k].trainable as (p: ParameterInfo) => boolean)(p) : true),
    lrScale: (p, k) => (PLANS[k]?.lrScale ? (PLANS[k].lrScale as (p: ParameterInfo) => number)(p) : 1),
  });
  for (const [k, solo] of solos.entries()) await solo.configureTraining(training(PLANS[k] as MemberPlan));
}

export /**
 * The worst relative difference over every parameter. Attention key biases are round-off noise that Adam
 * amplifies (see isKeyBias): they are checked apart, against the largest distance Adam can move them.
 */
async function worstParameterDifference(fleet: Model, member: number, solo: Model): Promise<{ name: string; relative: number }> {
  let worst = { name: '', relative: 0 };
  for (const p of solo.parameters()) {
    const [a, b] = [await fleet.getParameter(p.name, { member }), await solo.getParameter(p.name)];
    const diff = maxAbsDiff(a, b);
    if (isKeyBias(p.name)) {
      if (diff > 2 * STEPS * LR * 3) worst = { name: p.name, relative: Number.POSITIVE_INFINITY };
      continue;
    }
    const relative = diff / Math.max(maxAbs(b), 1e-3);
    if (relative > worst.relative) worst = { name: p.name, relative };
  }
  return worst;
}
