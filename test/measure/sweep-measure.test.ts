/**
 * Measurements in sweeps (spec `measure`): they never change a score, they record what they promise, and a
 * spec without them keeps its cell ids.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { cosine, tensorSums } from '../../src/measure/weights.js';
import { Model } from '../../src/model/model.js';
import { writeReport } from '../../src/report/render.js';
import { runSweep } from '../../src/sweep/run.js';
import { readSweep } from '../../src/sweep/store.js';
import type { CellResult } from '../../src/sweep/types.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

/** A tiny BERT with an MLM head (a BertForMaskedLM folder) and the bert-base-uncased tokenizer. */
async function makeTinyMlmModel(): Promise<string> {
  const dir = join(tempDir('healbert-tiny-mlm-'), 'tiny-mlm');
  const m = await Model.fromConfig(
    {
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 128,
      type_vocab_size: 2,
    },
    { seed: 7, mlmHead: true },
  );
  await m.save(dir, { architecture: 'BertForMaskedLM' });
  m.dispose();
  for (const f of ['vocab.txt', 'tokenizer_config.json'])
    copyFileSync(join(fixturesDir, 'tokenizer', 'models', 'bert-base-uncased', f), join(dir, f));
  return dir;
}

const results = async (dir: string) => (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : []));
const conditionOf = (r: CellResult) => `${r.config.corruption?.label ?? (r.config.control ? 'control' : 'clean')} seed ${r.config.seed}`;
/** Everything a cell scored, without timings. */
const scores = (r: CellResult) => ({ ...r.scores, epochs: r.scores.epochs.map(({ seconds: _, ...e }) => e) });

for (const protocol of ['pretrained', 'finetuned'] as const) {
  test(`${protocol}: measuring CKA and weights changes no score, and every comparison is there`, async (t) => {
    const path = await model;
    const [plain, measured] = [join(tempDir(), 'plain'), join(tempDir(), 'measured')];
    await runSweep(tinySpec(path, { protocol }), { out: plain });
    await runSweep(tinySpec(path, { protocol, measure: { cka: { examples: 48 }, weights: true } }), { out: measured });
    const a = new Map((await results(plain)).map((r) => [conditionOf(r), r]));
    const b = await results(measured);
    t.is(b.length, a.size);
    for (const r of b) {
      t.is(r.status, 'done', conditionOf(r));
      t.deepEqual(scores(r), scores(a.get(conditionOf(r)) as CellResult), `${conditionOf(r)}: the same scores`);
      const m = r.measurements;
      t.truthy(m?.cka && m.weights, conditionOf(r));
      const cka = m?.cka as NonNullable<NonNullable<CellResult['measurements']>['cka']>;
      t.is(cka.examples, 48);
      t.is(cka.notes, undefined, `${conditionOf(r)}: ${cka.notes}`);
      t.is(cka.fromStart?.length, 3, 'embeddings and 2 layers');
      const healing = r.config.corruption !== null || r.config.control === true;
      t.is(cka.afterHealing !== undefined, healing, conditionOf(r));
      t.is(cka.beforeHealing !== undefined, r.config.corruption !== null, conditionOf(r));
      // Re-initialising layer 0 makes its first-token representations unlike the clean ones; noise in layer 1
      // leaves layer 0's exactly as they were.
      if (r.config.corruption?.method === 'reinit') t.true((cka.beforeHealing?.[1]?.first ?? 1) < 0.9);
      if (r.config.corruption?.label === 'noise top:1') t.is(cka.beforeHealing?.[1]?.mean, 1);
      const w = m?.weights as NonNullable<NonNullable<CellResult['measurements']>['weights']>;
      t.true(w.toPretrained.length > 0);
      t.is(w.toClean !== undefined, healing, conditionOf(r));
      t.is(w.reinit !== undefined, r.config.corruption?.method === 'reinit');
      for (const row of w.reinit ?? []) {
        t.is(row.layer, 0);
        t.true(Math.abs(cosine(row.atReinit) ?? 1) < 0.3, `a fresh matrix is nearly orthogonal to the original: ${cosine(row.atReinit)}`);
      }
      t.true(w.updates.every((u) => u.updateSq > 0 && u.weightSq > 0));
    }
    // The report carries every value: a table per measurement, the figures' data beside them.
    const written = await writeReport(await analyze(measured), join(measured, 'report'), 'csv');
    for (const file of [
      'cka.csv',
      'weight-distance.csv',
      'reinit-return.csv',
      'update-norms.csv',
      'measure-costs.csv',
      'cka-by-layer-mean.csv',
    ])
      t.true(
        written.some((f) => f.endsWith(`/${file}`)),
        file,
      );
  });
}

test('one epoch from the checkpoint: the update norms are the distance to the pre-trained weights, which the saved clean model gives too', async (t) => {
  const path = await model;
  const out = join(tempDir(), 'one-epoch');
  const spec = tinySpec(path, { measure: { weights: true }, corruptions: [], seeds: [0] });
  await runSweep({ ...spec, recipe: { ...spec.recipe, epochs: 1 } }, { out });
  const [clean] = await results(out);
  const w = clean?.measurements?.weights;
  t.truthy(w);
  for (const layer of [-1, 0, 1]) {
    const update = w?.updates.find((u) => u.layer === layer);
    const distance = (w?.toPretrained ?? [])
      .filter((g) => g.layer === layer && (layer >= 0 || g.component.startsWith('embeddings')))
      .reduce((s, g) => s + g.sums.diffSq, 0);
    t.true(Math.abs((update?.updateSq ?? 0) - distance) <= 1e-12 * distance, `layer ${layer}: ${update?.updateSq} vs ${distance}`);
  }
  // The saved fine-tuned model against the checkpoint, computed here from the two folders.
  const [saved, checkpoint] = await Promise.all([Model.load(join(out, 'cells', clean?.id as string, 'model')), Model.load(path)]);
  try {
    const name = 'bert.encoder.layer.1.attention.self.query.weight';
    const direct = tensorSums(await saved.getParameter(name), await checkpoint.getParameter(name));
    const recorded = w?.toPretrained.find((g) => g.layer === 1 && g.component === 'attention.query')?.sums;
    const bias = tensorSums(
      await saved.getParameter('bert.encoder.layer.1.attention.self.query.bias'),
      await checkpoint.getParameter('bert.encoder.layer.1.attention.self.query.bias'),
    );
    t.true(Math.abs((recorded?.diffSq ?? 0) - (direct.diffSq + bias.diffSq)) <= 1e-9 * direct.diffSq);
  } finally {
    saved.dispose();
    checkpoint.dispose();
  }
});

test('MLM knowledge: the checkpoint before corruption, the original head on every later encoder', async (t) => {
  const path = await makeTinyMlmModel();
  const out = join(tempDir(), 'mlm');
  await runSweep(tinySpec(path, { measure: { mlm: { examples: 32 } }, seeds: [0] }), { out });
  const all = await results(out);
  const before = all.map((r) => r.measurements?.mlm?.beforeCorruption?.loss);
  t.true(
    before.every((l) => typeof l === 'number' && l === before[0]),
    'every cell starts from the same checkpoint',
  );
  for (const r of all) {
    const mlm = r.measurements?.mlm;
    t.is(mlm?.examples, 32);
    t.true((mlm?.positions ?? 0) > 0);
    t.is(mlm?.afterCorruption !== undefined, r.config.corruption !== null);
    t.not(mlm?.final?.loss, mlm?.beforeCorruption?.loss, `${conditionOf(r)}: fine-tuning moved the encoder`);
    if (r.config.corruption?.method === 'reinit') t.not(mlm?.afterCorruption?.loss, mlm?.beforeCorruption?.loss);
  }
});

test('two worker processes: every corrupted cell still finds its clean cell to compare with', async (t) => {
  const out = join(tempDir(), 'workers');
  const { join: j } = await import('node:path');
  const { packageRoot } = await import('../../src/native/binding.js');
  await runSweep(tinySpec(await model, { measure: { cka: { examples: 32 } } }), {
    out,
    workers: 2,
    workerCommand: [process.execPath, '--import=tsx', j(packageRoot, 'test', 'helpers', 'cli-entry.ts')],
  });
  for (const r of await results(out)) {
    t.is(r.status, 'done');
    if (r.config.corruption) t.truthy(r.measurements?.cka?.afterHealing, `${conditionOf(r)}: ${r.measurements?.cka?.notes}`);
  }
});

test('a fleet measures what solo cells measure: the clean cell in the fleet is the reference', async (t) => {
  const path = await model;
  const spec = tinySpec(path, { measure: { cka: { examples: 48 }, weights: true }, seeds: [0] });
  const [solo, fleet] = [join(tempDir(), 'solo'), join(tempDir(), 'fleet')];
  await runSweep(spec, { out: solo });
  await runSweep(spec, { out: fleet, fleet: 4 });
  const byCondition = new Map((await results(solo)).map((r) => [conditionOf(r), r]));
  for (const r of await results(fleet)) {
    t.is(r.fleet?.size, 4, 'the clean cell and its three corruptions in one fleet');
    const s = byCondition.get(conditionOf(r)) as CellResult;
    for (const comparison of ['beforeHealing', 'afterHealing', 'fromStart'] as const) {
      const [a, b] = [r.measurements?.cka?.[comparison], s.measurements?.cka?.[comparison]];
      t.is(a?.length, b?.length, `${conditionOf(r)} ${comparison}`);
      for (const [i, row] of (a ?? []).entries())
        for (const pooling of ['mean', 'first'] as const) {
          const [x, y] = [row[pooling], b?.[i]?.[pooling]];
          t.true(
            x === y || Math.abs((x ?? 0) - (y ?? 0)) < 1e-4,
            `${conditionOf(r)} ${comparison} layer ${row.layer} ${pooling}: ${x} vs ${y}`,
          );
        }
    }
    t.is(r.measurements?.weights?.toClean?.length, s.measurements?.weights?.toClean?.length);
  }
});
