/**
 * ELECTRA pre-training (`pretrain --objective electra`): the losses and every gradient against transformers'
 * ElectraForMaskedLM + ElectraForPreTraining with shared embeddings, on fixed inputs and a fixed replacement
 * pattern (test/python/electra_pretraining_reference.py, pip-torch lane); and without transformers: seeded,
 * deterministic replacement draws, a run that resumes bit for bit, the two folders it saves (the discriminator
 * loads as an ELECTRA classifier), AUC, and the refusals.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Batch } from '../../src/batch.js';
import { Model } from '../../src/model/model.js';
import { rocAuc } from '../../src/pretrain/electra.js';
import { pretrain } from '../../src/pretrain/pretrain.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir, maxAbs, maxAbsDiff, readTensors } from '../helpers/fixtures.js';
import { noteWhenSkipped, runPython, transformersTest } from '../helpers/python.js';

noteWhenSkipped('ELECTRA pre-training against transformers');

const corpus = join(fixturesDir, 'corpus');
const tokenizer = join(fixturesDir, 'models', 'tiny-bert-sst2');

transformersTest('generator and discriminator losses and every gradient match transformers on a fixed replacement pattern', async (t) => {
  const out = tempDir('healbert-electra-ref-');
  runPython('electra_pretraining_reference.py', ['--out', out]);
  const { tensors } = readTensors(join(out, 'reference.safetensors'));
  const get = (k: string) => tensors.get(k)?.data as Float32Array | BigInt64Array;
  const ints = (k: string) => Int32Array.from(get(k) as BigInt64Array, Number);
  const [b, s] = (tensors.get('input_ids')?.shape ?? [0, 0]) as [number, number];
  const batch: Batch = {
    batchSize: b,
    seqLen: s,
    inputIds: ints('input_ids'),
    attentionMask: Uint8Array.from(get('attention_mask') as BigInt64Array, Number),
    tokenTypeIds: ints('token_type_ids'),
    mlmLabels: ints('mlm_labels'),
  };
  const model = await Model.load(join(out, 'model'));
  try {
    t.deepEqual(model.loadReport?.unexpected, []);
    const r = await model.lossAndGradients(batch, { samples: ints('samples') });
    const [gen, disc] = [(get('generator_loss') as Float32Array)[0] as number, (get('discriminator_loss') as Float32Array)[0] as number];
    t.log(`generator loss ${r.parts?.generator} vs ${gen}; discriminator ${r.parts?.discriminator} vs ${disc}`);
    t.true(Math.abs((r.parts?.generator as number) - gen) <= 1e-5 * Math.abs(gen));
    t.true(Math.abs((r.parts?.discriminator as number) - disc) <= 1e-5 * Math.abs(disc));
    let [worst, worstName, compared] = [0, '', 0];
    const scale = Math.max(...[...tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => maxAbs(get(k) as Float32Array)));
    for (const p of model.parameters()) {
      const ref = get(`grad.${p.name}`) as Float32Array | undefined;
      if (!ref) {
        // Only the classification head (unused in pre-training) has no reference gradient.
        t.true(p.component.startsWith('classifier'), `${p.name} has no reference gradient`);
        continue;
      }
      compared++;
      const mine = r.gradients.get(p.name) ?? new Float32Array(p.numel);
      // Attention key biases have a true gradient of 0: their round-off is judged at the model's scale.
      const rel = maxAbsDiff(mine, ref) / (/key\.bias$/.test(p.name) ? scale : Math.max(maxAbs(ref), 1e-12));
      if (rel > worst) [worst, worstName] = [rel, p.name];
    }
    t.log(`${compared} gradients; worst relative difference ${worst.toExponential(2)} (${worstName})`);
    t.is(compared, model.parameters().filter((p) => !p.component.startsWith('classifier')).length);
    t.true(worst <= 1e-4, `${worstName}: ${worst}`);
  } finally {
    model.dispose();
  }
});

const options = (out: string) => ({
  corpus: [corpus],
  tokenizer,
  out,
  objective: 'electra' as const,
  architecture: { layers: 2, hidden: 32, heads: 4, maxPositions: 64 },
  steps: 6,
  batchSize: 4,
  maxLength: 32,
  lr: 1e-3,
  warmupSteps: 1,
  seed: 3,
  holdOut: 0.34,
  evalEvery: 3,
  evalSequences: 8,
  checkpointEvery: 3,
  cacheDir: false as const,
});

test('replacements are seeded: the same seed draws the same, another seed others', async (t) => {
  const out = tempDir('healbert-electra-');
  await pretrain({ ...options(out), steps: 1 });
  const model = await Model.load(join(out, 'checkpoint-1'));
  try {
    const batch: Batch = {
      batchSize: 1,
      seqLen: 8,
      inputIds: Int32Array.from([2, 4, 11, 4, 13, 4, 15, 3]),
      attentionMask: new Uint8Array(8).fill(1),
      mlmLabels: Int32Array.from([-100, 20, -100, 21, -100, 22, -100, -100]),
    };
    const [a, again, other] = [
      await model.evaluateElectra(batch, 5),
      await model.evaluateElectra(batch, 5),
      await model.evaluateElectra(batch, 6),
    ];
    t.deepEqual(a.rtdLabels, again.rtdLabels);
    t.deepEqual(a.rtdLogits, again.rtdLogits);
    t.is(a.masked, 3);
    // An untrained generator almost never draws the original word: most of the three are replaced.
    t.true(a.rtdLabels.reduce((s, x) => s + x, 0) >= 2);
    t.notDeepEqual([...a.rtdLogits, ...other.rtdLogits].slice(0, 8), [...other.rtdLogits, ...a.rtdLogits].slice(0, 8));
  } finally {
    model.dispose();
  }
});

test('an ELECTRA run resumes bit for bit, saves a discriminator and a generator, and the discriminator fine-tunes as ELECTRA', async (t) => {
  const straight = tempDir('healbert-electra-a-');
  const summary = await pretrain(options(straight));
  t.true(summary.finalEval.discriminator !== undefined && summary.finalEval.discriminator.auc > 0);
  // Interrupted at step 4 (it writes a checkpoint as it stops), then run again: it continues from there.
  const split = tempDir('healbert-electra-b-');
  const controller = new AbortController();
  const stop = await t.throwsAsync(
    pretrain({
      ...options(split),
      logEvery: 1,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 4) controller.abort();
      },
    }),
  );
  t.regex(stop?.message ?? '', /interrupted at step 4/);
  const resumed = await pretrain(options(split));
  t.deepEqual(resumed.finalEval, summary.finalEval);
  const weights = (dir: string) => readFileSync(join(dir, 'model', 'model.safetensors'));
  t.true(weights(straight).equals(weights(split)), 'the same discriminator bytes');

  const config = JSON.parse(readFileSync(join(straight, 'model', 'config.json'), 'utf8'));
  t.deepEqual(config.architectures, ['ElectraForPreTraining']);
  t.is(config.healbert_generator, undefined);
  const generator = JSON.parse(readFileSync(join(straight, 'generator', 'config.json'), 'utf8'));
  t.deepEqual(generator.architectures, ['ElectraForMaskedLM']);
  t.is(generator.hidden_size, 8); // a quarter of 32: one head of 8
  const classifier = await Model.load(join(straight, 'model'), { numLabels: 2 });
  try {
    t.is(classifier.config.arch, 'electra');
    t.deepEqual(classifier.loadReport?.unexpected, []);
    t.true((classifier.loadReport?.ignored ?? []).every((n) => n.startsWith('discriminator_predictions.')));
  } finally {
    classifier.dispose();
  }
});

transformersTest('the saved discriminator and generator load in transformers with every key, and give healbert their states', async (t) => {
  const out = tempDir('healbert-electra-export-');
  await pretrain(options(out));
  const batch: Batch = {
    batchSize: 2,
    seqLen: 6,
    inputIds: Int32Array.from([2, 30, 31, 32, 33, 3, 2, 40, 41, 3, 0, 0]),
    attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  };
  const rows = (a: ArrayLike<number>) => [Array.from(a).slice(0, 6), Array.from(a).slice(6)];
  const json = { input_ids: rows(batch.inputIds), attention_mask: rows(batch.attentionMask as Uint8Array) };
  const folders = [
    [join(out, 'model'), 'pretraining'],
    [join(out, 'generator'), 'masked-lm'],
  ] as const;
  const reference = JSON.parse(
    runPython('roundtrip.py', ['load-and-run', ...folders.flat()], {
      input: JSON.stringify(folders.map(() => json)),
    }),
  ) as { cls: number[]; class: string }[];
  for (const [i, [dir]] of folders.entries()) {
    // healbert reads either folder as an ELECTRA encoder (its pre-training head ignored): the same states.
    const model = await Model.load(dir);
    const cls = await model.predict(batch, { output: 'cls' });
    model.dispose();
    const diff = maxAbsDiff(cls, reference[i]?.cls ?? []);
    t.log(`${reference[i]?.class}: first-token states within ${diff.toExponential(2)}`);
    t.true(diff <= 1e-5, `${dir}: ${diff}`);
  }
  t.deepEqual(
    reference.map((r) => r.class),
    ['ElectraForPreTraining', 'ElectraForMaskedLM'],
  );
});

test('refused: an ELECTRA objective on a BERT checkpoint, generator options without it', async (t) => {
  const e = await t.throwsAsync(pretrain({ ...options(tempDir()), init: tokenizer, architecture: undefined } as never));
  t.is((e as { code?: string }).code, 'ERR_ARGUMENT');
  t.regex(e?.message ?? '', /has no generator/);
  const g = await t.throwsAsync(pretrain({ ...options(tempDir()), objective: 'mlm', generatorSize: 0.5 }));
  t.is((g as { code?: string }).code, 'ERR_ARGUMENT');
});

test('AUC: ranks with ties counted half', (t) => {
  t.is(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  t.is(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  t.is(rocAuc([0, 1], [0, 1]), 1);
  t.true(Number.isNaN(rocAuc([0, 1], [1, 1])));
});
