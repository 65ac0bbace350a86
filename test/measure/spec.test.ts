/**
 * The measure spec: validated path-first, part of a cell id only when set, and refused before any training
 * when a measurement could not be computed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { measureFromFlags, resolveMeasure } from '../../src/measure/spec.js';
import { cellId, expandSweep } from '../../src/sweep/expand.js';
import { checkedSweep } from '../../src/sweep/load.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { demoGlue, makeTinyModel, tinySpec } from '../helpers/sweep.js';

const base = {
  models: ['/m/bert'],
  tasks: [{ name: 'sst2', data: '/glue' }],
  corruptions: [{ method: 'reinit', targets: { layers: 'bottom:1' } }],
  seeds: [0],
};
const ids = (protocol: string, extra: Record<string, unknown> = {}) =>
  expandSweep(resolveSweepSpec({ ...base, protocol, ...extra }, '/')).cells.map(
    (c) => `${c.config.corruption ? 'c' : c.config.control ? 'k' : 'b'}:${c.id}`,
  );

test('a spec without measurements keeps the cell ids it had before measurements existed; with them, every cell changes', (t) => {
  // Computed at beaff33, before `measure` existed: old result folders resume.
  t.deepEqual(ids('pretrained'), ['b:039428c3a3579afd', 'c:0e05cfc8c4d96c9b']);
  t.deepEqual(ids('finetuned'), ['b:346b0112f3c9b17a', 'c:62347ebb6bef59ce', 'k:d1dca918d3a647e2']);
  // Turned off is not set.
  t.deepEqual(ids('pretrained', { measure: {} }), ids('pretrained'));
  t.deepEqual(ids('pretrained', { measure: { cka: false, weights: false } }), ids('pretrained'));
  const measured = ids('pretrained', { measure: { cka: true } });
  t.is(measured.length, 2);
  for (const id of measured) t.false(ids('pretrained').includes(id));
  // The resolved form decides: true and the defaults written out are the same cell.
  t.deepEqual(ids('pretrained', { measure: { cka: { examples: 512, estimator: 'linear' } } }), measured);
  t.notDeepEqual(ids('pretrained', { measure: { cka: { estimator: 'debiased' } } }), measured);
  t.is(cellId(expandSweep(resolveSweepSpec({ ...base, measure: { cka: true } }, '/')).cells[0]?.config as never).length, 16);
});

test('measure specs: defaults, and unknown keys and bad values named path-first', (t) => {
  t.deepEqual(resolveMeasure({ cka: true, weights: true, mlm: true }), {
    cka: { examples: 512, estimator: 'linear' },
    weights: true,
    mlm: { examples: 512 },
  });
  t.is(resolveMeasure(undefined), undefined);
  const message = (spec: unknown) => {
    try {
      resolveSweepSpec({ ...base, measure: spec }, '/');
      return 'ok';
    } catch (error) {
      t.is((error as { code?: string }).code, 'ERR_CONFIG');
      return (error as Error).message;
    }
  };
  t.is(message({ cka: { exampels: 10 } }), 'spec.measure.cka: unknown key "exampels"');
  t.is(message({ representations: true }), 'spec.measure: unknown key "representations"');
  t.regex(message({ cka: { examples: 2 } }), /^spec\.measure\.cka\.examples: must be >= 4/);
  t.regex(message({ cka: { estimator: 'rbf' } }), /^spec\.measure\.cka\.estimator: must be one of "linear", "debiased"/);
});

test('--measure flags become the spec object, and mistakes are ERR_CONFIG naming the flag', (t) => {
  t.deepEqual(measureFromFlags('cka,mlm', { examples: 64, estimator: 'debiased' }), {
    cka: { examples: 64, estimator: 'debiased' },
    mlm: true,
  });
  t.deepEqual(measureFromFlags('weights'), { weights: true });
  t.is(measureFromFlags('none'), undefined);
  t.throws(() => measureFromFlags('cka,knowledge'), { code: 'ERR_CONFIG', message: /^--measure: unknown measurement "knowledge"/ });
  t.throws(() => measureFromFlags('weights', { examples: 8 }), { code: 'ERR_CONFIG', message: /--cka-examples/ });
  t.throws(() => measureFromFlags('cka', { estimator: 'rbf' }), { code: 'ERR_CONFIG', message: /^--measure\.cka\.estimator/ });
});

test('refused before any training, naming the field: a CKA subset larger than the evaluation split, MLM without an MLM head, a reference the protocol lacks', async (t) => {
  const model = await makeTinyModel();
  const dir = join(tempDir(), 'never-written');
  const refuse = async (extra: Record<string, unknown>) => {
    const error = await t.throwsAsync(checkedSweep(tinySpec(model, extra), { dir }));
    t.is((error as { code?: string } | undefined)?.code, 'ERR_CONFIG');
    return error?.message ?? '';
  };
  // tinySpec evaluates 64 dev rows.
  t.regex(
    await refuse({ measure: { cka: { examples: 65 } } }),
    /^spec\.measure\.cka\.examples: 65 examples, but the cells of spec\.tasks\[0\] evaluate 64/,
  );
  t.regex(await refuse({ measure: { mlm: true } }), /^spec\.measure\.mlm: 512 examples|^spec\.measure\.mlm\.examples/);
  t.regex(await refuse({ measure: { mlm: { examples: 16 } } }), /^spec\.measure\.mlm: spec\.models\[0\] .* has no MLM head/);
  const pooler = { corruptions: [{ method: 'reinit', targets: { layers: 'top:1', include: ['classifier'] } }] };
  t.regex(
    await refuse({ ...pooler, measure: { weights: true } }),
    /^spec\.measure\.weights: spec\.corruptions\[0\] re-initialises classifier\.weight, which has no pre-trained original under the pretrained protocol/,
  );
  // The same corruption is measurable under finetuned (the task model has a trained head), and without weights.
  await t.notThrowsAsync(checkedSweep(tinySpec(model, { ...pooler, protocol: 'finetuned', measure: { weights: true } }), { dir }));
  await t.notThrowsAsync(checkedSweep(tinySpec(model, { ...pooler, measure: { cka: { examples: 64 } } }), { dir }));
});

test('healbert run --measure: an unknown kind and a subset larger than the split are ERR_CONFIG before anything runs', async (t) => {
  const model = await makeTinyModel();
  const out = join(tempDir(), 'run');
  const base = ['run', '--model', model, '--task', 'sst2', '--data', demoGlue, '--out', out, '--method', 'reinit', '--layers', 'bottom:1'];
  const unknown = runCli([...base, '--measure', 'cka,knowledge']);
  t.is(unknown.status, 1, unknown.stderr);
  t.regex(unknown.stderr, /error \[ERR_CONFIG\]: --measure: unknown measurement "knowledge"/);
  const large = runCli([...base, '--measure', 'cka', '--cka-examples', '900']);
  t.is(large.status, 1, large.stderr);
  t.regex(large.stderr, /error \[ERR_CONFIG\]: spec\.measure\.cka\.examples: 900 examples, but the cells of spec\.tasks\[0\] evaluate 872/);
  t.false(existsSync(join(out, 'cells')), 'nothing was written');
});
