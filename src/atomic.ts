/**
 * Write-then-rename, the one way healbert replaces a file that others may be reading: results, caches,
 * checkpoints, locks. The temporary name is unique to one write (host, process and a random UUID), not to
 * the process: two writes of the same entry, from one process (concurrent promises) or from several (Slurm
 * tasks on a shared file system), never share a temporary file, and the last rename wins whole.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';

/** A temporary path next to `path`, unique to this one write. */
export function temporaryPathFor(path: string): string {
  return `${path}.tmp-${hostname()}-${process.pid}-${randomUUID()}`;
}

/**
 * Runs `write(temporary)`, then renames the temporary file onto `path`. The temporary file is removed when
 * `write` or the rename fails.
 */
export async function replaceFile(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

export interface WriteAtomicOptions {
  /** fsync before the rename, so the new content is on disk when the name appears. Default true. */
  sync?: boolean;
}

/** Writes text or byte chunks to `path` atomically (see replaceFile). */
export async function writeAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: WriteAtomicOptions = {},
): Promise<void> {
  await replaceFile(path, async (temporary) => {
    const handle = await open(temporary, 'w');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
      } else {
        for (const chunk of data) await handle.writeFile(chunk); // writeFile on a handle: all of it, in order
      }
      if (options.sync ?? true) await handle.sync();
    } finally {
      await handle.close();
    }
  });
}
