/**
 * Resuming a sweep safely: which finished cells were computed from inputs that have changed since, the
 * ERR_CONFIG that refuses to mix them with new ones, and --recompute-changed, which sets those results
 * aside (renamed, never deleted) so exactly those cells run again.
 */
import { existsSync } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HealbertError } from '../errors.js';
import { heals } from './expand.js';
import { type CellInputs, changedInputs, Fingerprinter, type InputChange, readInputsFile, shortFingerprint } from './fingerprint.js';
import { forEachIndexLine, indexPath } from './index-file.js';
import { cellDir, isFinished, readResult, resultPath } from './store.js';
import type { CellConfig, CellResult } from './types.js';

type Cell = { id: string; config: CellConfig };

/** Every cell's inputs now, reusing the records of the folder's inputs.json for untouched files. */
export async function fingerprintCells(
  dir: string,
  cells: Cell[],
): Promise<{ inputs: Map<string, CellInputs>; fingerprinter: Fingerprinter }> {
  const fingerprinter = new Fingerprinter(await readInputsFile(dir));
  const byKey = new Map<string, CellInputs>();
  const inputs = new Map<string, CellInputs>();
  for (const cell of cells) {
    const c = cell.config;
    // Cells of one model, task and corpus read the same files: list and stat them once.
    const key = JSON.stringify([c.model.path, c.task, heals(c) && c.recovery.mlmSteps > 0 ? c.recovery.mlmCorpus : null]);
    let found = byKey.get(key);
    if (!found) {
      found = await fingerprinter.cell(c);
      byKey.set(key, found);
    }
    inputs.set(cell.id, found);
  }
  return { inputs, fingerprinter };
}

export interface ChangedCell {
  id: string;
  changes: InputChange[];
}

/**
 * Finished cells (done or diverged) whose recorded inputs differ from `inputs`. Failed cells rerun anyway.
 * Every worker and array task checks this before it starts, so the results come from index.jsonl (one
 * sequential read; a cell's last line wins) and a result.json is read only when the index does not name
 * it or it is newer than the index (written or changed since): reading every result.json took 4.8 s per
 * worker at 12,288 cells, and a Slurm array repeats it in every task. A stat per cell remains.
 */
export async function findChangedCells(dir: string, cells: Cell[], inputs: Map<string, CellInputs>): Promise<ChangedCell[]> {
  const indexed = new Map<string, Pick<CellResult, 'status' | 'inputs'>>();
  const indexTime = (await stat(indexPath(dir)).catch(() => undefined))?.mtimeMs;
  if (indexTime !== undefined) {
    await forEachIndexLine(indexPath(dir), (line, n) => {
      let r: CellResult;
      try {
        r = JSON.parse(line) as CellResult;
      } catch (error) {
        throw new HealbertError('ERR_DATA', `${indexPath(dir)}:${n}: not valid JSON (${(error as Error).message})`);
      }
      indexed.set(r.id, { status: r.status, ...(r.inputs ? { inputs: r.inputs } : {}) });
    });
  }
  const changed: ChangedCell[] = [];
  for (const cell of cells) {
    const written = (await stat(resultPath(dir, cell.id)).catch(() => undefined))?.mtimeMs;
    if (written === undefined) continue; // no result (yet, or set aside)
    // Strictly older: a file's mtime has the kernel's coarse clock (a few ms), so a result.json rewritten in the
    // same tick as the index's last append has the index's time and must be read.
    const fromIndex = indexTime !== undefined && written < indexTime ? indexed.get(cell.id) : undefined;
    const result = fromIndex ?? (await readResult(dir, cell.id));
    if (!isFinished(result as CellResult | undefined)) continue;
    const changes = changedInputs(result?.inputs, inputs.get(cell.id) ?? {});
    if (changes.length) changed.push({ id: cell.id, changes });
  }
  return changed;
}

/** The changed files, each with its old and new fingerprint and the number of cells it touches. */
export function describeChanges(changed: ChangedCell[]): string[] {
  const byChange = new Map<string, number>();
  for (const cell of changed) {
    for (const c of cell.changes) {
      const line =
        c.old === undefined && c.file === '(all inputs)'
          ? 'no input fingerprints recorded (computed before healbert kept them)'
          : `${c.file}: ${shortFingerprint(c.old)} -> ${c.new === undefined ? 'no longer an input' : shortFingerprint(c.new)}`;
      byChange.set(line, (byChange.get(line) ?? 0) + 1);
    }
  }
  return [...byChange].map(([line, n]) => `  ${line} (${n} cell${n === 1 ? '' : 's'})`);
}

export function changedInputsError(dir: string, changed: ChangedCell[]): HealbertError {
  return new HealbertError(
    'ERR_CONFIG',
    `${dir}: ${changed.length} finished cell${changed.length === 1 ? ' was' : 's were'} computed from inputs that have changed since:\n` +
      `${describeChanges(changed).join('\n')}\n` +
      'Their results would be mixed with results of the new inputs. Either write to a new results folder (--out <new dir>), or ' +
      'rerun with --recompute-changed: it reruns exactly these cells and keeps each old result beside the new one as ' +
      'result.stale-<date>.json (nothing is deleted).',
  );
}

/**
 * Refuses (ERR_CONFIG) a results folder with finished cells whose inputs changed, unless `allowed` (the
 * --recompute-changed of a run that sets them aside). For --emit, which queues jobs that would refuse.
 */
export async function checkUnchangedInputs(dir: string, cells: Cell[], allowed: boolean): Promise<number> {
  if (!existsSync(dir)) return 0;
  const changed = await findChangedCells(dir, cells, (await fingerprintCells(dir, cells)).inputs);
  if (changed.length > 0 && !allowed) throw changedInputsError(dir, changed);
  return changed.length;
}

/** "2026-12-05T19-50-12Z": a date that is a valid file name everywhere. */
export const staleStamp = (date = new Date()) =>
  date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');

/** A free name `<base>.stale-<stamp><ext>` (a counter after the stamp when one is taken). */
function staleName(dir: string, base: string, ext: string, stamp: string): string {
  for (let n = 1; ; n++) {
    const path = join(dir, `${base}.stale-${stamp}${n > 1 ? `-${n}` : ''}${ext}`);
    if (!existsSync(path)) return path;
  }
}

/**
 * Renames the results of changed cells to result.stale-<date>.json (and a clean cell's saved model and
 * representations to model.stale-<date> and representations.stale-<date>.safetensors), so that the sweep runs them again. Several workers or array tasks may do
 * this at once: a result another one already set aside (gone), or already recomputed (its inputs now
 * match `inputs`), is left alone. Returns the new result names.
 */
export async function setAsideStale(
  dir: string,
  changed: ChangedCell[],
  inputs: Map<string, CellInputs>,
  stamp = staleStamp(),
): Promise<string[]> {
  const moved: string[] = [];
  for (const { id } of changed) {
    const current = await readResult(dir, id);
    if (!isFinished(current) || changedInputs(current?.inputs, inputs.get(id) ?? {}).length === 0) continue;
    const folder = cellDir(dir, id);
    const target = staleName(folder, 'result', '.json', stamp);
    try {
      await rename(resultPath(dir, id), target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // set aside by another worker just now
      throw error;
    }
    moved.push(target);
    if (existsSync(join(folder, 'model'))) await rename(join(folder, 'model'), staleName(folder, 'model', '', stamp));
    // A measured clean cell's representations (src/measure/store.ts) are its result's too.
    const representations = join(folder, 'representations.safetensors');
    if (existsSync(representations)) await rename(representations, staleName(folder, 'representations', '.safetensors', stamp));
  }
  return moved;
}
