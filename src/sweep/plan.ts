/**
 * `healbert sweep <spec> --plan`: what a run would do, without training. The cells grouped by model, task,
 * corruption and seed with their state (finished, to recompute because an input changed, to run); the
 * fleets the work loop would form; and wall times from a calibration (calibrate.ts) on the chosen device.
 * The estimate is per fleet (a solo cell is a fleet of one): cells of a fleet share their steps and end
 * together.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Calibration, calibrate } from './calibrate.js';
import type { PlannedCell } from './cell.js';
import { conditionName, heals } from './expand.js';
import { folderFleetSizes } from './fleet.js';
import { planFleets, shardFleets } from './fleet-plan.js';
import { checkedSweep } from './load.js';
import { findChangedCells, fingerprintCells } from './resume.js';
import { isFinished, readResult } from './store.js';
import type { CellConfig } from './types.js';

export type PlannedState = 'finished' | 'recompute' | 'run';

export interface PlanFleet {
  cells: string[];
  /** model/task seed, and the corruptions in it. */
  label: string;
  seconds: number;
}

export interface PlanGroup {
  model: string;
  task: string;
  corruption: string;
  cells: { id: string; seed: number; state: PlannedState; seconds: number }[];
}

export interface SweepPlan {
  name: string;
  dir: string;
  device: string;
  counts: { total: number; finished: number; recompute: number; run: number };
  groups: PlanGroup[];
  fleets: PlanFleet[];
  /** One per distinct (model, task, recipe): what the estimates come from. */
  calibrations: (Calibration & { model: string; task: string })[];
  estimate: {
    /** The checks and fingerprints before the first cell, as timed by this plan (a run repeats them). */
    setupSeconds: number;
    /** Setup, plus the fleets to run, plus loading each task's data once: one worker's wall time. */
    totalSeconds: number;
    /** With `workers` worker processes sharing the cells (an even share, fleets are not split). */
    workers: number;
    wallSeconds: number;
    /** With --emit: the cells of each array task (shard) and its estimated time. */
    shards?: { index: number; cells: number; seconds: number }[];
  };
}

export interface PlanOptions {
  out: string;
  baseDir?: string;
  device?: string;
  fleet?: number | 'auto';
  workers?: number;
  /** --emit's --shards: estimate each array task. */
  shards?: number;
}

/** Seconds one fleet of `cells` (one fleetKey) takes, from its calibration. */
export function fleetSeconds(cells: PlannedCell[], cal: Calibration): number {
  const config = (cells[0] as PlannedCell).config;
  const epoch = cal.trainSecondsPerToken * cal.trainTokensPerEpoch + cal.evalSecondsPerToken * cal.evalTokens;
  const evalPass = cal.evalSecondsPerToken * cal.evalTokens;
  const mlm =
    cells.some((c) => heals(c.config)) && config.recovery.mlmSteps > 0
      ? config.recovery.mlmSteps * cal.trainSecondsPerToken * config.recipe.batchSize * config.recipe.maxLength
      : 0;
  if (config.protocol === 'finetuned') {
    // A clean cell fine-tunes and saves (about a load); corrupted cells evaluate twice, then heal; a control
    // (alone, or in its corrupted cells' fleet) evaluates once before healing.
    const evals = cells.some((c) => c.config.corruption) ? 2 : 1;
    return heals(config)
      ? cal.loadSeconds + cal.warmupSeconds + evals * evalPass + mlm + config.recovery.healEpochs * epoch
      : 2 * cal.loadSeconds + cal.warmupSeconds + config.recipe.epochs * epoch;
  }
  const probe = cal.evalSecondsPerToken * cal.probeTokens + cells.length * cal.probeSecondsPerExample * cal.trainExamples;
  return cal.loadSeconds + cal.warmupSeconds + probe + mlm + config.recipe.epochs * epoch;
}

export async function planSweep(input: unknown, options: PlanOptions): Promise<SweepPlan> {
  const setupStart = process.hrtime.bigint();
  const dir = resolve(options.out);
  const { spec, expanded } = await checkedSweep(input, {
    baseDir: options.baseDir,
    devices: options.device ? [options.device] : undefined,
    dir,
  });
  const device = options.device ?? spec.device;
  const cells = expanded.cells;
  // States: finished results, those whose inputs changed since (--recompute-changed would rerun them).
  const { inputs } = await fingerprintCells(dir, cells);
  const changed = existsSync(dir) ? await findChangedCells(dir, cells, inputs) : [];
  const setupSeconds = Number(process.hrtime.bigint() - setupStart) / 1e9;
  const recompute = new Set(changed.map((c) => c.id));
  const state = new Map<string, PlannedState>();
  for (const c of cells) {
    const finished = existsSync(dir) && isFinished(await readResult(dir, c.id));
    state.set(c.id, recompute.has(c.id) ? 'recompute' : finished ? 'finished' : 'run');
  }
  const todo = cells.filter((c) => state.get(c.id) !== 'finished');

  const sizes = await folderFleetSizes(dir, spec.models, spec.recipe, options.fleet ?? spec.fleet, device, { record: false });
  const sizeOf = (c: PlannedCell) => sizes.get(c.config.model.path) ?? 1;
  // The fleets a run forms (fleet-plan.ts): planned over every cell, run when any member is to run.
  const planned = planFleets(cells, sizeOf);
  const toRun = (fleets: PlannedCell[][]) => fleets.filter((f) => f.some((c) => state.get(c.id) !== 'finished'));

  // One calibration per model and task (the recipe is the spec's): the first cell's config stands for all.
  const calibrations = new Map<string, Calibration & { model: string; task: string }>();
  const calKey = (c: CellConfig) => `${c.model.path}\0${c.task.name}\0${c.task.data}`;
  for (const c of cells) {
    const key = calKey(c.config);
    if (calibrations.has(key)) continue;
    const cal = await calibrate(c.config, device, sizeOf(c));
    calibrations.set(key, { model: c.config.model.name, task: c.config.task.name, ...cal });
  }
  const calOf = (c: PlannedCell) => calibrations.get(calKey(c.config)) as Calibration;

  const timed = (list: PlannedCell[][]) => list.map((f) => ({ cells: f, seconds: fleetSeconds(f, calOf(f[0] as PlannedCell)) }));
  // Once per model and task in a worker: its data, and what its first fleet in the process pays beyond the rest.
  const oncePerWorkerSeconds = (list: PlannedCell[]) =>
    [...new Set(list.map((c) => calKey(c.config)))].reduce((s, k) => {
      const cal = calibrations.get(k);
      return s + (cal ? cal.dataSeconds + cal.processSeconds : 0);
    }, 0);
  const fleets = timed(toRun(planned));
  const perCell = new Map<string, number>();
  for (const f of fleets) for (const c of f.cells) perCell.set(c.id, f.seconds);
  const totalSeconds = todo.length ? setupSeconds + fleets.reduce((s, f) => s + f.seconds, 0) + oncePerWorkerSeconds(todo) : 0;
  const workers = Math.max(1, options.workers ?? 1);

  const groups = new Map<string, PlanGroup>();
  for (const c of cells) {
    const key = `${c.config.model.name}\0${c.config.task.name}\0${conditionName(c.config)}`;
    const g = groups.get(key) ?? { model: c.config.model.name, task: c.config.task.name, corruption: conditionName(c.config), cells: [] };
    g.cells.push({ id: c.id, seed: c.config.seed, state: state.get(c.id) as PlannedState, seconds: perCell.get(c.id) ?? 0 });
    groups.set(key, g);
  }
  for (const g of groups.values()) g.cells.sort((a, b) => a.seed - b.seed);

  const shards = options.shards
    ? Array.from({ length: options.shards }, (_, index) => {
        const share = toRun(shardFleets(planned, { index, count: options.shards as number }));
        const mine = share.flat().filter((c) => state.get(c.id) !== 'finished');
        const seconds = mine.length ? setupSeconds + timed(share).reduce((s, f) => s + f.seconds, 0) + oncePerWorkerSeconds(mine) : 0;
        return { index, cells: mine.length, seconds };
      })
    : undefined;
  const counts = { total: cells.length, finished: 0, recompute: 0, run: 0 };
  for (const s of state.values()) counts[s] += 1;
  return {
    name: spec.name,
    dir,
    device,
    counts,
    groups: [...groups.values()],
    fleets: fleets.map((f) => {
      const first = (f.cells[0] as PlannedCell).config;
      return {
        cells: f.cells.map((c) => c.id),
        label: `${first.model.name}/${first.task.name} seed ${first.seed}: ${f.cells.map((c) => conditionName(c.config)).join(', ')}`,
        seconds: f.seconds,
      };
    }),
    calibrations: [...calibrations.values()],
    estimate: { setupSeconds, totalSeconds, workers, wallSeconds: totalSeconds / workers, ...(shards ? { shards } : {}) },
  };
}
