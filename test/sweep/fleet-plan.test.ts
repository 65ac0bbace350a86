/**
 * Fleets planned with the sweep (src/sweep/fleet-plan.ts): a cell's fleet depends on the spec's cells and
 * K alone, so one worker and three give every cell the same bytes, in float32 and in bfloat16 (where a
 * member differs from solo by round-off); a member retried later is recomputed in its planned fleet and
 * gets the result it would have had; results written before fleets recorded their cells still resume.
 * Every run here uses one CPU thread (HEALBERT_THREADS, which the worker processes keep): on pip torch 2.x the
 * float32 round-off of a CPU depends on the thread count, which is not what these tests are about.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { type CellResult, runSweep, type SweepEvent } from '../../src/index.js';
import { loadNative, packageRoot } from '../../src/native/binding.js';
import { expandSweep } from '../../src/sweep/expand.js';
import { planFleets, shardFleets } from '../../src/sweep/fleet-plan.js';
import { appendToIndex } from '../../src/sweep/index-file.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

process.env.HEALBERT_THREADS = '1';
loadNative().setNumThreads(1);

const cliEntry = [process.execPath, '--import=tsx', join(packageRoot, 'test', 'helpers', 'cli-entry.ts')];
const model = makeTinyModel();

/** What decides a result: everything but timings, timestamps and the worker. */
function essence(r: CellResult) {
  const { timings: _t, startedAt: _s, finishedAt: _f, worker: _w, ...rest } = r;
  return { ...rest, scores: { ...rest.scores, epochs: rest.scores.epochs.map(({ seconds: _, ...e }) => e) } };
}
const results = async (dir: string) =>
  (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : [])).sort((a, b) => (a.id < b.id ? -1 : 1));

test('the fleets are a function of the cells and K: not of their order, nor of what finished; shards split fleets, never cells', (t) => {
  const spec = resolveSweepSpec({ ...tinySpec('/models/tiny'), seeds: [0, 1, 2] });
  const { cells } = expandSweep(spec);
  const fleets = planFleets(cells, () => 3);
  const shuffled = [...cells].reverse();
  t.deepEqual(
    planFleets(shuffled, () => 3).map((f) => f.map((c) => c.id)),
    fleets.map((f) => f.map((c) => c.id)),
  );
  t.true(
    fleets.every((f) => new Set(f.map((c) => c.config.seed)).size === 1),
    'members share everything but their corruption',
  );
  t.deepEqual(
    fleets.map((f) => f.length),
    [3, 3, 3, 1, 1, 1],
    'per seed: the clean cell and two corruptions, then the third',
  );
  const shards = [0, 1, 2, 3].map((index) => shardFleets(fleets, { index, count: 4 }).flat());
  t.deepEqual(
    shards
      .flat()
      .map((c) => c.id)
      .sort(),
    cells.map((c) => c.id).sort(),
  );
});

for (const dtype of ['float32', 'bfloat16'] as const) {
  test(`${dtype}: one worker and three give every cell the same bytes; a retried member is recomputed in its fleet`, async (t) => {
    const spec = tinySpec(await model, { fleet: 3, dtype });
    const [one, three] = [join(tempDir(), 'one'), join(tempDir(), 'three')];
    await runSweep(spec, { out: one });
    const events: SweepEvent[] = [];
    const summary = await runSweep(spec, { out: three, workers: 3, workerCommand: cliEntry, onEvent: (e) => events.push(e) });
    t.like(summary, { total: 8, done: 8, failed: 0 });
    const [a, b] = [await results(one), await results(three)];
    t.is(a.length, 8);
    t.deepEqual(b.map(essence), a.map(essence), 'bit for bit');
    t.true(a.some((r) => r.fleet?.size === 3 && r.fleet.cells?.length === 3));
    for (const r of a.filter((x) => x.fleet)) t.is(r.fleet?.cells?.[r.fleet.member], r.id);

    // A member that failed (say, a node lost) is rerun later: its planned fleet is recomputed, only it is written.
    const member = a.find((r) => r.fleet?.member === 1) as CellResult;
    const failed: CellResult = { ...member, status: 'failed', scores: { epochs: [] }, error: { code: 'ERR_TORCH', message: 'lost' } };
    writeFileSync(join(one, 'cells', member.id, 'result.json'), JSON.stringify(failed));
    await appendToIndex(one, [failed]);
    const others = (member.fleet?.cells ?? []).filter((id) => id !== member.id);
    const before = others.map((id) => readFileSync(join(one, 'cells', id, 'result.json'), 'utf8'));
    const rerun: SweepEvent[] = [];
    await runSweep(one, { out: one, onEvent: (e) => rerun.push(e) });
    t.deepEqual(
      rerun.flatMap((e) => (e.type === 'cell-end' ? [e.id] : [])),
      [member.id],
    );
    t.deepEqual(
      others.map((id) => readFileSync(join(one, 'cells', id, 'result.json'), 'utf8')),
      before,
      'its fleet mates are kept as they were',
    );
    const again = (await results(one)).find((r) => r.id === member.id) as CellResult;
    t.deepEqual(essence(again), essence(member), 'the same bytes as in its first run');
  });
}

test('results written before fleets recorded their cells resume as finished', async (t) => {
  const spec = tinySpec(await model, { fleet: 2, seeds: [0] });
  const out = join(tempDir(), 'old');
  await runSweep(spec, { out });
  for (const id of readdirSync(join(out, 'cells'))) {
    const path = join(out, 'cells', id, 'result.json');
    const r = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
    if (r.fleet) r.fleet = { size: r.fleet.size, member: r.fleet.member };
    writeFileSync(path, JSON.stringify(r));
  }
  const events: SweepEvent[] = [];
  const summary = await runSweep(out, { out, onEvent: (e) => events.push(e) });
  t.like(summary, { total: 4, done: 4 });
  t.is(events.filter((e) => e.type === 'cell-start').length, 0);
});
