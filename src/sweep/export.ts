/** Sweep results as flat rows (CSV) or full records (JSONL), and a status summary of a sweep folder. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isHealbertError } from '../errors.js';
import { conditionName, expandSweep } from './expand.js';
import { inputsDigest, mixedInputWarnings } from './fingerprint.js';
import { loadSpec } from './load.js';
import { isLocked, readSweep } from './store.js';
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

export async function sweepStatus(dir: string): Promise<SweepStatus> {
  const cells = await readSweep(dir);
  const counts: SweepStatus['counts'] = { done: 0, diverged: 0, failed: 0, running: 0, pending: 0 };
  const rows: StatusRow[] = [];
  for (const c of cells) {
    const r = c.result;
    const state: StatusRow['state'] = r ? r.status : (await isLocked(dir, c.id)) ? 'running' : 'pending';
    counts[state] += 1;
    const metric = r?.primaryMetric || undefined;
    rows.push({
      id: c.id,
      label: label(c.config),
      state,
      ...(metric ? { metric } : {}),
      ...(metric && r?.scores.probe?.[metric] !== undefined ? { probe: r.scores.probe[metric] } : {}),
      ...(metric && r?.scores.final?.[metric] !== undefined ? { final: r.scores.final[metric] } : {}),
      ...(r?.error ? { error: `${r.error.code}: ${r.error.message.split('\n')[0]}` } : {}),
      ...(r?.inputs ? { inputs: inputsDigest(r.inputs) as string } : {}),
    });
  }
  const warnings = mixedInputWarnings(cells);
  // Cells the spec has and the folder does not yet: in a finetuned folder written before controls existed,
  // the controls, which the next run adds. Listed as pending so that status shows what a run will do.
  const onDisk = new Set(cells.map((c) => c.id));
  try {
    for (const c of await specCells(dir)) {
      if (onDisk.has(c.id)) continue;
      counts.pending += 1;
      rows.push({ id: c.id, label: label(c.config), state: 'pending' });
    }
  } catch (error) {
    if (!isHealbertError(error)) throw error;
    warnings.push(`spec.json: cannot list the cells it plans (${error.message}); only the cells in cells/ are shown`);
  }
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { counts, cells: rows, warnings };
}

/** The cells the folder's spec.json expands into (none without one). */
async function specCells(dir: string): Promise<{ id: string; config: CellConfig }[]> {
  if (!existsSync(join(dir, 'spec.json'))) return [];
  return expandSweep((await loadSpec(dir)).spec).cells;
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
  return mixedInputWarnings(await readSweep(dir));
}

export async function exportResults(dir: string, format: 'csv' | 'jsonl'): Promise<string> {
  const results = (await readSweep(dir)).flatMap((c) => (c.result ? [c.result] : []));
  if (format === 'jsonl') return results.map((r) => `${JSON.stringify(r)}\n`).join('');
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of results) {
    const row = resultRow(r);
    lines.push(CSV_COLUMNS.map((k) => csvCell(row[k])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
