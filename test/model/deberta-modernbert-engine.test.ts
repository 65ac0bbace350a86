/**
 * DeBERTa's disentangled and ModernBERT's rotary attention through the engine's paths: packed padding (relative
 * positions and rotary angles are the padded layout's), fleets (every member trains as the same model alone),
 * ModernBERT's blocked sliding-window path against its one-mask path, and the fused kernels against the formula.
 * Dropout is on wherever the family has some (ModernBERT's embedding, attention, mlp and classifier dropouts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model, type ParameterInfo } from '../../src/model/model.js';
import { fixturesDir, isKeyBias, maxAbs, maxAbsDiff } from '../helpers/fixtures.js';
import { batch, LR, type MemberPlan, PLANS, STEPS, training, worstParameterDifference } from '../helpers/fleet.js';

const config = (name: string) => JSON.parse(readFileSync(join(fixturesDir, 'configs', `${name}.json`), 'utf8'));
const DROPOUTS = { embedding_dropout: 0.1, attention_dropout: 0.1, mlp_dropout: 0.1, classifier_dropout: 0.1 };
const CASES = [
  { name: 'deberta-v3', raw: config('deberta-v3-tiny'), tokenTypes: false },
  { name: 'deberta-v2', raw: config('deberta-v2-tiny'), tokenTypes: true },
  { name: 'modernbert', raw: { ...config('modernbert-tiny'), ...DROPOUTS }, tokenTypes: false },
  { name: 'modernbert-mean', raw: { ...config('modernbert-tiny-mean'), ...DROPOUTS }, tokenTypes: false },
];

/**
 * worstParameterDifference (helpers/fleet.ts; DeBERTa's key and position-key biases are key biases there,
 * helpers/fixtures.ts: isKeyBias), with the query and key thirds of ModernBERT's Wqkv bias checked against
 * Adam's reach too, as it checks key biases: rotated biases, whose gradients are near zero (measured 1.4e-5 to
 * 7e-5 against the value third's 8.6e-3 to 9.0e-3, modernbert-tiny-mean, seed 7), so that round-off in them
 * becomes up to lr of difference a step. The value third is checked with the rest.
 */
async function worstMemberDifference(fleet: Model, member: number, solo: Model): Promise<{ name: string; relative: number }> {
  const worst = await worstParameterDifference(fleet, member, solo);
  if (!/attn\.Wqkv\.bias$/.test(worst.name)) return worst;
  let result = { name: '', relative: 0 };
  for (const p of solo.parameters()) {
    const [a, b] = [await fleet.getParameter(p.name, { member }), await solo.getParameter(p.name)];
    if (isKeyBias(p.name)) continue; // worstParameterDifference checked them
    const roundOff = /attn\.Wqkv\.bias$/.test(p.name) ? (2 * p.numel) / 3 : 0;
    // lrScale up to 3 (PLANS), two lr a step at most.
    if (maxAbsDiff(a.subarray(0, roundOff), b.subarray(0, roundOff)) > 2 * STEPS * LR * 3)
      return { name: p.name, relative: Number.POSITIVE_INFINITY };
    const rest = maxAbsDiff(a.subarray(roundOff), b.subarray(roundOff)) / Math.max(maxAbs(b.subarray(roundOff)), 1e-3);
    if (rest > result.relative) result = { name: p.name, relative: rest };
  }
  return result;
}

/** The worst gradient difference relative to each tensor's largest (floored at 1e-6). */
function worstGradient(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { worst: number; name: string } {
  let [worst, name] = [0, ''];
  for (const [n, g] of b) {
    const d = maxAbsDiff(a.get(n) as Float32Array, g) / Math.max(maxAbs(g), 1e-6);
    if (d > worst) [worst, name] = [d, n];
  }
  return { worst, name };
}

for (const c of CASES) {
  test(`${c.name}: packed and padded give the same outputs, loss and gradients, with and without dropout`, async (t) => {
    const [packed, padded] = await Promise.all(
      [true, false].map((packPadding) => Model.fromConfig(c.raw, { packPadding, seed: 11, numLabels: 3 })),
    );
    try {
      const [p, q] = [packed as Model, padded as Model];
      const b = batch(0, 0, 'class', c.tokenTypes);
      const diff = maxAbsDiff(await p.predict(b), await q.predict(b));
      t.true(diff <= 1e-5, `logits differ by ${diff}`);
      for (const dropout of [false, true]) {
        const [x, y] = [await p.lossAndGradients(b, { dropout }), await q.lossAndGradients(b, { dropout })];
        t.true(Math.abs(x.loss - y.loss) <= 1e-5 * Math.max(1, Math.abs(y.loss)), `dropout ${dropout}: loss ${x.loss} vs ${y.loss}`);
        const g = worstGradient(x.gradients, y.gradients);
        t.log(
          `dropout ${dropout}: loss ${x.loss.toFixed(6)} vs ${y.loss.toFixed(6)}, worst gradient ${g.worst.toExponential(2)} (${g.name})`,
        );
        t.true(g.worst <= 1e-3, `dropout ${dropout}: worst relative gradient difference ${g.worst} (${g.name})`);
      }
    } finally {
      packed?.dispose();
      padded?.dispose();
    }
  });

  test(`${c.name}: every member of a fleet of 3 trains as the same model alone (corruption, freezing, lr scales, dropout)`, async (t) => {
    const options = { seed: 7, numLabels: 2 };
    const fleet = await Model.fromConfig(c.raw, { ...options, members: PLANS.length });
    const solos = await Promise.all(PLANS.map(() => Model.fromConfig(c.raw, options)));
    try {
      for (const [k, plan] of PLANS.entries()) {
        if (!plan.corruption) continue;
        const inFleet = await corrupt(fleet, plan.corruption, { seed: 5, member: k });
        const alone = await corrupt(solos[k] as Model, plan.corruption, { seed: 5 });
        t.deepEqual(inFleet.tensors, alone.tensors, `member ${k}: the same corruption report`);
      }
      const evalBatch = batch(0, 9, 'class', c.tokenTypes);
      const before = await fleet.predictMembers(evalBatch);
      for (const [k, solo] of solos.entries()) {
        const diff = maxAbsDiff(before[k] as Float32Array, await solo.predict(evalBatch));
        t.true(diff <= 1e-5, `member ${k}: outputs before training differ by ${diff}`);
      }
      await fleet.configureTraining({
        ...training({ corruption: null }),
        trainable: (p, k) => (PLANS[k]?.trainable ? (PLANS[k].trainable as (p: ParameterInfo) => boolean)(p) : true),
        lrScale: (p, k) => (PLANS[k]?.lrScale ? (PLANS[k].lrScale as (p: ParameterInfo) => number)(p) : 1),
      });
      for (const [k, solo] of solos.entries()) await solo.configureTraining(training(PLANS[k] as MemberPlan));
      for (let step = 0; step < STEPS; step++) {
        const b = batch(0, step, 'class', c.tokenTypes);
        const r = await fleet.trainStep(b);
        for (const [k, solo] of solos.entries()) {
          const s = await solo.trainStep(b);
          const lossDiff = Math.abs((r.losses[k] as number) - s.loss) / Math.abs(s.loss);
          t.true(lossDiff <= 1e-5, `member ${k} step ${step + 1}: loss ${r.losses[k]} alone ${s.loss}`);
        }
      }
      for (const [k, solo] of solos.entries()) {
        const worst = await worstMemberDifference(fleet, k, solo);
        t.true(worst.relative <= 1e-5, `member ${k}: ${worst.name} differs by ${worst.relative} relative after ${STEPS} steps`);
      }
    } finally {
      fleet.dispose();
      for (const s of solos) s.dispose();
    }
  });
}

/** One row of `n` tokens, alone or padded to `seqLen` after a second row of `m` tokens. */
function rows(n: number, m: number, seqLen: number): { alone: Batch; together: Batch } {
  const ids = (len: number, salt: number) => Array.from({ length: len }, (_, k) => (k === 0 ? 1 : 5 + ((k * 7 + salt) % 90)));
  const together: Batch = {
    batchSize: 2,
    seqLen,
    inputIds: Int32Array.from([...ids(n, 3), ...Array(seqLen - n).fill(0), ...ids(m, 11), ...Array(seqLen - m).fill(0)]),
    attentionMask: Uint8Array.from([...Array(n).fill(1), ...Array(seqLen - n).fill(0), ...Array(m).fill(1), ...Array(seqLen - m).fill(0)]),
  };
  return { alone: { batchSize: 1, seqLen: n, inputIds: Int32Array.from(ids(n, 3)) }, together };
}

test("ModernBERT's sliding window: a 40-token row alone (one band mask) and padded to 100 tokens (blocks of queries) give the same outputs, for both poolings and with the fused kernels on and off", async (t) => {
  const { alone, together } = rows(40, 100, 100);
  for (const name of ['modernbert-tiny', 'modernbert-tiny-mean']) {
    for (const fusedAttention of [true, false]) {
      for (const packPadding of [true, false]) {
        const m = await Model.fromConfig(config(name), { seed: 3, fusedAttention, packPadding });
        try {
          const a = await m.predict(alone);
          const b = (await m.predict(together)).subarray(0, a.length);
          const diff = maxAbsDiff(a, b);
          t.true(diff <= 1e-5, `${name} fused ${fusedAttention} packed ${packPadding}: ${diff}`);
          const cls = maxAbsDiff(await m.predict(alone, { output: 'cls' }), (await m.predict(together, { output: 'cls' })).subarray(0, 32));
          t.true(cls <= 1e-5, `${name}: first-token states differ by ${cls}`);
        } finally {
          m.dispose();
        }
      }
    }
  }
});

test('the fused kernels (libtorch 2.x) and the attention formula agree for both families, training included', async (t) => {
  for (const c of CASES) {
    const [fused, formula] = await Promise.all([true, false].map((fusedAttention) => Model.fromConfig(c.raw, { seed: 5, fusedAttention })));
    try {
      const b = batch(0, 1, 'class', c.tokenTypes);
      const diff = maxAbsDiff(await (fused as Model).predict(b), await (formula as Model).predict(b));
      t.true(diff <= 1e-5, `${c.name}: logits differ by ${diff}`);
      const [x, y] = [await (fused as Model).lossAndGradients(b), await (formula as Model).lossAndGradients(b)];
      const g = worstGradient(x.gradients, y.gradients);
      t.true(g.worst <= 1e-3, `${c.name}: gradient of ${g.name} differs by ${g.worst}`);
    } finally {
      fused?.dispose();
      formula?.dispose();
    }
  }
});
