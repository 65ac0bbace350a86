/**
 * Head-level sweeps: `vary: { targets.heads: [...] }` expands into one cell per head; such cells train in
 * fleets like any other corruption (a member gets the slices its solo model gets, byte for byte); the
 * analysis gives per-head damage and residual gap with intervals over seeds, and the report draws the layer x
 * head heatmaps and the head table.
 */
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { corrupt } from '../../src/corruption/corrupt.js';
import { isHealbertError } from '../../src/errors.js';
import { Model, runSweep } from '../../src/index.js';
import { buildFigures } from '../../src/report/figures.js';
import { allTables } from '../../src/report/tables.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { modelFixture } from '../helpers/fixtures.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

test('a fleet member corrupted by heads gets the bytes its solo model gets; the other member is untouched', async (t) => {
  const dir = modelFixture('tiny-bert');
  const fleet = await Model.load(dir, { members: 2, seed: 1 });
  const solo = await Model.load(dir, { seed: 1 });
  const spec = { method: 'gaussian', level: 0.3, fraction: 0.5, targets: { layers: 'all', heads: 1, neurons: '2-5' } } as const;
  const before = new Map<string, Float32Array>();
  for (const p of fleet.parameters()) before.set(p.name, await fleet.getParameter(p.name, { member: 0 }));
  const a = await corrupt(fleet, spec, { seed: 9, member: 1 });
  const b = await corrupt(solo, spec, { seed: 9 });
  t.deepEqual(a.heads, b.heads);
  t.true((a.total.changed ?? 0) > 0);
  for (const p of solo.parameters()) {
    t.deepEqual(await fleet.getParameter(p.name, { member: 1 }), await solo.getParameter(p.name), p.name);
    t.deepEqual(await fleet.getParameter(p.name, { member: 0 }), before.get(p.name), `${p.name}: member 0 untouched`);
  }
  fleet.dispose();
  solo.dispose();
});

test('vary targets.heads: a cell per (layer, head) in fleets, per-head intervals over seeds, the heatmaps in the report', async (t) => {
  t.timeout(600_000);
  const spec = tinySpec(await makeTinyModel(), {
    corruptions: [{ method: 'reinit', label: 'head', targets: {}, vary: { 'targets.layers': [0, 1], 'targets.heads': [0, 1] } }],
    seeds: [0, 1],
    fleet: 2,
  });
  const out = join(tempDir(), 'sweep');
  const summary = await runSweep(spec, { out });
  t.like(summary, { total: 10, done: 10, failed: 0 });
  const cells = await readSweep(out);
  const corrupted = cells.flatMap((c) => (c.result?.config.corruption ? [c.result] : []));
  t.is(corrupted.length, 8);
  t.true(
    corrupted.some((r) => r.fleet?.size === 2),
    'head cells share fleets',
  );
  for (const r of corrupted) {
    const { layers, heads } = r.config.corruption?.targets ?? {};
    t.deepEqual(
      r.corruption?.heads?.map((h) => [h.layer, h.head]),
      [[layers, heads]],
      `${r.id}: the report names its one head`,
    );
  }
  const a = await analyze(out, { resamples: 200 });
  t.deepEqual(
    a.heads.map((r) => [r.layer, r.head, r.damage.n, r.residualGap.n]),
    [
      [0, 0, 2, 2],
      [0, 1, 2, 2],
      [1, 0, 2, 2],
      [1, 1, 2, 2],
    ],
  );
  t.true(a.heads.every((r) => r.residualGap.ci !== null && r.damage.ci !== null));
  t.is(new Set(a.heads.map((r) => r.context)).size, 1);
  const figure = buildFigures(a).find((f) => f.id.startsWith('heads-'));
  t.truthy(figure, 'the head heatmap figure');
  t.is(figure?.data.rows.length, 8, 'damage and residual gap for each of the 4 heads');
  const table = allTables(a).find((x) => x.id === 'heads');
  t.is(table?.rows.length, 4);
});

test('a sweep naming a head the model does not have is refused before any work, naming the entry and the head count', async (t) => {
  const spec = tinySpec(await makeTinyModel(), {
    corruptions: [{ method: 'zero', targets: { layers: 0 }, vary: { 'targets.heads': [0, 2] } }],
    seeds: [0],
  });
  const out = join(tempDir(), 'sweep');
  const error = await t.throwsAsync(runSweep(spec, { out }));
  t.true(isHealbertError(error) && error.code === 'ERR_CONFIG');
  t.regex(error?.message ?? '', /spec\.corruptions\[0\].*targets\.heads: head 2 does not exist \(the model has 2 heads, 0-1\)/);
});
