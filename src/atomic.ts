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
 * Test seam: when set, called before each rename with the final path; an error it returns is raised as if
 * the write had failed there (the temporary file, already written, is removed as after a real failure).
 * Tests inject ENOSPC, EACCES or EROFS this way; production code never sets it.
 */
export const writeFaults: { inject?: ((path: string) => NodeJS.ErrnoException | undefined) | undefined } = {};

/**
 * Runs `write(temporary)`, then renames the temporary file onto `path`. The temporary file is removed when
 * `write` or the rename fails. An errno error is given `path` (the entry, not the temporary name) when it
 * names no file, as the writes through a file handle do ("ENOSPC: no space left on device, write"): the
 * caller can then say which file could not be written.
 */
export async function replaceFile(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await write(temporary);
    const fault = writeFaults.inject?.(path);
    if (fault) throw fault;
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno?.code === 'string' && (errno.path === undefined || errno.path === temporary)) errno.path = path;
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
