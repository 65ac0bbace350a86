/**
 * A parity case in bfloat16 mixed precision (an <arch>:<head>:bf16 case of test/python/real_size_reference.py:
 * transformers under torch.autocast('cpu', torch.bfloat16) on the same weights): eval logits, the loss, every
 * gradient and the parameters after 3 AdamW steps, with the bf16 tolerances bf16-transformers.test.ts explains
 * (in bf16 steps: a policy difference, a LayerNorm or residual in bf16, moves logits by several percent), and two
 * allowances for the tiny models' tensors that are all round-off, measured on transformers against itself:
 *  - a tensor whose whole gradient is below 1e-3 of the model's largest is judged against that scale, as key
 *    biases are: ELECTRA-tiny's first query weight has a gradient of at most 4.2e-9, and transformers' own
 *    float32 and bf16 runs differ there by 24% of it;
 *  - after 3 steps, up to max(16, 3%) of a tensor's elements may be over 0.6 lr apart: transformers' own float32
 *    and bf16 runs put 20 of 1,024 elements of ELECTRA-tiny's head dense that far apart (2%).
 */
import { rmSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { Model } from '../../src/model/model.js';
import { configureAsReference, isKeyBias, maxAbs, maxAbsDiff } from './fixtures.js';
import { batchOf, Reference, type References } from './transformers-cases.js';

export const BF16_TOLERANCE = { logits: 2e-2, loss: 1e-2, gradient: 5e-2, parameterLr: 0.6 };

export async function checkCaseBf16(t: ExecutionContext, item: string, references: References): Promise<void> {
  const [arch, head] = item.split(':') as [string, string];
  const m = await references.get(`${arch}-${head}-bf16`);
  const ref = await Reference.open(m.reference);
  const model = await Model.load(m.model, { dtype: 'bfloat16' });
  const lines: string[] = [];
  try {
    const batch = batchOf(ref, head);
    const refLogits = ref.f32('logits');
    const logitDiff = maxAbsDiff(await model.predict(batch), refLogits) / maxAbs(refLogits);
    lines.push(`max |logit diff| ${logitDiff.toExponential(2)} of the largest logit`);
    t.true(logitDiff <= BF16_TOLERANCE.logits, `logits: relative difference ${logitDiff}`);

    const { loss, gradients } = await model.lossAndGradients(batch);
    const refLoss = ref.f32('loss')[0] as number;
    const lossDiff = Math.abs(loss - refLoss) / Math.max(1, Math.abs(refLoss));
    t.true(lossDiff <= BF16_TOLERANCE.loss, `loss ${loss} vs ${refLoss}`);
    const params = model.parameters();
    t.deepEqual(
      params.filter((p) => !ref.has(`grad.${p.name}`)).map((p) => p.name),
      [],
      'healbert parameters the reference lacks',
    );
    const scale = Math.max(...params.map((p) => maxAbs(ref.f32(`grad.${p.name}`))));
    let [worst, worstName] = [0, ''];
    for (const p of params) {
      const r = ref.f32(`grad.${p.name}`);
      const roundOff = isKeyBias(p.name) || maxAbs(r) < 1e-3 * scale;
      const rel = maxAbsDiff(gradients.get(p.name) ?? new Float32Array(p.numel), r) / (roundOff ? scale : Math.max(maxAbs(r), 1e-12));
      if (rel > worst) [worst, worstName] = [rel, p.name];
    }
    lines.push(`loss ${lossDiff.toExponential(2)} relative; worst gradient ${worst.toExponential(2)} (${worstName})`);
    t.true(worst <= BF16_TOLERANCE.gradient, `gradient of ${worstName}: relative difference ${worst}`);

    const adamw = ref.meta<{ lr: number; betas: [number, number]; eps: number; weight_decay: number }>('adamw');
    const steps = ref.meta<number>('steps');
    await configureAsReference(model, {
      adamw,
      schedule: ref.meta<{ warmup_steps: number; total_steps: number }>('schedule'),
      maxGradNorm: ref.meta<number>('max_grad_norm'),
    });
    const refLosses = ref.f32('step_losses');
    for (let s = 0; s < steps; s++) {
      const l = (await model.trainStep(batch, { dropout: false })).loss;
      const r = refLosses[s] as number;
      t.true(Math.abs(l - r) <= BF16_TOLERANCE.loss * Math.max(1, Math.abs(r)), `step ${s} loss ${l} vs ${r}`);
    }
    let [far, farName] = [0, ''];
    for (const p of params) {
      const [mine, r] = [await model.getParameter(p.name), ref.f32(`after.${p.name}`)];
      const reach = maxAbsDiff(mine, r) / adamw.lr;
      t.true(reach <= 2 * steps, `${p.name}: moved ${reach} lr apart, more than Adam can move it`);
      if (isKeyBias(p.name)) continue; // their gradients are all round-off (fixtures.ts)
      let beyond = 0;
      for (let i = 0; i < r.length; i++)
        if (Math.abs((mine[i] as number) - (r[i] as number)) > BF16_TOLERANCE.parameterLr * adamw.lr) beyond++;
      t.true(
        beyond <= Math.max(16, 0.03 * r.length),
        `${p.name}: ${beyond} of ${r.length} elements over ${BF16_TOLERANCE.parameterLr} lr apart`,
      );
      if (reach > far) [far, farName] = [reach, p.name];
    }
    lines.push(`after ${steps} steps: largest parameter difference ${far.toFixed(3)} lr (${farName})`);
  } finally {
    t.log(`${arch} ${head} bf16: ${lines.join('; ')}`);
    model.dispose();
    ref.close();
    rmSync(m.model, { recursive: true, force: true });
    rmSync(m.reference, { force: true });
  }
}
