/**
 * The layer-sensitivity scan end to end on the committed tiny SST-2 model (test/fixtures/models/tiny-bert-sst2)
 * and real SST-2 rows: after every restore the weights are bitwise the clean ones; the table's shape; the
 * runs are the corruptions a sweep cell of the same seed makes; resume after an interrupted or crashed
 * run; refusal of another configuration; the probe for a model without a head.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import { isHealbertError } from '../../src/errors.js';
// The scan as a user imports it: from the package entry point.
import { Model, type ScanFile, type ScanOptions, scan } from '../../src/index.js';
import { derivedSeed } from '../../src/sweep/cell.js';
import { tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';
import { demoGlue } from '../helpers/sweep.js';
import { changedFrom, weights } from '../helpers/weights.js';

const fixture = modelFixture('tiny-bert-sst2');
const cacheDir = tempDir('healbert-scan-cache-');
const base = { task: 'sst2', data: demoGlue, rows: 96, cacheDir } as const;

/** A scan whose every restore is checked bitwise against the weights before the scan. */
async function checkedScan(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, model: Model, options: ScanOptions) {
  const clean = await weights(model);
  let restores = 0;
  const result = await scan(model, {
    ...options,
    afterRestore: async ({ target, seed }) => {
      restores += 1;
      t.deepEqual(await changedFrom(model, clean), [], `after restoring ${target.label} seed ${seed}`);
    },
  });
  t.deepEqual(await changedFrom(model, clean), [], 'after the scan');
  return { result, restores };
}

test('a layer scan restores the weights bitwise after every run and returns one row per layer', async (t) => {
  const model = await Model.load(fixture);
  const { result, restores } = await checkedScan(t, model, { ...base, method: 'reinit', each: 'layer', seeds: [0, 1] });
  t.is(restores, 6);
  t.deepEqual(model.snapshots(), [], 'the scan drops its snapshot');
  t.is(result.config.evaluation, 'head');
  t.is(result.config.metric, 'accuracy');
  t.is(result.config.task.examples, 96);
  t.deepEqual(
    result.rows.map((r) => [r.target, r.layer, r.component, r.n, r.seeds]),
    [
      ['layer 0', 0, null, 2, [0, 1]],
      ['layer 1', 1, null, 2, [0, 1]],
      ['layer 2', 2, null, 2, [0, 1]],
    ],
  );
  for (const r of result.rows) {
    t.is(r.scores.length, 2);
    t.true(r.ci !== null && (r.ci.low as number) <= (r.mean as number) && (r.mean as number) <= r.ci.high);
    t.is(r.drop, result.clean.score - (r.mean as number));
    t.true(r.seconds > 0);
  }
  t.true(result.clean.score > 0.6, `the fixture's head scores ${result.clean.score}`);
  t.is(result.files, null);
  t.is(result.ran, 6);
  model.dispose();
});

test('a run corrupts exactly as `corrupt` with the seed a sweep cell derives, and scores that model', async (t) => {
  const model = await Model.load(fixture);
  const result = await scan(model, { ...base, method: 'gaussian', level: 1, relative: true, each: 'layer', layers: 1, seeds: [3] });
  const [row] = result.rows;
  const other = await Model.load(fixture);
  const clean = await weights(other);
  const report = await corrupt(
    other,
    { method: 'gaussian', level: 1, relative: true, targets: { layers: 1 } },
    { seed: derivedSeed(3, 'corruption') },
  );
  t.true((report.total.changed ?? 0) > 0);
  t.true((await changedFrom(other, clean)).every((name) => name.includes('.layer.1.')));
  // Scored as the scan scores: the clean score of a scan of the corrupted model (scaling by 1 changes nothing).
  const asIs = await scan(other, { ...base, method: 'scale', level: 1, each: 'layer', layers: 1, seeds: [0] });
  t.is(asIs.clean.score, row?.mean as number);
  model.dispose();
  other.dispose();
});

test('component and layer.component scans have one target per component (and layer)', async (t) => {
  const model = await Model.load(fixture);
  const { result: byComponent } = await checkedScan(t, model, { ...base, rows: 32, method: 'sign-flip', each: 'component', seeds: [0] });
  t.deepEqual(
    byComponent.rows.map((r) => r.target),
    [
      'attention.query',
      'attention.key',
      'attention.value',
      'attention.output',
      'attention.layernorm',
      'ffn.intermediate',
      'ffn.output',
      'ffn.layernorm',
    ],
  );
  t.deepEqual(byComponent.config.layers, [0, 1, 2]);
  const { result: cells } = await checkedScan(t, model, {
    ...base,
    rows: 32,
    method: 'zero',
    each: 'layer.component',
    layers: 'top:2',
    components: ['attention', 'ffn'],
    seeds: [0, 1, 2],
  });
  t.deepEqual(
    cells.rows.map((r) => [r.layer, r.component]),
    [
      [1, 'attention'],
      [1, 'ffn'],
      [2, 'attention'],
      [2, 'ffn'],
    ],
  );
  // zero is deterministic: one seed, said so.
  t.deepEqual(cells.config.seeds, [0]);
  t.true(cells.config.deterministic);
  t.regex(cells.notes.join('\n'), /zero uses no random numbers.*seed 0 only/);
  t.true(cells.rows.every((r) => r.n === 1 && r.ci === null));
  // reinit of LayerNorms (reset to 1 and 0) draws no random numbers either: one seed there, all seeds elsewhere.
  const { result: mixed, restores } = await checkedScan(t, model, {
    ...base,
    rows: 32,
    method: 'reinit',
    each: 'component',
    components: ['layernorm', 'ffn'],
    seeds: [4, 5],
  });
  t.is(restores, 3);
  t.deepEqual(
    mixed.rows.map((r) => [r.target, r.seeds]),
    [
      ['layernorm', [4]],
      ['ffn', [4, 5]],
    ],
  );
  t.regex(mixed.notes.join('\n'), /reinit of layernorm draws no random numbers/);
  model.dispose();
});

test('a model that outputs NaN scores NaN, counted and never averaged', async (t) => {
  const model = await Model.load(fixture);
  const { result } = await checkedScan(t, model, {
    ...base,
    rows: 16,
    method: 'scale',
    level: 1e30,
    each: 'layer',
    layers: 0,
    kinds: 'weights',
  });
  const [row] = result.rows;
  t.like(row, { n: 0, nonFinite: 1, mean: null, drop: null, ci: null });
  model.dispose();
});

test('scan.json is written after every run; an interrupted or crashed scan resumes where it stopped', async (t) => {
  const out = join(tempDir(), 'scan');
  const options: ScanOptions = { ...base, out, method: 'reinit', each: 'layer', seeds: [0, 1, 2] };
  const model = await Model.load(fixture);
  const clean = await weights(model);
  // Interrupted after the third run (Ctrl-C).
  const controller = new AbortController();
  const error = await t.throwsAsync(
    scan(model, {
      ...options,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'run' && e.index === 3) controller.abort();
      },
    }),
  );
  t.true(isHealbertError(error) && error.code === 'ERR_ARGUMENT');
  let file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  t.is(
    file.targets.reduce((s, x) => s + x.runs.length, 0),
    3,
  );
  t.truthy(file.clean);
  t.is(file.finishedAt, null);
  t.false(existsSync(join(out, 'scan.csv')));
  // A crash in the middle of the fifth run (the fourth is saved, the fifth is not); the model is restored anyway.
  let runs = 0;
  await t.throwsAsync(
    scan(model, {
      ...options,
      afterRestore: () => {
        runs += 1;
        if (runs === 2) throw new Error('simulated crash');
      },
    }),
    { message: 'simulated crash' },
  );
  t.deepEqual(await changedFrom(model, clean), []);
  file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  t.is(
    file.targets.reduce((s, x) => s + x.runs.length, 0),
    4,
  );
  // The rerun does the five runs left, and gives what an uninterrupted scan gives.
  const events: string[] = [];
  const resumed = await scan(model, { ...options, onEvent: (e) => events.push(e.type) });
  t.is(resumed.resumed, 4);
  t.is(resumed.ran, 5);
  t.is(events.filter((e) => e === 'run').length, 5);
  const fresh = await scan(model, { ...options, out: join(tempDir(), 'fresh') });
  t.deepEqual(
    resumed.rows.map((r) => r.scores),
    fresh.rows.map((r) => r.scores),
  );
  t.deepEqual(
    readFileSync(join(out, 'scan.csv'), 'utf8').split('\r\n')[0],
    'target,layer,component,seeds,n,mean,sd,ci_low,ci_high,drop,non_finite,seconds',
  );
  t.regex(readFileSync(join(out, 'scan.svg'), 'utf8'), /^<svg/);
  // Finished: a rerun runs nothing.
  const again = await scan(model, options);
  t.is(again.ran, 0);
  // Another configuration in the same folder is refused, naming what differs.
  const refused = await t.throwsAsync(scan(model, { ...options, method: 'zero' }));
  t.true(isHealbertError(refused) && refused.code === 'ERR_CONFIG');
  t.regex(refused?.message ?? '', /another configuration[\s\S]*corruption\.method: "reinit" there, "zero" here/);
  const otherRows = await t.throwsAsync(scan(model, { ...options, rows: 50 }));
  t.regex(otherRows?.message ?? '', /task\.rows: 96 there, 50 here/);
  model.dispose();
  // The engine's random stream is part of the config: a scan made with another stream is never resumed into.
  const other = await Model.load(fixture);
  const { streamVersion } = await corrupt(other, { method: 'zero', targets: { layers: 0 } }, { seed: 0, report: false });
  other.dispose();
  t.is(resumed.config.corruption.streamVersion, streamVersion);
  const older = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  older.config.corruption.streamVersion = streamVersion - 1;
  writeFileSync(join(out, 'scan.json'), JSON.stringify(older));
  const again2 = await Model.load(fixture);
  const stale = await t.throwsAsync(scan(again2, options));
  t.true(isHealbertError(stale) && stale.code === 'ERR_CONFIG');
  t.regex(stale?.message ?? '', new RegExp(`corruption\\.streamVersion: ${streamVersion - 1} there, ${streamVersion} here`));
  t.regex(stale?.message ?? '', /draw other random numbers/);
  t.deepEqual(again2.snapshots(), [], 'a refused scan drops its snapshot');
  again2.dispose();
});

test('a model without a task head is scored by a linear probe, and restored bitwise too', async (t) => {
  // The fixture without its pooler and classifier: a pre-trained-style folder.
  const dir = join(tempDir(), 'no-head');
  const full = await Model.load(fixture);
  await full.save(dir, { skip: (p) => p.isHead || p.component === 'pooler', architecture: 'BertModel' });
  full.dispose();
  const model = await Model.load(dir);
  const { result, restores } = await checkedScan(t, model, {
    ...base,
    trainRows: 200,
    method: 'reinit',
    each: 'layer',
    layers: '0-1',
    seeds: [0],
  });
  t.is(restores, 2);
  t.is(result.config.evaluation, 'probe');
  t.is(result.config.task.trainRows, 200);
  t.true(result.clean.score > 0.5 && result.clean.score < 1);
  t.is(result.rows.length, 2);
  model.dispose();
});
