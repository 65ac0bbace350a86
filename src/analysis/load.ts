/**
 * Reads a sweep folder (layout in src/sweep/types.ts) into one list of cells, finished or not. Finished
 * cells come from index.jsonl when it exists, else from cells/<id>/result.json; a cell whose result is in
 * neither is in flight (its lock file exists) or not started. Every unreadable file is an ERR_DATA error
 * that names it.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { forEachIndexLine } from '../sweep/index-file.js';
import type { CellConfig, CellResult } from '../sweep/types.js';

/** done, diverged and failed cells have a result; running and pending ones only a config. */
export type CellStatus = CellResult['status'] | 'running' | 'pending';

export interface SweepCell {
  id: string;
  status: CellStatus;
  config: CellConfig;
  result?: CellResult;
}

export interface LoadedSweep {
  dir: string;
  /** spec.json, when the folder has one. */
  spec?: Record<string, unknown>;
  /** Where finished results were read from. */
  source: 'index.jsonl' | 'result.json';
  cells: SweepCell[];
}

const STATUSES = new Set(['done', 'diverged', 'failed']);

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${where}: not valid JSON (${(error as Error).message})`);
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseJson(text, path);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks the fields analysis relies on; the rest of the format is trusted. */
export function checkCellResult(value: unknown, where: string): CellResult {
  const fail = (what: string): never => {
    throw new HealbertError('ERR_DATA', `${where}: not a cell result (${what})`);
  };
  if (!isObject(value)) return fail('not an object');
  if (value.format !== 1) fail(`format ${JSON.stringify(value.format)}, expected 1`);
  if (typeof value.id !== 'string' || value.id === '') fail('no id');
  if (typeof value.status !== 'string' || !STATUSES.has(value.status)) fail(`status ${JSON.stringify(value.status)}`);
  checkConfig(value.config, `${where}: config`);
  if (typeof value.primaryMetric !== 'string') fail('no primaryMetric');
  if (!isObject(value.scores) || !Array.isArray(value.scores.epochs)) fail('no scores.epochs');
  if (value.baselineId !== null && typeof value.baselineId !== 'string') fail('baselineId is neither a string nor null');
  return value as unknown as CellResult;
}

function checkConfig(value: unknown, where: string): CellConfig {
  const fail = (what: string): never => {
    throw new HealbertError('ERR_DATA', `${where}: not a cell config (${what})`);
  };
  if (!isObject(value)) return fail('not an object');
  if (value.protocol !== 'pretrained' && value.protocol !== 'finetuned') fail(`protocol ${JSON.stringify(value.protocol)}`);
  if (!isObject(value.model) || typeof value.model.name !== 'string') fail('no model.name');
  if (!isObject(value.task) || typeof value.task.name !== 'string') fail('no task.name');
  if (typeof value.seed !== 'number') fail('no seed');
  if (value.corruption !== null && (!isObject(value.corruption) || typeof value.corruption.method !== 'string'))
    fail('corruption is neither null nor a spec');
  return value as unknown as CellConfig;
}

/** index.jsonl's results, streamed (index-file.ts); a cell's last line is its result. */
async function readIndex(path: string, onResult: (result: CellResult) => void): Promise<void> {
  await forEachIndexLine(path, (line, n) => {
    onResult(checkCellResult(parseJson(line, `${path}:${n}`), `${path}:${n}`));
  });
}

/** Reads a sweep folder. */
export async function readSweep(dir: string): Promise<LoadedSweep> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new HealbertError('ERR_DATA', `${dir}: not a sweep folder (no such directory)`);
  const specPath = join(dir, 'spec.json');
  const spec = existsSync(specPath) ? await readJson(specPath) : undefined;
  const cellsDir = join(dir, 'cells');
  const indexPath = join(dir, 'index.jsonl');
  const hasIndex = existsSync(indexPath);
  if (!existsSync(cellsDir) && !hasIndex)
    throw new HealbertError('ERR_DATA', `${dir}: not a sweep folder (neither cells/ nor index.jsonl)`);

  const byId = new Map<string, SweepCell>();
  if (hasIndex)
    await readIndex(indexPath, (result) => byId.set(result.id, { id: result.id, status: result.status, config: result.config, result }));
  const ids = existsSync(cellsDir)
    ? (await readdir(cellsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)
    : [];
  ids.sort();
  for (const id of ids) {
    if (byId.has(id)) continue;
    const cellDir = join(cellsDir, id);
    const resultPath = join(cellDir, 'result.json');
    // Cells that finished after the index was last rebuilt still count.
    if (existsSync(resultPath)) {
      const result = checkCellResult(await readJson(resultPath), resultPath);
      byId.set(result.id, { id: result.id, status: result.status, config: result.config, result });
      continue;
    }
    const configPath = join(cellDir, 'config.json');
    if (!existsSync(configPath)) continue; // a folder being created right now
    // The sweep writes { id, baselineId, config } (store.ts); a bare config is read too.
    const raw = await readJson(configPath);
    const config = checkConfig(isObject(raw) && isObject(raw.config) ? raw.config : raw, configPath);
    byId.set(id, { id, status: existsSync(join(cellDir, 'lock')) ? 'running' : 'pending', config });
  }
  return {
    dir,
    ...(isObject(spec) ? { spec } : {}),
    source: hasIndex ? 'index.jsonl' : 'result.json',
    cells: [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}
