import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import { Model } from '../../src/model/model.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { modelFixture } from '../helpers/fixtures.js';

const tinyBert = modelFixture('tiny-bert');

test('corrupt writes a loadable model and a report; the library gives the same bytes for the same seed', async (t) => {
  const out = join(tempDir(), 'corrupted');
  const r = runCli([
    'corrupt',
    tinyBert,
    '--method',
    'reinit',
    '--layers',
    'bottom:1',
    '--components',
    'attention,ffn',
    '--seed',
    '4',
    '--out',
    out,
  ]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /reinit on 12 tensors, seed 4/);
  const report = JSON.parse(readFileSync(join(out, 'corruption-report.json'), 'utf8'));
  t.is(report.tensors.length, 12);
  t.is(report.spec.init, 'kaiming-sqrt5');
  const fromCli = await Model.load(out);
  const inMemory = await Model.load(tinyBert);
  await corrupt(inMemory, { method: 'reinit', targets: { layers: 'bottom:1', components: ['attention', 'ffn'] } }, { seed: 4 });
  for (const p of inMemory.parameters()) t.deepEqual(await fromCli.getParameter(p.name), await inMemory.getParameter(p.name), p.name);
  fromCli.dispose();
  inMemory.dispose();
});

test('corrupt takes a spec file', (t) => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify({ method: 'gaussian', level: 0.02, fraction: 0.5, targets: { layers: 'all', kinds: 'weights' } }),
  );
  const r = runCli(['corrupt', tinyBert, '--spec', join(dir, 'spec.json'), '--seed', '1', '--out', join(dir, 'out'), '--json']);
  t.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.is(report.spec.fraction, 0.5);
  t.true(report.total.changed < report.total.numel * 0.6 && report.total.changed > report.total.numel * 0.4);
});

test('corrupt rejects bad input with the field or flag named', (t) => {
  const out = join(tempDir(), 'x');
  const cases: [string[], number, RegExp][] = [
    [['--method', 'gaussian', '--sigma=-1', '--layers', '0', '--seed', '1'], 1, /spec\.level: sigma must be >= 0/],
    [['--method', 'gaussian', '--sigma', '0.1', '--layers', '0', '--fraction', '1.5', '--seed', '1'], 1, /spec\.fraction: must be <= 1/],
    [['--method', 'gaussian', '--sigma', '0.1', '--layers', '0', '--components', 'mlp', '--seed', '1'], 1, /unknown component "mlp"/],
    [['--method', 'zero', '--layers', '0'], 2, /--seed is required/],
    [['--method', 'zero', '--layers', '0', '--seed', 'x'], 2, /--seed must be an integer/],
    [['--spec', 'a.json', '--method', 'zero', '--seed', '1'], 2, /--method cannot be combined with --spec/],
  ];
  for (const [args, status, message] of cases) {
    const r = runCli(['corrupt', tinyBert, ...args, '--out', out]);
    t.is(r.status, status, args.join(' '));
    t.regex(r.stderr, message);
  }
});

test('corrupt --heads and --neurons: the per-head table, the slices in the report, and the head count in the error', async (t) => {
  const dir = tempDir();
  const r = runCli(['corrupt', tinyBert, '--method', 'zero', '--layers', '0,1', '--heads', '1', '--seed', '1', '--out', join(dir, 'a')]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /changed entries per head \(layer x head\)/);
  const report = JSON.parse(readFileSync(join(dir, 'a', 'corruption-report.json'), 'utf8'));
  t.deepEqual(
    report.heads.map((h: { layer: number; head: number }) => [h.layer, h.head]),
    [
      [0, 1],
      [1, 1],
    ],
  );
  t.true(report.heads.every((h: { changed: number; numel: number }) => h.changed > 0 && h.changed <= h.numel));
  const n = runCli([
    'corrupt',
    tinyBert,
    '--method',
    'zero',
    '--layers',
    '0',
    '--neurons',
    '0-3',
    '--seed',
    '1',
    '--out',
    join(dir, 'b'),
    '--json',
  ]);
  t.is(n.status, 0, n.stderr);
  t.deepEqual(JSON.parse(n.stdout).tensors[0].slices[0].neurons, [0, 4]);
  const model = await Model.load(tinyBert);
  const heads = model.config.numHeads;
  model.dispose();
  const bad = runCli(['corrupt', tinyBert, '--method', 'zero', '--heads', String(heads), '--seed', '1', '--out', join(dir, 'c')]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, new RegExp(`spec\\.targets\\.heads: head ${heads} does not exist \\(the model has ${heads} heads`));
});
