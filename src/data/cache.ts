/**
 * On-disk cache of tokenized datasets. The key is a sha256 over the tokenizer's content hash, the data
 * file's content hash and the settings, so a changed vocabulary, file or max length never reuses stale
 * ids. One file per dataset: a JSON header, then the typed arrays; written to a temporary name and
 * renamed, so a crash never leaves a half-written entry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import type { TokenizedDataset } from './tokenized.js';

const MAGIC = 'healbert-tokenized-v1';

async function hashFileInto(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
}

/** sha256 of a file's bytes, or of a folder's files (relative names and bytes, in sorted order). */
export async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      const files = (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .filter((f) => !relative(path, f).split(/[\\/]/).includes('.healbert-cache'))
        .sort();
      for (const file of files) {
        hash.update(`${relative(path, file)}\0`);
        await hashFileInto(hash, file);
      }
    } else {
      await hashFileInto(hash, path);
    }
  } catch (error) {
    throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return hash.digest('hex');
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(MAGIC).update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

interface Header {
  magic: string;
  size: number;
  tokens: number;
  labels: 'int32' | 'float32' | 'none';
  isRegression: boolean;
  padId: number;
  maxLength: number;
  tokenizerHash: string;
  extra: unknown;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export async function writeCached(dir: string, key: string, dataset: TokenizedDataset, extra: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  const header: Header = {
    magic: MAGIC,
    size: dataset.size,
    tokens: dataset.ids.length,
    labels: dataset.labels === undefined ? 'none' : dataset.labels instanceof Float32Array ? 'float32' : 'int32',
    isRegression: dataset.isRegression,
    padId: dataset.padId,
    maxLength: dataset.maxLength,
    tokenizerHash: dataset.tokenizerHash,
    extra,
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(align4(4 + headerBytes.length));
  prefix.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(prefix, 4);
  const parts = [prefix, dataset.offsets, dataset.ids, dataset.labels ?? new Uint8Array(0), dataset.typeIds];
  const path = join(dir, `${key}.bin`);
  // A cache may be rebuilt by several tasks at once; each write has its own temporary file (src/atomic.ts).
  await writeAtomic(
    path,
    parts.map((part) => new Uint8Array(part.buffer, part.byteOffset, part.byteLength)),
    { sync: false },
  );
  return path;
}

/** The cached dataset and the `extra` stored with it, or undefined when there is no (valid) entry. */
export async function readCached(dir: string, key: string): Promise<{ dataset: TokenizedDataset; extra: unknown } | undefined> {
  const path = join(dir, `${key}.bin`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  try {
    const headerLength = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as Header;
    if (header.magic !== MAGIC) return undefined;
    // Copy into a fresh, aligned buffer: typed-array views need 4-byte alignment.
    const body = new Uint8Array(bytes.length - align4(4 + headerLength));
    body.set(bytes.subarray(align4(4 + headerLength)));
    let at = 0;
    const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, count: number, width: number): T => {
      const view = make(body.buffer as ArrayBuffer, at, count);
      at += count * width;
      return view;
    };
    const offsets = take((b, o, n) => new Int32Array(b, o, n), header.size + 1, 4);
    const ids = take((b, o, n) => new Int32Array(b, o, n), header.tokens, 4);
    const labels =
      header.labels === 'none'
        ? undefined
        : header.labels === 'float32'
          ? take((b, o, n) => new Float32Array(b, o, n), header.size, 4)
          : take((b, o, n) => new Int32Array(b, o, n), header.size, 4);
    const typeIds = take((b, o, n) => new Uint8Array(b, o, n), header.tokens, 1);
    if (at !== body.length) throw new Error('size mismatch');
    return {
      dataset: {
        size: header.size,
        ids,
        typeIds,
        offsets,
        labels,
        isRegression: header.isRegression,
        padId: header.padId,
        maxLength: header.maxLength,
        tokenizerHash: header.tokenizerHash,
      },
      extra: header.extra,
    };
  } catch {
    // A damaged entry is rebuilt, not trusted.
    await unlink(path).catch(() => undefined);
    return undefined;
  }
}
