/**
 * Fleets (LoadOptions.members): K members of one model trained in one batched step. Every member must train
 * as the same model alone would: the same corruption noise, the same dropout masks, its own trainable set,
 * learning-rate scales and gradient clipping, and parameters after three steps within 1e-5 relative.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model, type ParameterInfo } from '../../src/model/model.js';
import { tempDir } from '../helpers/checkpoints.js';
import { maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { batch, type MemberPlan, PLANS, STEPS, training, worstParameterDifference } from '../helpers/fleet.js';

const CASES = [
  { name: 'tiny-bert', pad: 0, kind: 'class', tokenTypes: true },
  { name: 'tiny-roberta', pad: 1, kind: 'class', tokenTypes: false },
  { name: 'tiny-distilbert', pad: 0, kind: 'class', tokenTypes: false },
  { name: 'tiny-bert-regression', pad: 0, kind: 'regression', tokenTypes: true },
  { name: 'tiny-bert-mlm', pad: 0, kind: 'mlm', tokenTypes: true },
] as const;

const loadOptions = (c: (typeof CASES)[number]) => ({
  seed: 7,
  ...(c.kind === 'mlm' ? { mlmHead: true } : {}),
  ...(c.kind === 'regression' ? { problemType: 'regression' as const, numLabels: 1 } : {}),
});

for (const c of CASES) {
  test(`${c.name}: every member of a fleet of 3 trains as the same model alone (corruption, freezing, lr scales, dropout, clipping)`, async (t) => {
    const fleet = await Model.load(modelFixture(c.name), { ...loadOptions(c), members: PLANS.length });
    const solos = await Promise.all(PLANS.map(() => Model.load(modelFixture(c.name), loadOptions(c))));
    try {
      t.is(fleet.members, PLANS.length);
      t.is(fleet.engineInfo().members, PLANS.length);
      for (const [k, plan] of PLANS.entries()) {
        if (!plan.corruption) continue;
        const inFleet = await corrupt(fleet, plan.corruption, { seed: 5, member: k });
        const alone = await corrupt(solos[k] as Model, plan.corruption, { seed: 5 });
        t.deepEqual(inFleet.tensors, alone.tensors, `member ${k}: the same corruption report`);
      }
      // The corruption touched only its member, with the bytes the solo model got.
      for (const [k, solo] of solos.entries())
        t.is((await worstParameterDifference(fleet, k, solo)).relative, 0, `member ${k} after corruption`);

      const evalBatch = batch(c.pad, 9, c.kind, c.tokenTypes);
      const output = c.kind === 'mlm' ? ('mlm' as const) : ('logits' as const);
      const before = await fleet.predictMembers(evalBatch, { output });
      for (const [k, solo] of solos.entries()) {
        const diff = maxAbsDiff(before[k] as Float32Array, await solo.predict(evalBatch, { output }));
        t.true(diff <= 1e-5, `member ${k}: outputs before training differ by ${diff}`);
      }

      await fleet.configureTraining({
        ...training({ corruption: null }),
        trainable: (p, k) => (PLANS[k]?.trainable ? (PLANS[k].trainable as (p: ParameterInfo) => boolean)(p) : true),
        lrScale: (p, k) => (PLANS[k]?.lrScale ? (PLANS[k].lrScale as (p: ParameterInfo) => number)(p) : 1),
      });
      for (const [k, solo] of solos.entries()) await solo.configureTraining(training(PLANS[k] as MemberPlan));
      for (let step = 0; step < STEPS; step++) {
        // The last step accumulates two micro-batches.
        const batches =
          step === STEPS - 1
            ? [batch(c.pad, step, c.kind, c.tokenTypes), batch(c.pad, step + 5, c.kind, c.tokenTypes)]
            : batch(c.pad, step, c.kind, c.tokenTypes);
        const r = await fleet.trainStep(batches);
        t.is(r.losses.length, PLANS.length);
        for (const [k, solo] of solos.entries()) {
          const s = await solo.trainStep(batches);
          const lossDiff = Math.abs((r.losses[k] as number) - s.loss) / Math.abs(s.loss);
          t.true(lossDiff <= 1e-5, `member ${k} step ${step + 1}: loss ${r.losses[k]} alone ${s.loss}`);
          const normDiff = Math.abs((r.gradNorms[k] as number) - s.gradNorm) / s.gradNorm;
          t.true(normDiff <= 1e-4, `member ${k} step ${step + 1}: gradient norm ${r.gradNorms[k]} alone ${s.gradNorm}`);
        }
        t.is(r.loss, r.losses[0] as number);
      }
      for (const [k, solo] of solos.entries()) {
        const worst = await worstParameterDifference(fleet, k, solo);
        t.true(worst.relative <= 1e-5, `member ${k}: ${worst.name} differs by ${worst.relative} relative after ${STEPS} steps`);
      }
      // A frozen parameter of member 2 did not move; member 0 trained it.
      const frozen = 'bert.encoder.layer.0.attention.self.query.weight';
      if (c.name.startsWith('tiny-bert')) {
        const initial = await Model.load(modelFixture(c.name), loadOptions(c));
        t.is(maxAbsDiff(await fleet.getParameter(frozen, { member: 2 }), await initial.getParameter(frozen)), 0);
        t.true(maxAbsDiff(await fleet.getParameter(frozen, { member: 0 }), await initial.getParameter(frozen)) > 0);
        initial.dispose();
      }
    } finally {
      fleet.dispose();
      for (const s of solos) s.dispose();
    }
  });
}

test('a deactivated (diverged) member stops training; the others go on as if alone', async (t) => {
  const c = CASES[0];
  const fleet = await Model.load(modelFixture(c.name), { ...loadOptions(c), members: 2 });
  const solo = await Model.load(modelFixture(c.name), loadOptions(c));
  try {
    await fleet.configureTraining(training({ corruption: null }));
    await solo.configureTraining(training({ corruption: null }));
    await fleet.trainStep(batch(c.pad, 0, c.kind, c.tokenTypes));
    await solo.trainStep(batch(c.pad, 0, c.kind, c.tokenTypes));
    // Member 1 goes bad: a non-finite weight makes its loss NaN; it is deactivated.
    const name = 'bert.encoder.layer.0.output.dense.weight';
    const poisoned = await fleet.getParameter(name, { member: 1 });
    poisoned[0] = Number.NaN;
    await fleet.setParameter(name, poisoned, { member: 1 });
    const bad = await fleet.trainStep(batch(c.pad, 1, c.kind, c.tokenTypes));
    t.true(Number.isNaN(bad.losses[1]));
    await solo.trainStep(batch(c.pad, 1, c.kind, c.tokenTypes));
    await fleet.deactivateMember(1);
    const frozenAt = await fleet.getParameter('classifier.weight', { member: 1 });
    const r = await fleet.trainStep(batch(c.pad, 2, c.kind, c.tokenTypes));
    const s = await solo.trainStep(batch(c.pad, 2, c.kind, c.tokenTypes));
    t.true(Math.abs((r.losses[0] as number) - s.loss) <= 1e-5 * Math.abs(s.loss));
    t.is(r.gradNorms[1], 0);
    t.deepEqual(await fleet.getParameter('classifier.weight', { member: 1 }), frozenAt, 'the deactivated member no longer moves');
    const worst = await worstParameterDifference(fleet, 0, solo);
    t.true(worst.relative <= 1e-5, `member 0: ${worst.name} differs by ${worst.relative}`);
  } finally {
    fleet.dispose();
    solo.dispose();
  }
});

test('one member saves as a Hugging Face folder that loads alone with its outputs; fleets need a member named', async (t) => {
  const c = CASES[0];
  const fleet = await Model.load(modelFixture(c.name), { ...loadOptions(c), members: 3 });
  const dir = tempDir();
  try {
    await corrupt(fleet, { method: 'gaussian', level: 0.3, targets: { layers: 'all' } }, { seed: 1, member: 1 });
    await fleet.save(join(dir, 'm1'), { member: 1 });
    const alone = await Model.load(join(dir, 'm1'));
    const b = batch(c.pad, 0, c.kind, c.tokenTypes);
    const [m0, m1] = await fleet.predictMembers(b);
    // The same up to the summation order of the batched products.
    t.true(maxAbsDiff(await alone.predict(b), m1 as Float32Array) <= 1e-5);
    t.true(maxAbsDiff(m0 as Float32Array, m1 as Float32Array) > 0, 'the corruption changed member 1 only');
    alone.dispose();
    for (const call of [
      () => fleet.predict(b),
      () => fleet.save(join(dir, 'x')),
      () => fleet.getParameter('classifier.weight'),
      () => corrupt(fleet, { method: 'zero', targets: { layers: 0 } }, { seed: 1 }),
      () => fleet.predict(b, { member: 3 }),
    ]) {
      const error = await t.throwsAsync(async () => call());
      t.is((error as { code?: string }).code, 'ERR_ARGUMENT');
      t.regex(error?.message ?? '', /member/);
    }
    await t.throwsAsync(() => Model.load(modelFixture(c.name), { members: 0 }), { message: /members must be an integer/ });
  } finally {
    fleet.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
