/**
 * index.jsonl, the folder's list of results: one JSON line per result a worker wrote, appended as its
 * fleet ends, so that status, export and report read one file instead of one file per cell. A cell may
 * have several lines (a failed cell retried by a later run appends its new result): the last one is
 * the cell's. Readers still look at every cell folder the index does not name (a worker killed between
 * writing result.json and appending here, a folder from before the index was kept this way), so the index
 * is a fast path, never the only record: cells/<id>/result.json stays the truth.
 *
 * Appends take index.lock for one write: O(1) per cell, whatever the number of workers (the index used to
 * be rebuilt from every result by every worker at its end, one after the other: quadratic in a Slurm array
 * of many tasks). A writer that died in the middle of a line leaves a torn tail; the next writer, holding
 * the lock, cuts it off before appending.
 */
import { createReadStream, existsSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import type { CellResult } from './types.js';

export const indexPath = (dir: string) => join(dir, 'index.jsonl');

/** A lock whose holder wrote nothing for this long is taken over (an append takes milliseconds). */
const STALE_MS = 30_000;

async function withIndexLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lockPath = join(dir, 'index.lock');
  const deadline = Date.now() + 120_000;
  for (let wait = 5; ; wait = Math.min(200, wait * 2)) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString() }));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(lockPath).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_MS) await rm(lockPath, { force: true });
      else if (Date.now() > deadline)
        throw new HealbertError('ERR_IO', `${lockPath} has been held for two minutes; remove it if no sweep is running`);
      else await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Appends results (one line each) to the folder's index. */
export async function appendToIndex(dir: string, results: readonly CellResult[]): Promise<void> {
  if (results.length === 0) return;
  const text = results.map((r) => `${JSON.stringify(r)}\n`).join('');
  await withIndexLock(dir, async () => {
    const handle = await open(indexPath(dir), 'a+');
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) await handle.truncate(await afterLastNewline(handle, size));
      }
      await handle.appendFile(text);
    } finally {
      await handle.close();
    }
  });
}

/** The offset just after the last newline before `size` (0 when there is none). */
async function afterLastNewline(handle: Awaited<ReturnType<typeof open>>, size: number): Promise<number> {
  const chunk = Buffer.alloc(65536);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

/**
 * Calls `onLine` with each line of an index file that is not blank, and its 1-based number, reading the
 * file as a stream (an index of 100,000 results is ~300 MB, near the most a string may hold); a promise it
 * returns is awaited before the next line. A last line without its newline that does not parse is a write
 * in progress and is skipped.
 */
export async function forEachIndexLine(path: string, onLine: (line: string, number: number) => void | Promise<void>): Promise<void> {
  let rest = '';
  let number = 0;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      rest += chunk;
      let start = 0;
      for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n', start)) {
        number += 1;
        const line = rest.slice(start, end);
        start = end + 1;
        if (line.trim() === '') continue;
        const pending = onLine(line, number);
        if (pending) await pending;
      }
      rest = rest.slice(start);
    }
  } catch (error) {
    if (error instanceof HealbertError) throw error;
    throw new HealbertError('ERR_DATA', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    stream.destroy();
  }
  if (rest.trim() === '') return;
  try {
    JSON.parse(rest);
  } catch {
    return; // torn: a write in progress (or a writer that died); the next append cuts it off
  }
  await onLine(rest, number + 1);
}

/**
 * The id of an index line without parsing it: results are written with `format` and `id` first. Null when
 * the line does not start that way (then the caller parses it).
 */
export function lineId(line: string): string | null {
  const match = /^\{"format":\d+,"id":"([^"\\]+)"/.exec(line);
  return match ? (match[1] as string) : null;
}

/**
 * Rewrites index.jsonl from the results on disk: one line per cell with a result.json, in id order. For
 * when results were set aside (--recompute-changed), which an append cannot express.
 */
export async function rebuildIndex(dir: string): Promise<number> {
  return withIndexLock(dir, async () => {
    let ids: string[];
    try {
      ids = (await readdir(join(dir, 'cells'))).sort();
    } catch {
      throw new HealbertError('ERR_DATA', `${dir} is not a sweep folder (no cells/ inside)`);
    }
    const lines: string[] = [];
    for (const id of ids) {
      const path = join(dir, 'cells', id, 'result.json');
      if (!existsSync(path)) continue;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        continue; // set aside or removed just now
      }
      try {
        lines.push(JSON.stringify(JSON.parse(text)));
      } catch (error) {
        throw new HealbertError('ERR_DATA', `${path}: unreadable result (${(error as Error).message})`);
      }
    }
    await writeAtomic(indexPath(dir), lines.length ? `${lines.join('\n')}\n` : '');
    return lines.length;
  });
}
