/**
 * File-system failures of a sweep explained: which file, what happened, that finished cells are safe
 * (every result is written whole or not at all, atomic.ts), and how to go on. Without this a full disk
 * read "ENOSPC: no space left on device, write", with no file and no advice.
 */
import { HealbertError } from '../errors.js';

const REASONS: Record<string, { what: string; fix: string }> = {
  ENOSPC: { what: 'the disk is full', fix: 'free some space on it' },
  EDQUOT: { what: 'the disk quota is exceeded', fix: 'free some space or raise the quota' },
  EACCES: { what: 'permission denied', fix: 'give this user write permission on the results folder' },
  EPERM: { what: 'operation not permitted', fix: 'give this user write permission on the results folder' },
  EROFS: {
    what: 'the file system is read-only',
    fix: 'remount it writable, or copy the results folder to a writable place and resume there',
  },
};

/** An ERR_IO error for a disk-full, permission or read-only failure under the sweep folder `dir`; other errors as they are. */
export function explainIoError(error: unknown, dir: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  const reason = typeof errno?.code === 'string' ? REASONS[errno.code] : undefined;
  if (!reason) return error;
  const path = errno.path ?? dir;
  return new HealbertError(
    'ERR_IO',
    `cannot write ${path}: ${reason.what} (${errno.code}). The cells already finished are kept (each result is written whole or not at all); ` +
      `${reason.fix}, then resume with \`healbert sweep ${dir}\`: it runs only the cells without a result.`,
    { cause: error },
  );
}
