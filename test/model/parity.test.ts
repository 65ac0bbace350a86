/**
 * Numerical parity with Hugging Face transformers itself (references made by
 * test/fixtures/parity/generate.py with transformers' own classes and training arithmetic): logits, loss,
 * every gradient, and the parameters after three AdamW steps, for BERT, RoBERTa and DistilBERT with the
 * classification, regression and MLM heads.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Model } from '../../src/model/model.js';
import {
  configureAsReference,
  fixtureBatch,
  fixturesDir,
  isKeyBias,
  maxAbs,
  maxAbsDiff,
  modelFixture,
  readTensors,
} from '../helpers/fixtures.js';

const parityDir = join(fixturesDir, 'parity');

const files = readdirSync(parityDir).filter((f) => f.endsWith('.safetensors'));

test('parity fixtures exist for every architecture', (t) => {
  for (const arch of ['tiny-bert', 'tiny-bert-regression', 'tiny-bert-mlm', 'tiny-roberta', 'tiny-distilbert']) {
    t.true(
      files.some((f) => f.startsWith(`${arch}.`)),
      arch,
    );
  }
});

test('every parity fixture was made by transformers and records its version', (t) => {
  for (const file of files) {
    const { metadata } = readTensors(join(parityDir, file));
    t.is(JSON.parse(metadata.reference ?? 'null'), 'transformers', file);
    t.regex(JSON.parse(metadata.transformers ?? 'null') ?? '', /^\d+\.\d+\.\d+/, `${file} names no transformers version`);
  }
});

for (const file of files) {
  const [name, reference] = file.split('.') as [string, string];
  const { tensors, metadata } = readTensors(join(parityDir, file));
  const regression = name.includes('regression');
  const mlm = name.includes('mlm');
  const batch = fixtureBatch(tensors, { tokenTypes: name.startsWith('tiny-bert'), regression, mlm });
  const load = () => Model.load(modelFixture(name), { mlmHead: mlm });
  /** The parameters the reference has (an MLM model here also carries an unused pooler and classifier). */
  const compared = (model: Model) => model.parameters().filter((p) => tensors.has(`grad.${p.name}`));
  const get = (key: string) => {
    const v = tensors.get(key);
    if (!v) throw new Error(`${file} lacks ${key}`);
    return v.data;
  };

  (mlm ? test.skip : test)(`${name} vs ${reference}: eval logits within 1e-4`, async (t) => {
    const model = await load();
    try {
      const logits = await model.predict(batch);
      const diff = maxAbsDiff(logits, get('logits'));
      t.log(`max |logit diff| ${diff.toExponential(2)}`);
      t.true(diff <= 1e-4, `max abs diff ${diff}`);
    } finally {
      model.dispose();
    }
  });

  test(`${name} vs ${reference}: loss and every gradient within 1e-4 relative`, async (t) => {
    const model = await load();
    try {
      const { loss, gradients } = await model.lossAndGradients(batch);
      const refLoss = get('loss')[0] as number;
      t.true(Math.abs(loss - refLoss) <= 1e-5 * Math.max(1, Math.abs(refLoss)), `loss ${loss} vs ${refLoss}`);
      let worst = 0;
      let worstName = '';
      const scale = Math.max(...compared(model).map((p) => maxAbs(get(`grad.${p.name}`))));
      t.true(
        model.parameters().every((p) => tensors.has(`grad.${p.name}`) || !gradients.has(p.name)),
        'parameters the reference lacks get no gradient',
      );
      for (const p of compared(model)) {
        const ref = get(`grad.${p.name}`);
        const mine = gradients.get(p.name) ?? new Float32Array(p.numel);
        const rel = maxAbsDiff(mine, ref) / (isKeyBias(p.name) ? scale : Math.max(maxAbs(ref), 1e-12));
        if (rel > worst) [worst, worstName] = [rel, p.name];
      }
      t.log(`worst relative gradient difference ${worst.toExponential(2)} (${worstName})`);
      t.true(worst <= 1e-4, `${worstName}: relative difference ${worst}`);
    } finally {
      model.dispose();
    }
  });

  test(`${name} vs ${reference}: parameters after ${metadata.steps} AdamW steps within 1e-5 relative`, async (t) => {
    const adamw = JSON.parse(metadata.adamw as string) as { lr: number; betas: [number, number]; eps: number; weight_decay: number };
    const schedule = JSON.parse(metadata.schedule as string) as { warmup_steps: number; total_steps: number };
    const model = await load();
    try {
      await configureAsReference(model, { adamw, schedule, maxGradNorm: Number(metadata.max_grad_norm) });
      const losses = get('step_losses');
      for (let s = 0; s < Number(metadata.steps); s++) {
        const r = await model.trainStep(batch, { dropout: false });
        t.true(
          Math.abs(r.loss - (losses[s] as number)) <= 1e-5 * Math.max(1, Math.abs(losses[s] as number)),
          `step ${s} loss ${r.loss} vs ${losses[s]}`,
        );
      }
      let worst = 0;
      let worstName = '';
      const steps = Number(metadata.steps);
      for (const p of compared(model)) {
        const ref = get(`after.${p.name}`);
        const diff = maxAbsDiff(await model.getParameter(p.name), ref);
        if (isKeyBias(p.name)) {
          t.true(diff <= 2 * adamw.lr * steps, `${p.name}: moved ${diff} apart, more than Adam can move it`);
          continue;
        }
        const rel = diff / Math.max(maxAbs(ref), 1e-12);
        if (rel > worst) [worst, worstName] = [rel, p.name];
      }
      t.log(`worst relative parameter difference ${worst.toExponential(2)} (${worstName})`);
      t.true(worst <= 1e-5, `${worstName}: relative difference ${worst}`);
    } finally {
      model.dispose();
    }
  });
}

test('tiny-bert-mlm: evaluateMlm gives the reference loss and accuracy at the masked positions', async (t) => {
  const file = files.find((f) => f.startsWith('tiny-bert-mlm.'));
  if (!file) return t.fail('no MLM fixture');
  const { tensors } = readTensors(join(parityDir, file));
  const batch = fixtureBatch(tensors, { tokenTypes: true, regression: false, mlm: true });
  const model = await Model.load(modelFixture('tiny-bert-mlm'), { mlmHead: true });
  const r = await model.evaluateMlm(batch);
  const labels = batch.mlmLabels as Int32Array;
  const logits = tensors.get('logits')?.data as Float32Array;
  const vocab = 67;
  let correct = 0;
  labels.forEach((y, i) => {
    if (y === -100) return;
    const row = logits.subarray(i * vocab, (i + 1) * vocab);
    if (row.indexOf(Math.max(...row)) === y) correct++;
  });
  t.is(r.count, 5);
  t.is(r.correct, correct);
  t.true(Math.abs(r.lossSum / r.count - (tensors.get('loss')?.data[0] as number)) < 1e-5);
  model.dispose();
});
