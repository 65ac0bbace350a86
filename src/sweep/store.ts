/**
 * The sweep folder on disk (layout in types.ts). Every file is written to a temporary name and renamed, so
 * a crash at any moment leaves either the old file or the new one, never half of one. Cells are claimed
 * with an exclusive lock file whose modification time is the worker's heartbeat; a lock whose worker died
 * (same host: its pid is gone; any host: no heartbeat for `staleAfterMs`) is taken over.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { temporaryPathFor, writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import type { CellConfig, CellResult } from './types.js';

export const cellDir = (dir: string, id: string) => join(dir, 'cells', id);
export const resultPath = (dir: string, id: string) => join(cellDir(dir, id), 'result.json');
/** A clean cell's saved model: the finetuned protocol's task model, or (measuring weights) the pretrained protocol's fine-tuned model. */
export const cellModelDir = (dir: string, id: string) => join(cellDir(dir, id), 'model');

export { writeAtomic } from '../atomic.js';
export { appendToIndex, rebuildIndex } from './index-file.js';

export async function initSweepDir(
  dir: string,
  spec: unknown,
  cells: { id: string; config: CellConfig; baselineId: string | null }[],
): Promise<void> {
  await mkdir(join(dir, 'cells'), { recursive: true });
  await writeAtomic(join(dir, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
  for (const cell of cells) {
    const path = join(cellDir(dir, cell.id), 'config.json');
    if (existsSync(path)) continue;
    await mkdir(cellDir(dir, cell.id), { recursive: true });
    await writeAtomic(path, `${JSON.stringify({ id: cell.id, baselineId: cell.baselineId, config: cell.config }, null, 2)}\n`);
  }
}

export async function readResult(dir: string, id: string): Promise<CellResult | undefined> {
  const path = resultPath(dir, id);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as CellResult;
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${path}: unreadable result (${(error as Error).message})`);
  }
}

export async function writeResult(dir: string, result: CellResult): Promise<void> {
  await writeAtomic(resultPath(dir, result.id), `${JSON.stringify(result, null, 2)}\n`);
}

/** A finished cell is not run again; a failed one (an error, not a divergence) is retried. */
export const isFinished = (r: CellResult | undefined) => r !== undefined && r.status !== 'failed';

export interface Lock {
  id: string;
  path: string;
  release(): Promise<void>;
}

interface LockInfo {
  host: string;
  pid: number;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a lock's holder is gone: on this host its pid is dead; anywhere, its heartbeat stopped. */
async function isStale(path: string, staleAfterMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    const holder = JSON.parse(text || '{}') as Partial<LockInfo>;
    if (holder.host === hostname() && typeof holder.pid === 'number' && !alive(holder.pid)) return true;
    return Date.now() - info.mtimeMs > staleAfterMs;
  } catch {
    // Unreadable or half-written (its writer died between create and write): stale once old enough.
    try {
      return Date.now() - (await stat(path)).mtimeMs > staleAfterMs;
    } catch {
      return true;
    }
  }
}

/**
 * Claims a cell for this process. Returns undefined when another live worker holds it. The heartbeat
 * touches the lock every `heartbeatMs` until released.
 */
export async function claimCell(
  dir: string,
  id: string,
  options: { heartbeatMs?: number; staleAfterMs?: number } = {},
): Promise<Lock | undefined> {
  const path = join(cellDir(dir, id), 'lock');
  const staleAfterMs = options.staleAfterMs ?? 120_000;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString() } satisfies LockInfo));
      await handle.close();
      const timer = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => undefined);
      }, options.heartbeatMs ?? 15_000);
      timer.unref();
      return {
        id,
        path,
        release: async () => {
          clearInterval(timer);
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (attempt > 0 || !(await isStale(path, staleAfterMs))) return undefined;
      // Take the stale lock out of the way atomically: of two workers doing this, one rename wins.
      try {
        const stale = temporaryPathFor(`${path}.stale`);
        await rename(path, stale);
        await rm(stale, { force: true });
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export async function isLocked(dir: string, id: string, staleAfterMs = 120_000): Promise<boolean> {
  const path = join(cellDir(dir, id), 'lock');
  return existsSync(path) && !(await isStale(path, staleAfterMs));
}

/** Every cell the folder knows (config.json), with its result when there is one. */
export async function readSweep(
  dir: string,
): Promise<{ id: string; baselineId: string | null; config: CellConfig; result?: CellResult }[]> {
  let ids: string[];
  try {
    ids = (await readdir(join(dir, 'cells'))).sort();
  } catch {
    throw new HealbertError('ERR_DATA', `${dir} is not a sweep folder (no cells/ inside)`);
  }
  const out = [];
  for (const id of ids) {
    const configPath = join(cellDir(dir, id), 'config.json');
    if (!existsSync(configPath)) continue;
    const { baselineId, config } = JSON.parse(await readFile(configPath, 'utf8')) as { baselineId: string | null; config: CellConfig };
    const result = await readResult(dir, id);
    out.push({ id, baselineId, config, ...(result ? { result } : {}) });
  }
  return out;
}
