/**
 * bfloat16 mixed precision on the CPU, healbert against itself (every lane; transformers' autocast is the
 * reference in bf16-transformers.test.ts): the same seed gives the same bits; a fleet in bf16 trains each
 * member as the member alone; corruption writes the float32 master weights, and what the bf16 forward pass
 * reads (its bf16 copies of the matrix weights, model.h) always follows the masters: after corruption, after
 * training steps (micro-batches included) and after setParameter.
 */
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model, type ParameterInfo } from '../../src/model/model.js';
import { tempDir } from '../helpers/checkpoints.js';
import { isKeyBias, maxAbsDiff, modelFixture } from '../helpers/fixtures.js';
import { batch, LR, PLANS, preparePlans, STEPS, training } from '../helpers/fleet.js';

const CASES = [
  { name: 'tiny-bert', pad: 0, kind: 'class', tokenTypes: true },
  { name: 'tiny-roberta', pad: 1, kind: 'class', tokenTypes: false },
  { name: 'tiny-distilbert', pad: 0, kind: 'class', tokenTypes: false },
  { name: 'tiny-bert-mlm', pad: 0, kind: 'mlm', tokenTypes: true },
] as const;
type Case = (typeof CASES)[number];

const load = (c: Case, extra: { members?: number; dtype?: 'bfloat16' | 'float32' } = {}) =>
  Model.load(modelFixture(c.name), { seed: 7, dtype: 'bfloat16', ...(c.kind === 'mlm' ? { mlmHead: true } : {}), ...extra });
const output = (c: Case) => (c.kind === 'mlm' ? ('mlm' as const) : ('logits' as const));
const stepBatches = (c: Case, step: number): Batch | Batch[] =>
  step === STEPS - 1
    ? [batch(c.pad, step, c.kind, c.tokenTypes), batch(c.pad, step + 5, c.kind, c.tokenTypes)]
    : batch(c.pad, step, c.kind, c.tokenTypes);

async function parameters(m: Model, member = 0): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of m.parameters()) out.set(p.name, await m.getParameter(p.name, { member }));
  return out;
}

for (const c of CASES) {
  test(`${c.name}: bf16 training is deterministic (same seed, dropout on, micro-batches: the same bits)`, async (t) => {
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const m = await load(c);
      t.is(m.dtype, 'bfloat16');
      await m.configureTraining(training({ corruption: null }));
      t.is(m.engineInfo().optimizer, 'one-pass');
      const losses = [];
      for (let s = 0; s < STEPS; s++) losses.push((await m.trainStep(stepBatches(c, s))).loss);
      runs.push({
        losses,
        params: await parameters(m),
        out: await m.predict(batch(c.pad, 9, c.kind, c.tokenTypes), { output: output(c) }),
      });
      m.dispose();
    }
    const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
    t.deepEqual(a.losses, b.losses);
    t.deepEqual(a.out, b.out);
    for (const [name, w] of a.params) t.deepEqual(b.params.get(name), w, name);
  });

  test(`${c.name}: what the bf16 forward pass reads follows the float32 weights (training, save and reload)`, async (t) => {
    const m = await load(c);
    const dir = tempDir();
    try {
      await m.configureTraining(training({ corruption: null }));
      for (let s = 0; s < STEPS; s++) await m.trainStep(stepBatches(c, s));
      await m.save(dir, c.kind === 'mlm' ? { architecture: 'BertForMaskedLM' } : {});
      // A model loaded from the trained float32 weights makes its bf16 copies afresh: the same outputs, bit
      // for bit, as the trained model's copies, which the optimizer rewrote in its update.
      const reloaded = await Model.load(dir, { seed: 7, dtype: 'bfloat16', ...(c.kind === 'mlm' ? { mlmHead: true } : {}) });
      const probe = batch(c.pad, 11, c.kind, c.tokenTypes);
      t.deepEqual(await reloaded.predict(probe, { output: output(c) }), await m.predict(probe, { output: output(c) }));
      const grads = await reloaded.lossAndGradients(probe);
      const again = await m.lossAndGradients(probe);
      t.is(grads.loss, again.loss);
      for (const [name, g] of grads.gradients) t.deepEqual(again.gradients.get(name), g, name);
      reloaded.dispose();
    } finally {
      m.dispose();
    }
  });
}

test('corruption of a bf16 model writes its float32 weights, as a float32 model corrupted with the same seed, and the bf16 outputs follow', async (t) => {
  const c = CASES[0];
  const bf16 = await load(c);
  const f32 = await load(c, { dtype: 'float32' });
  const probe = batch(c.pad, 3, c.kind, c.tokenTypes);
  const clean = await bf16.predict(probe);
  for (const spec of [
    { method: 'gaussian', level: 0.3, targets: { layers: 0 } },
    { method: 'reinit', targets: { layers: 1, components: ['attention.query'] } },
  ] as const) {
    const a = await corrupt(bf16, spec, { seed: 11 });
    const b = await corrupt(f32, spec, { seed: 11 });
    t.deepEqual(a.tensors, b.tensors);
  }
  for (const [name, w] of await parameters(f32)) t.deepEqual(await bf16.getParameter(name), w, name);
  // The next forward pass reads the corrupted weights: the same as a bf16 model loaded from them.
  const dir = tempDir();
  await f32.save(dir);
  const fresh = await Model.load(dir, { seed: 7, dtype: 'bfloat16' });
  const corrupted = await bf16.predict(probe);
  t.true(maxAbsDiff(corrupted, clean) > 1e-3);
  t.deepEqual(corrupted, await fresh.predict(probe));
  // setParameter too.
  const name = 'bert.encoder.layer.1.output.dense.weight';
  const zeros = new Float32Array((bf16.parameters().find((p) => p.name === name) as ParameterInfo).numel);
  await bf16.setParameter(name, zeros);
  await fresh.setParameter(name, zeros);
  t.deepEqual(await bf16.predict(probe), await fresh.predict(probe));
  for (const m of [bf16, f32, fresh]) m.dispose();
});

test('a fleet in bf16 trains each member as that member alone, within bf16 round-off', async (t) => {
  const c = CASES[0];
  const fleet = await load(c, { members: PLANS.length });
  const solos = await Promise.all(PLANS.map(() => load(c)));
  try {
    await preparePlans(fleet, solos);
    for (let s = 0; s < STEPS; s++) {
      const r = await fleet.trainStep(stepBatches(c, s));
      for (const [k, solo] of solos.entries()) {
        const alone = (await solo.trainStep(stepBatches(c, s))).loss;
        // bf16 products batched over members may round a last bit differently from one member's product.
        t.true(Math.abs((r.losses[k] as number) - alone) <= 1e-2 * Math.abs(alone), `member ${k} step ${s}: ${r.losses[k]} vs ${alone}`);
      }
    }
    // Adam divides by each element's gradient RMS, so an element whose gradient is within bf16 round-off of
    // zero can move by up to lr per step either way when a product rounds its last bit differently (fleets
    // batch the members' products). Every element stays within Adam's reach; all but a few within 0.6 lr.
    for (const [k, solo] of solos.entries()) {
      for (const p of solo.parameters()) {
        const [a, b] = [await fleet.getParameter(p.name, { member: k }), await solo.getParameter(p.name)];
        let beyond = 0;
        for (let i = 0; i < a.length; i++) if (Math.abs((a[i] as number) - (b[i] as number)) > 0.6 * LR) beyond++;
        const reach = maxAbsDiff(a, b) / LR;
        t.true(reach <= 2 * STEPS * 3, `member ${k} ${p.name}: ${reach} lr apart, beyond Adam's reach`);
        // Key biases' gradients are all round-off (fixtures.ts): only Adam's reach bounds them.
        if (isKeyBias(p.name)) continue;
        t.true(beyond <= Math.max(16, 0.01 * a.length), `member ${k} ${p.name}: ${beyond} of ${a.length} elements over 0.6 lr apart`);
      }
    }
  } finally {
    fleet.dispose();
    for (const s of solos) s.dispose();
  }
});
