/**
 * `sweep --plan`: the cells, their states and the fleets a run would form. Whether the estimate is within a
 * factor of 2 of the real wall time is test/sweep/plan-estimate.test.ts: it needs the cores to itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runSweep } from '../../src/index.js';
import { planSweep } from '../../src/sweep/plan.js';
import { tempDir } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const model = makeTinyModel();

// Serial: a calibration timed while the other test trains would measure that test's load.
test.serial('--plan lists the cells by group, the fleets, and nothing left to run after the run', async (t) => {
  const out = join(tempDir(), 'plan');
  const spec = { ...tinySpec(await model), fleet: 4 };
  const plan = await planSweep(spec, { out });
  t.like(plan.counts, { total: 8, finished: 0, recompute: 0, run: 8 });
  t.deepEqual(plan.groups.map((g) => `${g.model}/${g.task} ${g.corruption}: ${g.cells.map((c) => c.seed).join(',')}`).sort(), [
    'tiny/sst2 clean: 0,1',
    'tiny/sst2 noise bottom:1: 0,1',
    'tiny/sst2 noise top:1: 0,1',
    'tiny/sst2 reinit bottom:1: 0,1',
  ]);
  // fleet 4: per seed, the clean cell and its three corruptions train together.
  const members = (label: string) => {
    const [where, list] = label.split(': ') as [string, string];
    return `${where}: ${list.split(', ').sort().join(', ')}`;
  };
  t.deepEqual(plan.fleets.map((f) => members(f.label)).sort(), [
    'tiny/sst2 seed 0: clean, noise bottom:1, noise top:1, reinit bottom:1',
    'tiny/sst2 seed 1: clean, noise bottom:1, noise top:1, reinit bottom:1',
  ]);
  t.is(plan.fleets.length, 2);
  t.true(plan.fleets.every((f) => f.cells.length === 4));
  t.true(plan.calibrations.length === 1 && plan.calibrations[0]?.members === 4);

  // The estimate against a real run is test/sweep/plan-estimate.test.ts, which npm test runs alone.
  await runSweep(spec, { out });

  // After the run: every cell finished, nothing to run.
  const after = await planSweep(out, { out });
  t.like(after.counts, { finished: 8, run: 0 });
  t.is(after.fleets.length, 0);
});

test.serial('sweep --plan --json from the CLI, with --emit: the time per array task and a suggested --time', async (t) => {
  const dir = tempDir();
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(tinySpec(await model, { seeds: [0], corruptions: [] })));
  const r = runCli(['sweep', specPath, '--out', join(dir, 'out'), '--plan', '--json', '--emit', 'slurm', '--shards', '2']);
  t.is(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  t.is(plan.counts.run, 1);
  t.is(plan.estimate.shards.length, 2);
  t.is(
    plan.estimate.shards.reduce((s: number, x: { cells: number }) => s + x.cells, 0),
    1,
  );
  t.regex(plan.suggestedTime, /^\d\d:\d\d:00$/);
  const text = runCli(['sweep', specPath, '--out', join(dir, 'out'), '--plan']);
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, /1 cells, 0 finished, 0 to recompute \(inputs changed\), 1 to run/);
  t.regex(text.stdout, /estimated wall time: /);
});
