/**
 * Fleet throughput: cells per hour when a sweep trains its cells solo and in fleets of 2, 4 and 8, in one
 * run on one machine. The sweep: one seed, the clean cell and 7 corruptions (pretrained protocol: probe,
 * fine-tuning, evaluation after every epoch), so every fleet size divides the 8 cells evenly.
 *
 *   CPU:  node --import tsx bench/fleet.ts                        (the bundled mini-BERT, SST-2 rows)
 *   CUDA: node --import tsx bench/fleet.ts --device cuda --glue ../shared/data/glue   (bert-base shapes)
 *
 * Options: --sizes 1,2,4,8  --train N  --eval N  --epochs N  --model <HF folder>.
 * Also checks that every fleet size gave every cell the same final score (within one evaluation example).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/native/binding.js';
import { runSweep } from '../src/sweep/run.js';
import { readSweep } from '../src/sweep/store.js';
import { flag, provenance, writeResult } from './common.js';
import { randomBertBaseFolder } from './inputs.js';

const device = flag('device', 'cpu');
const cuda = device.startsWith('cuda');
const glue = flag('glue', join(packageRoot, 'demo', 'data'));
const sizes = flag('sizes', '1,2,4,8').split(',').map(Number);
const train = Number(flag('train', cuda ? '2000' : '512'));
const evalExamples = Number(flag('eval', cuda ? '872' : '256'));
const epochs = Number(flag('epochs', '1'));
const work = join(process.env.OUT ?? tmpdir(), 'bench-fleet');
mkdirSync(work, { recursive: true });

async function benchModel(): Promise<string> {
  const given = flag('model', '');
  if (given) return given;
  if (!cuda) return join(packageRoot, 'models', 'mini-bert');
  return randomBertBaseFolder(join(work, 'bert-base-random'));
}

const modelDir = await benchModel();
const spec = {
  name: 'bench-fleet',
  models: [modelDir],
  tasks: [{ name: 'sst2', data: glue, trainExamples: train, evalExamples }],
  corruptions: [
    { method: 'reinit', label: 'reinit', vary: { 'targets.layers': ['bottom:1', 'bottom:2', 'top:1', 'top:2'] }, targets: {} },
    {
      method: 'gaussian',
      level: 0.5,
      relative: true,
      label: 'noise',
      vary: { 'targets.layers': ['bottom:2', 'top:2', 'all'] },
      targets: {},
    },
  ],
  seeds: [0],
  recipe: { epochs, batchSize: 32, maxLength: 128, lr: cuda ? 2e-5 : 1e-4, evalBatchSize: 256 },
  device,
  dtype: cuda ? 'bfloat16' : 'float32',
};

interface Run {
  fleet: number;
  cells: number;
  wallSeconds: number;
  cellsPerHour: number;
  /** Seconds per phase, summed over the fleets (a fleet's phase counted once). */
  phases: Record<string, number>;
  finals: Record<string, number | null>;
}

const runs: Run[] = [];
for (const fleet of sizes) {
  const out = join(work, `sweep-fleet-${fleet}`);
  rmSync(out, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const summary = await runSweep({ ...spec, fleet }, { out });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const results = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
  const phases: Record<string, number> = {};
  const counted = new Set<string>();
  for (const r of results) {
    // Cells of one fleet share their timings: count each fleet once (by its start time).
    const fleetId = `${r.startedAt}|${r.fleet?.size ?? 1}`;
    if (counted.has(fleetId)) continue;
    counted.add(fleetId);
    for (const [k, v] of Object.entries(r.timings)) phases[k] = (phases[k] ?? 0) + v;
  }
  const finals = Object.fromEntries(results.map((r) => [r.config.corruption?.label ?? 'clean', r.scores.final?.accuracy ?? null]));
  const run = {
    fleet,
    cells: summary.done + summary.diverged,
    wallSeconds,
    cellsPerHour: (3600 * results.length) / wallSeconds,
    phases,
    finals,
  };
  runs.push(run);
  console.error(`fleet ${fleet}: ${results.length} cells in ${wallSeconds.toFixed(1)} s, ${run.cellsPerHour.toFixed(1)} cells/hour`);
}

const base = runs.find((r) => r.fleet === 1) ?? runs[0];
const oneExample = 1 / evalExamples + 1e-9;
const agreement = runs.map((r) => ({
  fleet: r.fleet,
  worstFinalDifference: Math.max(
    0,
    ...Object.entries(r.finals).map(([label, v]) => Math.abs((v ?? Number.NaN) - ((base?.finals[label] as number) ?? Number.NaN))),
  ),
}));
const result = {
  bench: 'fleet',
  ...provenance(device),
  model: modelDir,
  train,
  eval: evalExamples,
  epochs,
  runs: runs.map((r) => ({ ...r, speedup: base ? r.cellsPerHour / base.cellsPerHour : null })),
  agreement,
  sameScores: agreement.every((a) => a.worstFinalDifference <= oneExample),
};
console.log(JSON.stringify(result, null, 2));
console.error(`results: ${writeResult(`fleet-${device.replace(':', '')}`, result)}`);
