/**
 * Sweep results as flat rows (CSV) or full records (JSONL), and a status summary of a sweep folder. Both
 * read index.jsonl as a stream (index-file.ts) and only the cell folders it does not name, so their cost
 * is one pass over the index plus the unfinished cells, and their memory a few small fields per cell.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError, isHealbertError } from '../errors.js';
import { conditionName, expandSweep } from './expand.js';
import { InputsTally, inputsDigest } from './fingerprint.js';
import { appendToIndex, forEachIndexLine, indexPath, lineId } from './index-file.js';
import { loadSpec } from './load.js';
import { isLocked } from './store.js';
import type { CellConfig, CellResult } from './types.js';

export interface StatusRow {
  id: string;
  label: string;
  state: 'done' | 'diverged' | 'failed' | 'running' | 'pending';
  metric?: string;
  probe?: number;
  final?: number;
  error?: string;
  /** A digest of the cell's input fingerprints (fingerprint.ts): equal when two cells read the same bytes. */
  inputs?: string;
}

export interface SweepStatus {
  counts: Record<StatusRow['state'], number>;
  cells: StatusRow[];
  /** Cells of one model and task computed from different inputs. */
  warnings: string[];
}

const label = (c: CellConfig) => `${c.model.name}/${c.task.name} ${conditionName(c)} seed ${c.seed}`;

function parseResult(text: string, where: string): CellResult {
  try {
    return JSON.parse(text) as CellResult;
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${where}: unreadable result (${(error as Error).message})`);
  }
}

/** The cell folders (ids, sorted) that `known` does not name. */
async function otherCells(dir: string, known: { has(id: string): boolean }): Promise<string[]> {
  let ids: string[];
  try {
    ids = await readdir(join(dir, 'cells'));
  } catch {
    if (existsSync(indexPath(dir))) return [];
    throw new HealbertError('ERR_DATA', `${dir} is not a sweep folder (no cells/ inside)`);
  }
  return ids.filter((id) => !known.has(id)).sort();
}

/** A cell's result.json, or undefined when it has none (yet, or set aside just now). */
async function resultFile(dir: string, id: string): Promise<CellResult | undefined> {
  const path = join(dir, 'cells', id, 'result.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseResult(text, path);
}

/** inputsDigest, remembering the last inputs: the cells of a sweep mostly read the same files. */
function digestOf(): (inputs: CellResult['inputs']) => string | undefined {
  let last: { inputs: Record<string, string>; digest: string } | undefined;
  return (inputs) => {
    if (!inputs) return undefined;
    const keys = Object.keys(inputs);
    if (last && keys.length === Object.keys(last.inputs).length && keys.every((k) => last?.inputs[k] === inputs[k])) return last.digest;
    last = { inputs, digest: inputsDigest(inputs) as string };
    return last.digest;
  };
}

function statusRow(r: CellResult, digest: (inputs: CellResult['inputs']) => string | undefined): StatusRow {
  const metric = r.primaryMetric || undefined;
  return {
    id: r.id,
    label: label(r.config),
    state: r.status,
    ...(metric ? { metric } : {}),
    ...(metric && r.scores.probe?.[metric] !== undefined ? { probe: r.scores.probe[metric] } : {}),
    ...(metric && r.scores.final?.[metric] !== undefined ? { final: r.scores.final[metric] } : {}),
    ...(r.error ? { error: `${r.error.code}: ${r.error.message.split('\n')[0]}` } : {}),
    ...(r.inputs ? { inputs: digest(r.inputs) as string } : {}),
  };
}

/**
 * Every cell of a sweep folder with its state. Finished cells come from index.jsonl (the last line of a
 * cell wins), then the cell folders it does not name: a result.json there (a worker killed before it
 * appended, an older folder) is counted and appended to the index, so the next status finds it there; a
 * folder without one is running (a live lock) or pending. Cells the spec plans and the folder does not
 * hold yet are pending too.
 */
export async function sweepStatus(dir: string): Promise<SweepStatus> {
  const rows = new Map<string, StatusRow>();
  const inputsOf = new Map<string, { config: CellConfig; inputs: CellResult['inputs'] }>();
  const digest = digestOf();
  let controls = false;
  const take = (r: CellResult) => {
    controls ||= r.config.control === true;
    rows.set(r.id, statusRow(r, digest));
    inputsOf.set(r.id, { config: r.config, inputs: r.inputs });
  };
  if (existsSync(indexPath(dir))) await forEachIndexLine(indexPath(dir), (line, n) => take(parseResult(line, `${indexPath(dir)}:${n}`)));
  const missing: CellResult[] = [];
  for (const id of await otherCells(dir, rows)) {
    const result = await resultFile(dir, id);
    if (result) {
      take(result);
      missing.push(result);
      continue;
    }
    const configPath = join(dir, 'cells', id, 'config.json');
    if (!existsSync(configPath)) continue; // a folder being created right now
    const { config } = JSON.parse(await readFile(configPath, 'utf8')) as { config: CellConfig };
    controls ||= config.control === true;
    rows.set(id, { id, label: label(config), state: (await isLocked(dir, id)) ? 'running' : 'pending' });
  }
  const warnings: string[] = [];
  if (missing.length > 0) {
    try {
      await appendToIndex(dir, missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error; // a folder this user may only read
    }
  }
  const tally = new InputsTally();
  for (const { config, inputs } of inputsOf.values()) tally.add(config, inputs);
  warnings.push(...tally.warnings());
  // Cells the spec has and the folder does not yet: in a finetuned folder written before controls existed,
  // the controls, which the next run adds. Listed as pending so that status shows what a run will do. Only
  // such a folder can lack planned cells (every run writes every cell's config.json before the first cell
  // starts), so only there is the spec expanded (4 s of hashing at 100,000 cells).
  try {
    for (const c of controls ? [] : await specCells(dir, 'finetuned')) {
      if (rows.has(c.id)) continue;
      rows.set(c.id, { id: c.id, label: label(c.config), state: 'pending' });
    }
  } catch (error) {
    if (!isHealbertError(error)) throw error;
    warnings.push(`spec.json: cannot list the cells it plans (${error.message}); only the cells in cells/ are shown`);
  }
  const counts: SweepStatus['counts'] = { done: 0, diverged: 0, failed: 0, running: 0, pending: 0 };
  for (const row of rows.values()) counts[row.state] += 1;
  const cells = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { counts, cells, warnings };
}

/** The cells the folder's spec.json expands into (none without one, or when it is not of `protocol`). */
async function specCells(dir: string, protocol: CellConfig['protocol']): Promise<{ id: string; config: CellConfig }[]> {
  if (!existsSync(join(dir, 'spec.json'))) return [];
  const { spec } = await loadSpec(dir);
  return spec.protocol === protocol ? expandSweep(spec).cells : [];
}

const CSV_COLUMNS = [
  'id',
  'status',
  'protocol',
  'model',
  'task',
  'corruption',
  'method',
  'level',
  'layers',
  'components',
  'fraction',
  'seed',
  'metric',
  'probe',
  'before_corruption',
  'after_corruption',
  'final',
  'epochs',
  'changed',
  'relative_change',
  'seconds',
  'error',
  'inputs',
] as const;

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultRow(r: CellResult): Record<(typeof CSV_COLUMNS)[number], unknown> {
  const m = r.primaryMetric;
  const c = r.config.corruption;
  return {
    id: r.id,
    status: r.status,
    protocol: r.config.protocol,
    model: r.config.model.name,
    task: r.config.task.name,
    corruption: conditionName(r.config),
    method: c?.method ?? '',
    level: c?.level ?? '',
    layers: c?.targets.layers ?? '',
    components: c?.targets.components ?? '',
    fraction: c?.fraction ?? '',
    seed: r.config.seed,
    metric: m,
    probe: r.scores.probe?.[m],
    before_corruption: r.scores.beforeCorruption?.[m],
    after_corruption: r.scores.afterCorruption?.[m],
    final: r.scores.final?.[m],
    epochs: r.scores.epochs.map((e) => e.metrics[m]),
    changed: r.corruption?.changed,
    relative_change: r.corruption?.relativeChange,
    seconds: r.timings.total,
    error: r.error ? `${r.error.code}: ${r.error.message.split('\n')[0]}` : '',
    inputs: inputsDigest(r.inputs),
  };
}

/** What `export` warns about on stderr: cells of one model and task computed from different inputs. */
export async function exportWarnings(dir: string): Promise<string[]> {
  return (await writeExport(dir, 'jsonl', () => undefined)).warnings;
}

/**
 * Streams a folder's results to `write` (awaited, so a slow output holds the reading back): JSONL, every
 * cell's latest result line as it is in the index; CSV, one row per cell. Rows come in the order the
 * cells finished (the index's order), then cells whose result the index does not hold yet. Memory: the
 * id and line number of each cell (two passes over the index, the first reading only ids), not results.
 */
export async function writeExport(
  dir: string,
  format: 'csv' | 'jsonl',
  write: (chunk: string) => void | Promise<void>,
): Promise<{ cells: number; warnings: string[] }> {
  const path = indexPath(dir);
  const last = new Map<string, number>();
  const hasIndex = existsSync(path);
  if (hasIndex)
    await forEachIndexLine(path, (line, n) => {
      last.set(lineId(line) ?? parseResult(line, `${path}:${n}`).id, n);
    });
  const others = await otherCells(dir, last);
  const tally = new InputsTally();
  let buffer = format === 'csv' ? `${CSV_COLUMNS.join(',')}\n` : '';
  let cells = 0;
  const emit = async (r: CellResult, line?: string) => {
    cells += 1;
    tally.add(r.config, r.inputs);
    if (format === 'jsonl') buffer += `${line ?? JSON.stringify(r)}\n`;
    else {
      const row = resultRow(r);
      buffer += `${CSV_COLUMNS.map((k) => csvCell(row[k])).join(',')}\n`;
    }
    if (buffer.length >= 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  };
  if (hasIndex)
    await forEachIndexLine(path, (line, n) => {
      const id = lineId(line);
      if (id !== null && last.get(id) !== n) return; // an earlier result of a cell (a failed run, retried)
      const r = parseResult(line, `${path}:${n}`);
      return last.get(r.id) === n ? emit(r, line) : undefined;
    });
  for (const id of others) {
    const r = await resultFile(dir, id);
    if (r) await emit(r);
  }
  if (buffer) await write(buffer);
  return { cells, warnings: tally.warnings() };
}

/** The whole export as one string (writeExport streams it). */
export async function exportResults(dir: string, format: 'csv' | 'jsonl'): Promise<string> {
  const chunks: string[] = [];
  await writeExport(dir, format, (chunk) => {
    chunks.push(chunk);
  });
  return chunks.join('');
}
