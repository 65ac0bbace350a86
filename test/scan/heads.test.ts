/**
 * Head and neuron scans on the committed tiny SST-2 model (3 layers, 2 heads, 48 FFN neurons): one target per
 * (layer, head) or (layer, neuron group); the weights are bitwise the clean ones after every restore; a run
 * corrupts exactly what `corrupt --heads` corrupts; an interrupted head scan resumes where it stopped; the
 * table, csv and heatmap say head.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import { isHealbertError } from '../../src/errors.js';
import { Model, type ScanFile, type ScanOptions, scan } from '../../src/index.js';
import { formatScanTable } from '../../src/scan/format.js';
import { expandScanTargets, neuronGroups } from '../../src/scan/targets.js';
import { derivedSeed } from '../../src/sweep/cell.js';
import { tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';
import { demoGlue } from '../helpers/sweep.js';
import { changedFrom, weights } from '../helpers/weights.js';

const fixture = modelFixture('tiny-bert-sst2');
const cacheDir = tempDir('healbert-scan-cache-');
const base = { task: 'sst2', data: demoGlue, rows: 64, cacheDir } as const;

test('head and neuron targets: one per (layer, head) or (layer, neuron group), restricted by layers and heads', async (t) => {
  const model = await Model.load(fixture);
  const params = model.parameters();
  const dims = { numHeads: 2 };
  const heads = expandScanTargets({ each: 'head', layers: '1-2', heads: 1 }, params, 3, dims);
  t.deepEqual(
    heads.map((x) => [x.label, x.layer, x.head, x.indices.length]),
    [
      ['layer 1 head 1', 1, 1, 7],
      ['layer 2 head 1', 2, 1, 7],
    ],
  );
  t.deepEqual(
    expandScanTargets({ each: 'head', components: ['attention.output'] }, params, 3, dims).map((x) => x.indices.length),
    [1, 1, 1, 1, 1, 1],
  );
  const groups = expandScanTargets({ each: 'neuron', layers: 0, neuronGroups: 5 }, params, 3, dims);
  t.deepEqual(
    groups.map((x) => x.neurons),
    [
      [0, 10],
      [10, 19],
      [19, 29],
      [29, 38],
      [38, 48],
    ],
  );
  t.deepEqual(neuronGroups(8, 3072)[1], [384, 768]);
  const error = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.is(
    error(() => expandScanTargets({ each: 'head', heads: 2 }, params, 3, dims)),
    'scan.heads: head 2 does not exist (the model has 2 heads, 0-1)',
  );
  t.regex(
    error(() => expandScanTargets({ each: 'neuron', neuronGroups: 49 }, params, 3, dims)),
    /^scan\.neuronGroups: must be an integer from 1 to 48/,
  );
  t.regex(
    error(() => expandScanTargets({ each: 'layer', heads: 1 }, params, 3, dims)),
    /^scan\.heads: only a head scan/,
  );
  model.dispose();
});

test('a head scan restores bitwise after every run; a run is `corrupt --heads` with the derived seed', async (t) => {
  const model = await Model.load(fixture);
  const clean = await weights(model);
  let restores = 0;
  const result = await scan(model, {
    ...base,
    method: 'gaussian',
    level: 0.5,
    each: 'head',
    seeds: [0, 1],
    afterRestore: async ({ target, seed }) => {
      restores += 1;
      t.deepEqual(await changedFrom(model, clean), [], `after restoring ${target.label} seed ${seed}`);
    },
  });
  t.is(restores, 12);
  t.deepEqual(
    result.rows.map((r) => [r.layer, r.head]),
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ],
  );
  t.deepEqual(result.config.heads, [0, 1]);
  t.regex(formatScanTable(result), /drop per layer x head:\nlayer +h0 +h1\n2 /);
  // The run of layer 1 head 0, seed 1, rebuilt with corrupt(): the same score.
  const other = await Model.load(fixture);
  await corrupt(other, { method: 'gaussian', level: 0.5, targets: { layers: 1, heads: 0 } }, { seed: derivedSeed(1, 'corruption') });
  const changed = await changedFrom(other, clean);
  t.deepEqual(changed.sort(), [
    'bert.encoder.layer.1.attention.output.dense.weight',
    'bert.encoder.layer.1.attention.self.key.bias',
    'bert.encoder.layer.1.attention.self.key.weight',
    'bert.encoder.layer.1.attention.self.query.bias',
    'bert.encoder.layer.1.attention.self.query.weight',
    'bert.encoder.layer.1.attention.self.value.bias',
    'bert.encoder.layer.1.attention.self.value.weight',
  ]);
  const asIs = await scan(other, { ...base, method: 'scale', level: 1, each: 'layer', layers: 0, seeds: [0] });
  t.is(asIs.clean.score, result.rows[2]?.scores[1] as number);
  other.dispose();
  model.dispose();
});

test('an interrupted head scan resumes where it stopped and gives the uninterrupted table; csv and svg say head', async (t) => {
  const out = join(tempDir(), 'scan');
  const options: ScanOptions = { ...base, out, method: 'reinit', each: 'head', layers: '1-2', seeds: [0, 1] };
  const model = await Model.load(fixture);
  const clean = await weights(model);
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
  t.deepEqual(await changedFrom(model, clean), []);
  const file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
  t.is(
    file.targets.reduce((s, x) => s + x.runs.length, 0),
    3,
  );
  t.deepEqual(
    file.targets.map((x) => x.head),
    [0, 1, 0, 1],
  );
  const resumed = await scan(model, options);
  t.is(resumed.resumed, 3);
  t.is(resumed.ran, 5);
  t.deepEqual(await changedFrom(model, clean), []);
  const fresh = await scan(model, { ...options, out: join(tempDir(), 'fresh') });
  t.deepEqual(
    resumed.rows.map((r) => r.scores),
    fresh.rows.map((r) => r.scores),
  );
  t.is(
    readFileSync(join(out, 'scan.csv'), 'utf8').split('\r\n')[0],
    'target,layer,component,head,seeds,n,mean,sd,ci_low,ci_high,drop,non_finite,seconds',
  );
  const svg = readFileSync(join(out, 'scan.svg'), 'utf8');
  t.regex(svg, /attention head/);
  t.regex(svg, new RegExp(`clean accuracy ${resumed.clean.score.toFixed(4)}`));
  // Other heads are another configuration.
  const refused = await t.throwsAsync(scan(model, { ...options, heads: 0 }));
  t.regex(refused?.message ?? '', /heads/);
  model.dispose();
});

test('a neuron scan: one target per group of consecutive neurons, restored bitwise', async (t) => {
  const model = await Model.load(fixture);
  const clean = await weights(model);
  const out = join(tempDir(), 'scan');
  const result = await scan(model, { ...base, out, method: 'zero', each: 'neuron', layers: 2, neuronGroups: 4 });
  t.deepEqual(
    result.rows.map((r) => r.target),
    ['layer 2 neurons 0-11', 'layer 2 neurons 12-23', 'layer 2 neurons 24-35', 'layer 2 neurons 36-47'],
  );
  t.is(result.config.neuronGroups, 4);
  t.deepEqual(await changedFrom(model, clean), []);
  t.true(existsSync(join(out, 'scan.svg')));
  t.regex(readFileSync(join(out, 'scan.svg'), 'utf8'), /FFN neurons/);
  model.dispose();
});
