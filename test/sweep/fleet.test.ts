/**
 * Sweeps that run fleets (spec.fleet / --fleet): cells that differ only in their corruption train together.
 * Every cell must get the result it gets solo (per-epoch train loss within 1e-3 relative, metrics within one
 * evaluation example), in both protocols and with the recovery strategies; divergence, kill and resume (with
 * another fleet size), sharding and worker processes keep working.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import test, { type ExecutionContext } from 'ava';
import { type CellResult, runSweep, type SweepEvent } from '../../src/index.js';
import { packageRoot } from '../../src/native/binding.js';
import { readSweep } from '../../src/sweep/store.js';
import { tempDir } from '../helpers/checkpoints.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';

const cliEntry = [process.execPath, '--import=tsx', join(packageRoot, 'test', 'helpers', 'cli-entry.ts')];
const model = makeTinyModel();
const EVAL_EXAMPLES = 64;

const results = async (dir: string) => (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : []));

/** Each fleet cell against the same cell solo: the tolerances. */
function sameAsSolo(t: ExecutionContext, fleet: CellResult[], solo: CellResult[]) {
  t.is(fleet.length, solo.length);
  const byId = new Map(solo.map((r) => [r.id, r]));
  const oneExample = 1 / EVAL_EXAMPLES + 1e-9;
  const metricsClose = (a: Record<string, number> | undefined, b: Record<string, number> | undefined, what: string) => {
    t.is(a === undefined, b === undefined, `${what}: present in both`);
    for (const [k, v] of Object.entries(b ?? {}))
      t.true(Math.abs((a?.[k] as number) - v) <= oneExample, `${what} ${k}: fleet ${a?.[k]} solo ${v}`);
  };
  for (const f of fleet) {
    const s = byId.get(f.id) as CellResult;
    t.truthy(s, `${f.id} ran solo too`);
    t.is(f.status, s.status, `${f.id} status`);
    t.deepEqual(f.corruption, s.corruption, `${f.id}: the same corruption`);
    metricsClose(f.scores.probe, s.scores.probe, `${f.id} probe`);
    metricsClose(f.scores.beforeCorruption, s.scores.beforeCorruption, `${f.id} before corruption`);
    metricsClose(f.scores.afterCorruption, s.scores.afterCorruption, `${f.id} after corruption`);
    metricsClose(f.scores.final, s.scores.final, `${f.id} final`);
    t.is(f.scores.epochs.length, s.scores.epochs.length);
    f.scores.epochs.forEach((e, i) => {
      const solo = s.scores.epochs[i]?.trainLoss as number;
      t.true(Math.abs(e.trainLoss - solo) <= 1e-3 * Math.abs(solo), `${f.id} epoch ${i + 1}: train loss ${e.trainLoss} solo ${solo}`);
    });
    t.is(f.error?.code, s.error?.code);
  }
}

test('pretrained protocol: a sweep in fleets of 4 gives every cell its solo result', async (t) => {
  const spec = tinySpec(await model);
  const [solo, fleet] = [join(tempDir(), 'solo'), join(tempDir(), 'fleet')];
  await runSweep({ ...spec, fleet: 1 }, { out: solo });
  const events: SweepEvent[] = [];
  const summary = await runSweep({ ...spec, fleet: 4 }, { out: fleet, onEvent: (e) => events.push(e) });
  t.like(summary, { total: 8, done: 8, failed: 0 });
  const fleetResults = await results(fleet);
  t.true(
    fleetResults.every((r) => r.fleet?.size === 4),
    'clean and corrupted cells of a seed share one fleet',
  );
  t.deepEqual(fleetResults.map((r) => r.fleet?.member).sort(), [0, 0, 1, 1, 2, 2, 3, 3]);
  sameAsSolo(t, fleetResults, await results(solo));
  // Cell ids do not depend on the fleet size.
  t.deepEqual(readdirSync(join(fleet, 'cells')).sort(), readdirSync(join(solo, 'cells')).sort());
});

/** A healing corpus of 60 small documents (MLM healing holds out one document in 50) from a fixture text. */
function healingCorpus(): string {
  const dir = join(tempDir(), 'corpus');
  mkdirSync(dir);
  const paragraphs = readFileSync(join(fixturesDir, 'corpus', 'pg7256_the_gift_of_the_magi.txt'), 'utf8')
    .split(/\n\s*\n/)
    .filter((p) => p.trim().length > 80);
  for (let i = 0; i < 60; i++)
    writeFileSync(join(dir, `doc${String(i).padStart(2, '0')}.txt`), paragraphs[i % paragraphs.length] as string);
  return dir;
}

test('finetuned protocol with recovery strategies and MLM healing: fleets of the cells healing a baseline (its control too) match solo', async (t) => {
  const spec = tinySpec(await model, {
    protocol: 'finetuned',
    seeds: [0],
    corruptions: [
      { method: 'zero', targets: { layers: 'bottom:1', components: ['attention'] } },
      { method: 'gaussian', level: 0.5, relative: true, targets: { layers: 'top:1' } },
      { method: 'reinit', targets: { layers: 0 } },
    ],
    recovery: {
      healEpochs: 2,
      freezeUncorrupted: true,
      layerDecay: 0.8,
      corruptedLrMultiplier: 2,
      mlmSteps: 2,
      mlmCorpus: healingCorpus(),
    },
  });
  const [solo, fleet] = [join(tempDir(), 'solo'), join(tempDir(), 'fleet')];
  await runSweep({ ...spec, fleet: 1 }, { out: solo });
  const summary = await runSweep(spec, { out: fleet, fleet: 4 });
  t.like(summary, { total: 5, done: 5, failed: 0 });
  const fleetResults = await results(fleet);
  t.is(fleetResults.find((r) => !r.config.corruption && !r.config.control)?.fleet, undefined, 'the clean baseline runs first, alone');
  t.true(
    fleetResults.filter((r) => r.config.corruption || r.config.control).every((r) => r.fleet?.size === 4),
    'the control heals in the fleet of the corrupted cells',
  );
  sameAsSolo(t, fleetResults, await results(solo));
});

test('a diverging member is recorded as diverged; its fleet goes on and matches solo', async (t) => {
  const spec = tinySpec(await model, {
    seeds: [0],
    corruptions: [
      { method: 'scale', level: 1e30, targets: { layers: 'all', kinds: 'weights' } },
      { method: 'reinit', targets: { layers: 'top:1' } },
    ],
  });
  const [solo, fleet] = [join(tempDir(), 'solo'), join(tempDir(), 'fleet')];
  await runSweep({ ...spec, fleet: 1 }, { out: solo });
  const summary = await runSweep({ ...spec, fleet: 3 }, { out: fleet });
  t.like(summary, { done: 2, diverged: 1, failed: 0 });
  const fleetResults = await results(fleet);
  const diverged = fleetResults.find((r) => r.status === 'diverged');
  t.is(diverged?.error?.code, 'DIVERGED');
  t.is(diverged?.fleet?.size, 3);
  sameAsSolo(t, fleetResults, await results(solo));
});

test('worker processes and shards run fleets; every cell runs exactly once', async (t) => {
  const spec = tinySpec(await model, { fleet: 2 });
  const out = join(tempDir(), 'workers');
  const events: SweepEvent[] = [];
  const summary = await runSweep(spec, { out, workers: 2, workerCommand: cliEntry, onEvent: (e) => events.push(e) });
  t.like(summary, { done: 8, failed: 0 });
  const ends = events.filter((e) => e.type === 'cell-end').map((e) => (e as { id: string }).id);
  t.is(ends.length, 8);
  t.is(new Set(ends).size, 8);
  t.true((await results(out)).some((r) => r.fleet?.size === 2));

  const sharded = join(tempDir(), 'shards');
  const ft = tinySpec(await model, {
    protocol: 'finetuned',
    seeds: [0, 1],
    fleet: 2,
    corruptions: [
      { method: 'zero', targets: { layers: 'bottom:1', components: ['attention'] } },
      { method: 'reinit', targets: { layers: 'top:1' } },
    ],
    recovery: { healEpochs: 1 },
    recipe: { epochs: 1, batchSize: 16, maxLength: 48, lr: 1e-3, evalBatchSize: 64 },
  });
  for (let index = 0; index < 2; index++) {
    const s = await runSweep(ft, { out: sharded, shard: { index, count: 2 } });
    t.is(s.remaining, 0, `shard ${index}/2 left cells unrun`);
    t.is(s.failed, 0);
  }
  t.is((await results(sharded)).length, 8, 'per seed: a baseline, its control, two corrupted cells');
});

test('SIGKILL in the middle of a fleet loses only that fleet; resuming with another fleet size finishes every cell once', async (t) => {
  const dir = tempDir();
  const out = join(dir, 'killed');
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(tinySpec(await model)));
  // Fleets of 4: the kill lands in the second fleet (after the first fleet's 4 cells ended; cli-entry.ts).
  const child = spawn(cliEntry[0] as string, [...cliEntry.slice(1), 'sweep', specPath, '--out', out, '--json', '--fleet', '4'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HEALBERT_TEST_FREEZE_AFTER_CELLS: '4' },
  });
  const firstEnds: string[] = [];
  const inFlight = new Set<string>();
  let killed = false;
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as SweepEvent;
      if (e.type === 'cell-start') inFlight.add(e.id);
      if (e.type === 'cell-end') {
        firstEnds.push(e.id);
        inFlight.delete(e.id);
      }
      if (e.type === 'cell-step' && firstEnds.length >= 4 && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', () => resolve());
  });
  t.true(killed);
  t.is(firstEnds.length, 4, 'the first fleet finished');
  t.is(inFlight.size, 4, 'the second fleet was in flight');
  for (const id of inFlight) t.false(existsSync(join(out, 'cells', id, 'result.json')), `no result for ${id}`);
  for (const id of firstEnds) t.true(existsSync(join(out, 'cells', id, 'result.json')));
  const resumed: SweepEvent[] = [];
  const summary = await runSweep(out, { out, fleet: 2, onEvent: (e) => resumed.push(e) });
  t.like(summary, { done: 8, failed: 0, remaining: 0 });
  const secondEnds = resumed.filter((e) => e.type === 'cell-end').map((e) => (e as { id: string }).id);
  t.deepEqual([...firstEnds, ...secondEnds].sort(), readdirSync(join(out, 'cells')).sort(), 'every cell finished exactly once');
  t.deepEqual([...inFlight].sort(), [...secondEnds].sort());
});

test('--fleet is checked, and shown in --help', async (t) => {
  const { runCli } = await import('../helpers/cli.js');
  const help = runCli(['sweep', '--help']);
  t.regex(help.stdout, /--fleet <K\|auto>/);
  const bad = runCli(['sweep', 'x.json', '--fleet', '0']);
  t.not(bad.status, 0);
  t.regex(bad.stderr, /--fleet must be an integer from 1 to 256 or auto/);
});

test('auto fleet size: 1 on the CPU; on CUDA what fits in 80% of free memory, at most 8', async (t) => {
  const { fleetForMemory, fleetShape, memberBytes, resolveFleet } = await import('../../src/sweep/fleet.js');
  const { bertBaseConfig } = await import('../../bench/inputs.js');
  const dir = join(tempDir(), 'bert-base-config');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(bertBaseConfig()));
  const shape = await fleetShape(dir);
  t.like(shape, { hidden: 768, layers: 12, heads: 12 });
  t.true(shape.parameters > 109e6 && shape.parameters < 111e6, `${shape.parameters} parameters`);
  const perMember = memberBytes(shape, { batchSize: 32, maxLength: 128 });
  // 16 bytes per parameter (1.76 GB) plus activations: a few GB per bert-base member at 32 x 128.
  t.true(perMember > 3e9 && perMember < 8e9, `${perMember} bytes per member`);
  t.is(fleetForMemory(140e9, perMember), 8, 'an H200 holds the cap');
  t.is(fleetForMemory(2e9, perMember), 1, 'never below 1');
  t.is(fleetForMemory(3 * perMember, perMember), 2);
  const recipe = tinySpec('x').recipe as unknown as Parameters<typeof resolveFleet>[3];
  t.is(resolveFleet('auto', 'cpu', shape, recipe), 1);
  t.is(resolveFleet(3, 'cpu', shape, recipe), 3);
  t.throws(() => resolveFleet(0, 'cpu', shape, recipe), { message: /fleet must be an integer/ });
});
