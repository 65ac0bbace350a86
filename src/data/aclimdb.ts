/**
 * IMDB in its original aclImdb v1 layout: one review per file, `<split>/{neg,pos}/<id>_<rating>.txt`.
 * Read from a folder (`<dir>/<split>`, or `<dir>/aclImdb/<split>`) or from a .tar.gz in `<dir>` holding
 * that tree. Rows come in a fixed order: neg then pos, by review id.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HealbertError } from '../errors.js';

export interface ImdbRecord extends Record<string, unknown> {
  text: string;
  label: 'neg' | 'pos';
}

const REVIEW = /(?:^|\/)(train|test)\/(neg|pos)\/(\d+)_(\d+)\.txt$/;

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `path` is `<dir>/<split>` as the preset names it. */
export async function readAclImdb(path: string): Promise<ImdbRecord[]> {
  const dir = dirname(path);
  const split = basename(path);
  for (const candidate of [path, join(dir, 'aclImdb', split)]) {
    if (await isDir(join(candidate, 'neg'))) return readFolder(candidate);
  }
  const entries = await readdir(dir).catch(() => [] as string[]);
  const tarball = entries.filter((e) => e.endsWith('.tar.gz') || e.endsWith('.tgz')).sort()[0];
  if (tarball === undefined) {
    throw new HealbertError(
      'ERR_IO',
      `${path}: no aclImdb data (expected ${split}/neg and ${split}/pos folders, or a .tar.gz of aclImdb in ${dir})`,
    );
  }
  return readTarball(join(dir, tarball), split);
}

function order(records: (ImdbRecord & { id: number })[]): ImdbRecord[] {
  records.sort((a, b) => (a.label === b.label ? a.id - b.id : a.label === 'neg' ? -1 : 1));
  return records.map(({ text, label }) => ({ text, label }));
}

async function readFolder(splitDir: string): Promise<ImdbRecord[]> {
  const records: (ImdbRecord & { id: number })[] = [];
  for (const label of ['neg', 'pos'] as const) {
    for (const name of await readdir(join(splitDir, label))) {
      const m = /^(\d+)_\d+\.txt$/.exec(name);
      if (!m) continue;
      records.push({ text: await readFile(join(splitDir, label, name), 'utf8'), label, id: Number(m[1]) });
    }
  }
  return order(records);
}

/** A minimal ustar/GNU tar reader: regular files, with GNU long names. */
async function readTarball(path: string, split: string): Promise<ImdbRecord[]> {
  let data: Buffer;
  try {
    data = gunzipSync(await readFile(path));
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${path}: not a readable .tar.gz: ${(error as Error).message}`, { cause: error });
  }
  const records: (ImdbRecord & { id: number })[] = [];
  const decoder = new TextDecoder('utf-8');
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    if (type !== '0' && type !== '') continue;
    const m = REVIEW.exec(name);
    if (!m || m[1] !== split) continue;
    records.push({ text: decoder.decode(body), label: m[2] as 'neg' | 'pos', id: Number(m[3]) });
  }
  if (records.length === 0) throw new HealbertError('ERR_DATA', `${path}: no aclImdb ${split} reviews inside`);
  return order(records);
}
