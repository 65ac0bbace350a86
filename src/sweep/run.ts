/**
 * runSweep: expands a spec into cells and runs those not yet finished, resumable at any moment.
 *
 * Workers pull planned fleets (fleet-plan.ts; a solo cell is a fleet of one) through lock files (store.ts),
 * so any number of processes on any number of machines can share one results folder: `devices` starts one
 * worker process per GPU, `workers` several CPU worker processes, and `shard` gives each of N machines a
 * deterministic share of the fleets. A fleet that a worker was running when it died is redone by the next
 * worker that finds its locks stale.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { HealbertError } from '../errors.js';
import { measuredAgainstCleanCell } from '../measure/spec.js';
import { loadNative, packageRoot } from '../native/binding.js';
import { healbertVersion } from '../version.js';
import { type CellEvent, type PlannedCell, runFleet } from './cell.js';
import type { CellData } from './data.js';
import { conditionName, type expandSweep } from './expand.js';
import { type CellInputs, writeInputsFile } from './fingerprint.js';
import { folderFleetSizes } from './fleet.js';
import { planFleets, shardFleets } from './fleet-plan.js';
import { explainIoError } from './io-errors.js';
import { checkedSweep } from './load.js';
import { changedInputsError, findChangedCells, fingerprintCells, setAsideStale } from './resume.js';
import type { ResolvedSweepSpec } from './spec.js';
import { appendToIndex, claimCell, initSweepDir, isFinished, readResult, rebuildIndex, writeResult } from './store.js';
import type { CellConfig, CellResult } from './types.js';

export { checkedSweep, loadSpec } from './load.js';

/** Progress events of {@link runSweep}: the plan, each cell's progress and result, and the end. */
export type SweepEvent =
  | CellEvent
  | {
      type: 'sweep-start';
      name: string;
      dir: string;
      total: number;
      finished: number;
      todo: number;
      worker: string;
      /** Cells set aside by --recompute-changed in this run (their inputs changed). */
      recomputed?: number;
    }
  | { type: 'cell-start'; id: string; label: string; worker: string }
  | {
      type: 'cell-end';
      id: string;
      label: string;
      status: CellResult['status'];
      metric: string;
      score: number | null;
      seconds: number;
      error?: string;
    }
  | { type: 'waiting'; blocked: number }
  /** A spec's dtype 'auto' resolved, before the cells are expanded. */
  | { type: 'dtype'; choice: 'auto'; dtype: 'float32' | 'bfloat16'; reason: string }
  | { type: 'sweep-end'; total: number; done: number; diverged: number; failed: number; remaining: number; seconds: number };

/**
 * Options of {@link runSweep}: the results folder, devices or worker processes, the shard, the fleet size, what to do
 * with changed inputs, and a progress callback.
 */
export interface SweepOptions {
  /** The results folder. */
  out: string;
  /** Relative paths in an in-memory spec are resolved against this folder (default: the working dir). */
  baseDir?: string;
  /** One worker process per device, e.g. ['cuda:0', 'cuda:1']. */
  devices?: string[];
  /** CPU worker processes (default 1, in this process). */
  workers?: number;
  /** This machine's share: cells i, i+N, i+2N, ... of the id-ordered list. */
  shard?: { index: number; count: number };
  /**
   * Cells trained together per step as one fleet (overrides the spec's `fleet`): a number, or 'auto' (1 on
   * the CPU, what fits in memory on CUDA, recorded in the folder's fleets.json by its first run). Cell ids
   * do not depend on it, so a sweep may be resumed with another fleet size; results do by round-off (each
   * records its fleet). The fleets themselves are fixed by the cells and K (fleet-plan.ts), never by which
   * worker claimed what.
   */
  fleet?: number | 'auto';
  /**
   * When finished cells were computed from inputs that have changed since (fingerprint.ts): rerun exactly
   * those, keeping each old result as result.stale-<date>.json. Without it such a rerun is refused.
   */
  recomputeChanged?: boolean;
  signal?: AbortSignal;
  /** Called with every progress event (the CLI prints them). */
  onEvent?: (event: SweepEvent) => void;
  /** A lock without a heartbeat for this long is taken over (default 2 minutes). */
  staleAfterMs?: number;
  /** How often a worker waiting for locked cells looks again (default 2 s). */
  pollMs?: number;
  /**
   * How to start a worker process: the command and arguments before `sweep <dir> ...`. Default: the CLI
   * that is running, or the package's installed `healbert` when runSweep is called from other code.
   */
  workerCommand?: string[];
}

let runningCli: string | undefined;

/** The CLI tells runSweep its own entry point, so worker processes start the same CLI (source or dist). */
export function setCliEntryPoint(path: string | undefined): void {
  runningCli = path;
}

/** What a sweep run left: its folder and how many cells are done, diverged, failed and not run. */
export interface SweepSummary {
  dir: string;
  total: number;
  done: number;
  diverged: number;
  failed: number;
  remaining: number;
}

export const cellLabel = (config: CellConfig) => `${config.model.name}/${config.task.name} ${conditionName(config)} seed ${config.seed}`;

async function summarize(dir: string, cells: { id: string }[]): Promise<SweepSummary> {
  const summary: SweepSummary = { dir, total: cells.length, done: 0, diverged: 0, failed: 0, remaining: 0 };
  for (const cell of cells) {
    const r = await readResult(dir, cell.id);
    if (!r) summary.remaining += 1;
    else if (r.status === 'done') summary.done += 1;
    else if (r.status === 'diverged') summary.diverged += 1;
    else summary.failed += 1;
  }
  return summary;
}

/**
 * Runs (or resumes) a sweep from a spec file, a sweep folder or an in-memory spec: checks everything first,
 * fingerprints the inputs, and runs the cells without a result.
 */
export async function runSweep(input: unknown, options: SweepOptions): Promise<SweepSummary> {
  const dir = resolve(options.out);
  const { spec, expanded, decision } = await checkedSweep(input, { baseDir: options.baseDir, devices: options.devices, dir });
  if (decision) options.onEvent?.({ type: 'dtype', choice: 'auto', ...decision });
  try {
    return await runChecked(spec, expanded, dir, options);
  } catch (error) {
    throw explainIoError(error, dir);
  }
}

async function runChecked(
  spec: ResolvedSweepSpec,
  expanded: ReturnType<typeof expandSweep>,
  dir: string,
  options: SweepOptions,
): Promise<SweepSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const { inputs, fingerprinter } = await fingerprintCells(dir, expanded.cells);
  const changed = await findChangedCells(dir, expanded.cells, inputs);
  if (changed.length > 0 && !options.recomputeChanged) throw changedInputsError(dir, changed);
  await initSweepDir(dir, spec, expanded.cells);
  await writeInputsFile(dir, fingerprinter, inputs.values());
  // The index still lists the results set aside: rewrite it (rare, so its full pass is fine).
  if (changed.length > 0 && (await setAsideStale(dir, changed, inputs)).length > 0) await rebuildIndex(dir);
  const started = process.hrtime.bigint();
  const devices = options.devices ?? [];
  const workers = devices.length > 1 ? devices.length : Math.max(1, options.workers ?? 1);
  // The fleets are fixed here, from the cells and K alone (fleet-plan.ts); a shard is a share of fleets.
  const sizes = await folderFleetSizes(dir, spec.models, spec.recipe, options.fleet ?? spec.fleet, devices[0] ?? spec.device, {
    record: true,
  });
  const fleets = planFleets(expanded.cells, (c) => sizes.get(c.config.model.path) ?? 1);
  const myFleets = shardFleets(fleets, options.shard);
  const mine = myFleets.flat();
  if (workers > 1) {
    // The workers' own sweep-start events are not relayed (each sees the cells the others finished): one here.
    const before = await summarize(dir, mine);
    emit({
      type: 'sweep-start',
      name: spec.name,
      dir,
      total: mine.length,
      finished: before.done + before.diverged,
      todo: before.failed + before.remaining,
      worker: `${workers} workers`,
      ...(changed.length ? { recomputed: changed.length } : {}),
    });
    await runWorkerProcesses(dir, devices, workers, options, emit);
  } else {
    await workLoop(dir, spec, fleets, myFleets, devices[0] ?? spec.device, { ...options, inputs, recomputed: changed.length }, emit);
  }
  const summary = await summarize(dir, mine);
  emit({ type: 'sweep-end', ...summary, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
  return summary;
}

async function workLoop(
  dir: string,
  spec: ResolvedSweepSpec,
  all: PlannedCell[][],
  fleets: PlannedCell[][],
  device: string,
  options: SweepOptions & { inputs: Map<string, CellInputs>; recomputed: number },
  emit: (e: SweepEvent) => void,
): Promise<void> {
  const worker = `${device}`;
  const mine = fleets.flat();
  const fleetOf = new Map(all.flatMap((fleet) => fleet.map((c) => [c.id, fleet] as const)));
  const staleAfterMs = options.staleAfterMs ?? 120_000;
  const dataCache = new Map<string, Promise<CellData>>();
  // Results are final once written (a failed one is retried by the next run, not again in this one), so
  // each cell's file is read until it is known finished, and never again.
  const known = new Map<string, CellResult>();
  const attempted = new Set<string>();
  const resultOf = async (id: string) => {
    const cached = known.get(id);
    if (cached) return cached;
    const r = await readResult(dir, id);
    if (r && (isFinished(r) || attempted.has(id))) known.set(id, r);
    return r;
  };
  const done = async (id: string) => attempted.has(id) || isFinished(await resultOf(id));
  let finishedCount = 0;
  for (const c of mine) if (await done(c.id)) finishedCount += 1;
  emit({
    type: 'sweep-start',
    name: spec.name,
    dir,
    total: mine.length,
    finished: finishedCount,
    todo: mine.length - finishedCount,
    worker,
    ...(options.recomputed ? { recomputed: options.recomputed } : {}),
  });
  for (;;) {
    let waiting = 0;
    for (const planned of fleets) {
      if (options.signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'sweep interrupted; run it again to resume');
      let fleet = planned;
      // finetuned: corrupted cells and controls start from their baseline's task model; measured cells of the
      // pretrained protocol compare with their clean cell, which must be finished first unless it is in the fleet.
      const needy = fleet.find(
        (c) =>
          c.baselineId &&
          !fleet.some((m) => m.id === c.baselineId) &&
          (c.config.protocol === 'finetuned' || measuredAgainstCleanCell(c.config)),
      );
      if (needy?.baselineId) {
        const baseline = await resultOf(needy.baselineId);
        if (!baseline || (baseline.status === 'failed' && !attempted.has(needy.baselineId))) {
          // Its baseline is not done: run the baseline's fleet here if nobody is (it may belong to another shard).
          const b = fleetOf.get(needy.baselineId);
          if (!b || (await done(needy.baselineId))) continue;
          fleet = b;
        }
      }
      const open: PlannedCell[] = [];
      for (const c of fleet) if (!(await done(c.id))) open.push(c);
      if (open.length === 0) continue;
      // The fleet is claimed whole (its members still to run, in member order: every worker claims in
      // the same order, so two never hold parts of one fleet).
      const locks = [];
      try {
        for (const c of open) {
          const lock = await claimCell(dir, c.id, { staleAfterMs });
          if (!lock) break;
          locks.push(lock);
        }
        if (locks.length < open.length) {
          waiting += 1;
          continue;
        }
        // Finished by another worker meanwhile: those are kept, not rerun.
        const toRun: PlannedCell[] = [];
        for (const c of open) if (!isFinished(await readResult(dir, c.id))) toRun.push(c);
        if (toRun.length === 0) continue;
        for (const c of toRun) attempted.add(c.id);
        await runGroup(fleet, new Set(toRun.map((c) => c.id)), dir, device, options, emit, dataCache, worker, known, resultOf);
      } finally {
        for (const l of locks) await l.release();
      }
    }
    if (waiting === 0) {
      let unfinished = 0;
      for (const c of mine) if (!(await done(c.id))) unfinished += 1;
      if (unfinished === 0) return;
      // Cells left only wait for baselines that failed in this run: they are reported next run. (A baseline
      // this worker ran for another shard and that finished does not count: its cells still run here.)
      const baselineFailedHere = (id: string | null) => id !== null && attempted.has(id) && known.get(id)?.status === 'failed';
      if (mine.every((c) => attempted.has(c.id) || known.has(c.id) || baselineFailedHere(c.baselineId))) return;
    }
    emit({ type: 'waiting', blocked: waiting });
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
  }
}

/**
 * Runs one planned fleet (one cell when solo) and writes the results of the members in `write` when it
 * ends. Members not in `write` finished earlier (a retried member's fleet is recomputed as the same fleet,
 * so that its round-off is the one it was planned with): their new results are dropped.
 */
async function runGroup(
  group: PlannedCell[],
  write: ReadonlySet<string>,
  dir: string,
  device: string,
  options: SweepOptions & { inputs: Map<string, CellInputs> },
  emit: (e: SweepEvent) => void,
  dataCache: Map<string, Promise<CellData>>,
  worker: string,
  known: Map<string, CellResult>,
  resultOf: (id: string) => Promise<CellResult | undefined>,
): Promise<void> {
  for (const cell of group) if (write.has(cell.id)) emit({ type: 'cell-start', id: cell.id, label: cellLabel(cell.config), worker });
  const relay = (e: SweepEvent) => {
    if (!('id' in e) || write.has(e.id)) emit(e);
  };
  // The cells of a group share their baseline (fleetKey).
  const first = group[0] as PlannedCell;
  const baseline = first.baselineId ? await resultOf(first.baselineId) : undefined;
  const results: CellResult[] =
    first.config.protocol === 'finetuned' && baseline && baseline.status !== 'done'
      ? await Promise.all(
          group.map(async (cell) => ({
            ...(await runCellSkeleton(cell, device)),
            error: { code: 'ERR_BASELINE', message: `its clean baseline ${cell.baselineId} ${baseline.status}` },
          })),
        )
      : await runFleet(group, { dir, device, signal: options.signal, onEvent: relay, dataCache });
  const written: CellResult[] = [];
  for (const [i, cell] of group.entries()) {
    if (!write.has(cell.id)) continue;
    const result = results[i] as CellResult;
    const inputs = options.inputs.get(cell.id);
    if (inputs) result.inputs = inputs;
    await writeResult(dir, result);
    written.push(result);
  }
  // One append for the group, after every result is on disk: a crash in between leaves result.json files
  // that readers find in the cell folders the index does not name.
  await appendToIndex(dir, written);
  for (const [i, cell] of group.entries()) {
    if (!write.has(cell.id)) continue;
    const result = results[i] as CellResult;
    known.set(cell.id, result);
    const metric = result.primaryMetric;
    emit({
      type: 'cell-end',
      id: cell.id,
      label: cellLabel(cell.config),
      status: result.status,
      metric,
      score: result.scores.final?.[metric] ?? null,
      seconds: result.timings.total ?? 0,
      ...(result.error ? { error: `${result.error.code}: ${result.error.message.split('\n')[0]}` } : {}),
    });
  }
}

/** A result frame for a cell that could not run (its baseline failed). */
async function runCellSkeleton(cell: { id: string; config: CellConfig; baselineId: string | null }, device: string): Promise<CellResult> {
  const now = new Date().toISOString();
  return {
    format: 1,
    id: cell.id,
    status: 'failed',
    config: cell.config,
    baselineId: cell.baselineId,
    primaryMetric: '',
    scores: { epochs: [] },
    timings: { total: 0 },
    device,
    versions: { healbert: healbertVersion, libtorch: loadNative().runtimeInfo().torchVersion, node: process.version },
    worker: { host: hostname(), pid: process.pid },
    startedAt: now,
    finishedAt: now,
  };
}

/** Starts one `healbert sweep <dir>` worker process per device (or CPU worker) and relays their events. */
async function runWorkerProcesses(
  dir: string,
  devices: string[],
  workers: number,
  options: SweepOptions,
  emit: (e: SweepEvent) => void,
): Promise<void> {
  const command = options.workerCommand ?? [process.execPath, ...process.execArgv, runningCli ?? join(packageRoot, 'bin', 'healbert.js')];
  const threads = Math.max(1, Math.floor(availableParallelism() / (devices.length > 1 ? 1 : workers)));
  const processes: ReturnType<typeof spawn>[] = [];
  const children = Array.from({ length: workers }, (_, i) => {
    const device = devices[i] ?? 'cpu';
    const args = [...command.slice(1), 'sweep', dir, '--device', device, '--json'];
    if (options.shard) args.push('--shard', `${options.shard.index}/${options.shard.count}`);
    if (options.fleet !== undefined) args.push('--fleet', String(options.fleet));
    const child = spawn(command[0] as string, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The cores split among the workers, unless the user fixed the threads (on pip torch 2.x a CPU's float32
      // round-off depends on the thread count, so a fixed HEALBERT_THREADS keeps results independent of --workers).
      env: { ...process.env, ...(device === 'cpu' && !process.env.HEALBERT_THREADS ? { HEALBERT_THREADS: String(threads) } : {}) },
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as SweepEvent;
        if (event.type !== 'sweep-end' && event.type !== 'sweep-start') emit(event);
      } catch {
        // not an event line
      }
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[worker ${i} ${device}] ${chunk}`));
    processes.push(child);
    return new Promise<number>((resolveExit) => child.on('exit', (code) => resolveExit(code ?? 1))).then((code) => ({ code, device }));
  });
  // On abort, workers finish nothing more: they stop after their current step and leave no result for
  // the cell in flight (it is redone on the next run).
  const stop = () => {
    for (const child of processes) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', stop);
  const exits = await Promise.all(children);
  const failed = exits.filter((e) => e.code !== 0);
  if (options.signal?.aborted) throw new HealbertError('ERR_ARGUMENT', 'sweep interrupted; run it again to resume');
  if (failed.length)
    throw new HealbertError(
      'ERR_INTERNAL',
      `worker processes exited with errors: ${failed.map((f) => `${f.device} (status ${f.code})`).join(', ')}`,
    );
}
