/**
 * Everything a sweep can check is checked before its first cell, as ERR_CONFIG naming the field of the
 * spec: the device, the dtype, labels, model folders, data files and subset sizes. --emit runs the same
 * checks.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runSweep, type SweepEvent } from '../../src/index.js';
import { checkDevice, checkDtype } from '../../src/sweep/preflight.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { demoGlue, makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

async function refused(t: import('ava').ExecutionContext, spec: object, message: RegExp) {
  const out = join(tempDir(), 'bad');
  const events: SweepEvent[] = [];
  const error = await t.throwsAsync(runSweep(spec, { out, onEvent: (e) => events.push(e) }));
  t.is((error as { code?: string }).code, 'ERR_CONFIG', error.message);
  t.regex(error.message, message);
  t.is(events.length, 0, 'no cell started');
  t.false(existsSync(join(out, 'cells')), 'nothing was written');
}

test('a bogus device is refused before any cell runs', async (t) => {
  await refused(t, tinySpec(await model, { device: 'tpu' }), /spec\.device: unknown device "tpu" \(expected cpu, cuda or cuda:<n>\)/);
  await refused(t, tinySpec(await model, { device: 'cpu:1' }), /spec\.device: unknown device "cpu:1"/);
});

test('CUDA asked of an addon or machine without it is refused', (t) => {
  const error = t.throws(() => checkDevice('cuda:64', 'spec.device'));
  t.is((error as { code?: string }).code, 'ERR_CONFIG');
  t.regex(error.message, /spec\.device: "cuda:64" (asks for CUDA, but this healbert addon was built without CUDA|does not exist here)/);
  t.notThrows(() => checkDevice('cuda:64', 'spec.device', false), 'emitted manifests run elsewhere: only the name is checked');
});

test('the dtype check accepts the sweep dtypes and names the field otherwise', (t) => {
  t.notThrows(() => checkDtype('float32', 'spec.dtype'));
  t.notThrows(() => checkDtype('bfloat16', 'spec.dtype'));
  t.throws(() => checkDtype('float16', 'spec.dtype'), { message: /spec\.dtype: dtype "float16" is not supported/ });
});

test('one label for two different corruptions is refused; one label for the same corruption twice is not', async (t) => {
  const m = await model;
  await refused(
    t,
    tinySpec(m, {
      corruptions: [
        { method: 'reinit', label: 'broken', targets: { layers: 'bottom:1' } },
        { method: 'reinit', label: 'broken', targets: { layers: 'top:1' } },
      ],
    }),
    /spec\.corruptions\[1\]\.label: "broken" is also the label of spec\.corruptions\[0\], a different corruption/,
  );
  // A vary grid makes labels distinct by their values; the same entry listed twice is the same corruption.
  const same = { method: 'zero', label: 'z', targets: { layers: 'bottom:1' } };
  const { checkLabels } = await import('../../src/sweep/preflight.js');
  const { expandSweep } = await import('../../src/sweep/expand.js');
  const { resolveSweepSpec } = await import('../../src/sweep/spec.js');
  t.notThrows(() => checkLabels(expandSweep(resolveSweepSpec(tinySpec(m, { corruptions: [same, same] }))).corruptions));
});

test('trainExamples or evalExamples larger than the split are refused', async (t) => {
  const m = await model;
  await refused(
    t,
    tinySpec(m, { tasks: [{ name: 'sst2', data: demoGlue, trainExamples: 1_000_000 }] }),
    /spec\.tasks\[0\]\.trainExamples: 1000000 is more than the 5000 rows of sst2 train/,
  );
  await refused(
    t,
    tinySpec(m, { tasks: [{ name: 'sst2', data: demoGlue, evalExamples: 5000 }] }),
    /spec\.tasks\[0\]\.evalExamples: 5000 is more than the 872 rows of sst2 dev/,
  );
});

test('a model folder without weights or tokenizer, and a data file that does not parse, are refused', async (t) => {
  const m = await model;
  const noWeights = join(tempDir(), 'no-weights');
  cpSync(m, noWeights, { recursive: true });
  rmSync(join(noWeights, 'model.safetensors'));
  await refused(t, tinySpec(noWeights), /spec\.models\[0\]: .*no-weights: no model\.safetensors/);
  const noTokenizer = join(tempDir(), 'no-tokenizer');
  cpSync(m, noTokenizer, { recursive: true });
  rmSync(join(noTokenizer, 'vocab.txt'));
  await refused(t, tinySpec(noTokenizer), /spec\.models\[0\]: .*no tokenizer found/);
  const data = join(tempDir(), 'glue');
  cpSync(join(demoGlue, 'SST-2'), join(data, 'SST-2'), { recursive: true, filter: (f) => !f.includes('.healbert-cache') });
  writeFileSync(join(data, 'SST-2', 'dev.tsv'), 'text\tscore\nfine\t1\n');
  await refused(
    t,
    tinySpec(m, { tasks: [{ name: 'sst2', data }] }),
    /spec\.tasks\[0\]\.data: .*dev\.tsv:1: no column 'sentence' in the header/,
  );
  rmSync(join(data, 'SST-2', 'train.tsv'));
  await refused(t, tinySpec(m, { tasks: [{ name: 'sst2', data }] }), /spec\.tasks\[0\]\.data: .*train\.tsv does not exist/);
});

test('--emit runs the same checks before printing a manifest', async (t) => {
  const dir = tempDir();
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(tinySpec(await model, { device: 'tpu' })));
  const r = runCli(['sweep', specPath, '--out', join(dir, 'out'), '--emit', 'slurm', '--shards', '2']);
  t.not(r.status, 0);
  t.is(r.stdout, '', 'no manifest');
  t.true(r.stderr.includes(`${specPath}: spec.device: unknown device "tpu"`), r.stderr);
  writeFileSync(specPath, JSON.stringify(tinySpec(await model, { device: 'cuda:3' })));
  const ok = runCli(['sweep', specPath, '--out', join(dir, 'out'), '--emit', 'slurm', '--shards', '2']);
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /#SBATCH --array=0-1/);
});
