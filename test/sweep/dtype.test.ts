/** A sweep's dtype: "auto" in the schema, resolved once per results folder before any cell id exists. */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { resolveDtype } from '../../src/dtype/measure.js';
import { runSweep, type SweepEvent } from '../../src/index.js';
import { resolveSweepDtype } from '../../src/sweep/dtype.js';
import { expandSweep } from '../../src/sweep/expand.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

test('the spec schema accepts dtype auto, keeps float32 as the default, and rejects other dtypes by path', async (t) => {
  const m = await model;
  t.is(resolveSweepSpec(tinySpec(m, { dtype: 'auto' })).dtype, 'auto');
  t.is(resolveSweepSpec(tinySpec(m)).dtype, 'float32');
  const error = t.throws(() => resolveSweepSpec(tinySpec(m, { dtype: 'float16' })));
  t.is((error as { code?: string }).code, 'ERR_CONFIG');
  t.regex(error.message, /^spec\.dtype/);
});

test('cells are never expanded with an unresolved auto (the dtype is part of every cell id)', async (t) => {
  const spec = resolveSweepSpec(tinySpec(await model, { dtype: 'auto' }));
  const error = t.throws(() => expandSweep(spec));
  t.is((error as { code?: string }).code, 'ERR_CONFIG');
  const ids = (dtype: 'float32' | 'bfloat16') => expandSweep({ ...spec, dtype }).cells.map((c) => c.id);
  t.notDeepEqual(ids('float32'), ids('bfloat16'));
});

test('resolveSweepDtype: concrete dtypes pass, auto is bf16 on CUDA, and a folder keeps the dtype its first run recorded', async (t) => {
  const m = await model;
  const dir = tempDir();
  const concrete = resolveSweepSpec(tinySpec(m, { dtype: 'bfloat16' }));
  t.deepEqual(await resolveSweepDtype(concrete, dir, 'cpu'), { spec: concrete });
  const cuda = resolveSweepSpec(tinySpec(m, { dtype: 'auto', device: 'cuda' }));
  t.like(await resolveSweepDtype(cuda, dir, 'cuda'), { spec: { dtype: 'bfloat16' }, decision: { dtype: 'bfloat16', reason: 'CUDA' } });
  // A folder whose first run recorded float32 on the CPU: auto keeps float32, whatever this machine measures.
  await mkdir(dir, { recursive: true });
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...resolveSweepSpec(tinySpec(m)), dtype: 'float32' }));
  const cpu = resolveSweepSpec(tinySpec(m, { dtype: 'auto' }));
  const kept = await resolveSweepDtype(cpu, dir, 'cpu');
  t.is(kept.spec.dtype, 'float32');
  t.regex(kept.decision?.reason ?? '', /recorded by this folder's first run/);
  // ...but not for a spec on another kind of device.
  t.is((await resolveSweepDtype(cuda, dir, 'cuda')).spec.dtype, 'bfloat16');
});

test('a sweep with dtype auto records the concrete dtype this machine picks, in spec.json and in every result', async (t) => {
  const out = join(tempDir(), 'sweep');
  const spec = tinySpec(await model, {
    dtype: 'auto',
    seeds: [0],
    corruptions: [{ method: 'reinit', targets: { layers: 'bottom:1' } }],
    recipe: { epochs: 1, batchSize: 16, maxLength: 32, lr: 1e-3, evalBatchSize: 64 },
    probe: { epochs: 2 },
  });
  const events: SweepEvent[] = [];
  const summary = await runSweep(spec, { out, onEvent: (e) => events.push(e) });
  t.like(summary, { total: 2, done: 2, failed: 0 });
  const expected = (await resolveDtype('auto', 'cpu')).dtype;
  t.like(
    events.find((e) => e.type === 'dtype'),
    { choice: 'auto', dtype: expected },
  );
  t.is(JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')).dtype, expected);
  const results = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
  t.is(results.length, 2);
  for (const r of results) t.is(r.config.dtype, expected);
  // Rerunning the spec file into the folder: the same cells, nothing to do.
  const again: SweepEvent[] = [];
  await runSweep(spec, { out, onEvent: (e) => again.push(e) });
  t.like(
    again.find((e) => e.type === 'sweep-start'),
    { total: 2, finished: 2, todo: 0 },
  );
});
