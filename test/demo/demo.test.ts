import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { bundledData, bundledModel, demoSpec } from '../../src/demo/spec.js';
import { Model } from '../../src/model/model.js';
import { expandSweep } from '../../src/sweep/expand.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { makeTinyModel } from '../helpers/sweep.js';

test('the bundled mini-BERT loads as a 4-layer classifier with its tokenizer', async (t) => {
  const model = await Model.load(bundledModel, { numLabels: 2 });
  t.is(model.config.numLayers, 4);
  t.is(model.config.hiddenSize, 256);
  model.dispose();
  const tokenizer = await loadTokenizer(bundledModel);
  t.deepEqual(tokenizer.encode('A gripping film.').inputIds, [101, 1037, 13940, 2143, 1012, 102]);
  t.true(readFileSync(join(bundledModel, 'README.md'), 'utf8').includes('healbert pretrain'));
});

test('the CPU demo on the bundled model: 48 cells on the committed SST-2 slice, 6 seeds, CKA on 512 dev examples', (t) => {
  const spec = resolveSweepSpec(demoSpec({ model: bundledModel, data: bundledData, device: 'cpu', layers: 4 }), '/');
  // The demo computes in the dtype `auto` picks on the machine; runSweep resolves it before expanding.
  t.is(spec.dtype, 'auto');
  const cells = expandSweep({ ...spec, dtype: 'float32' }).cells;
  t.is(cells.length, 48);
  // 6 seeds: the exact sign-flip test of a bottom-vs-top comparison can reach 2 / 2^6 = 0.031 < 0.05.
  t.is(spec.seeds.length, 6);
  t.deepEqual(spec.measure, { cka: { examples: 512, estimator: 'linear' } });
  t.is(
    resolveSweepSpec(demoSpec({ model: bundledModel, data: bundledData, device: 'cpu', layers: 4, measure: null }), '/').measure,
    undefined,
  );
  t.deepEqual([...new Set(cells.map((c) => c.config.corruption?.label ?? 'clean'))].sort(), [
    'clean',
    'gaussian 0.25',
    'gaussian 0.5',
    'gaussian 1',
    'reinit bottom:1',
    'reinit bottom:2',
    'reinit top:1',
    'reinit top:2',
  ]);
  t.is(cells[0]?.config.task.trainExamples, 1500);
});

test('healbert demo runs to the end and writes the report and the summary table; new weights give new cells', async (t) => {
  const model = await makeTinyModel(4);
  const out = join(tempDir(), 'demo');
  const args = ['demo', '--model', model, '--out', out, '--seeds', '1', '--train-examples', '32', '--epochs', '1', '--workers', '1'];
  const r = runCli(args);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /over seeds, pretrained protocol; clean model fine-tuned: /);
  t.regex(
    r.stdout,
    /1\. Does corruption fully heal\? {2}\(pretrained protocol: damage = clean minus corrupted linear-probe score, before fine-tuning; residual gap = clean fine-tuned minus corrupted fine-tuned; in points\)/,
  );
  t.regex(r.stdout, /2\. Is bottom-layer corruption worse than top-layer corruption\? {2}\(pretrained protocol; .*linear-probe/);
  t.regex(
    r.stdout,
    /3\. How does recovery fall with the corruption level\? {2}\(pretrained protocol; .*clean fine-tuned minus corrupted fine-tuned\)/,
  );
  t.notRegex(r.stdout, /finetuned|control/);
  // The representation view: CKA by layer before -> after healing, for the re-initialisations.
  t.regex(
    r.stdout,
    /4\. Where does the damage sit, and where does it remain\? {2}\(pretrained protocol; linear CKA .* of 512 dev examples/,
  );
  t.regex(r.stdout, /\n {3}reinit bottom:1 +(\d\.\d\d->\d\.\d\d {2,}){4}/);
  t.regex(r.stdout, /Cells: 8 done, 0 diverged, 0 failed/);
  t.true(existsSync(join(out, 'report', 'report.html')));
  t.true(readFileSync(join(out, 'summary.txt'), 'utf8').includes('reinit bottom:1'));
  // The model replaced in place (as a new bundled model would be): a rerun recomputes every cell and
  // keeps the old results beside the new ones, instead of handing back the old cells.
  const weights = join(model, 'model.safetensors');
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x5a;
  writeFileSync(weights, bytes);
  const again = runCli(args);
  t.is(again.status, 0, again.stderr);
  t.regex(again.stderr, /8 recomputed because their inputs changed/);
  t.regex(again.stdout, /Cells: 8 done, 0 diverged, 0 failed/);
  for (const id of readdirSync(join(out, 'cells')))
    t.true(
      readdirSync(join(out, 'cells', id)).some((f) => f.startsWith('result.stale-')),
      `${id} kept its old result`,
    );
});
