/**
 * Input fingerprints: the sha256 of every file a cell reads (model weights and config, tokenizer files,
 * the task's data files, the MLM corpus). Cell ids hash a model's *path*; these hash its *content*, so a
 * rerun notices weights, vocabularies or data files replaced in place and refuses to reuse results
 * computed from the old ones (run.ts).
 *
 * Hashing bert-large's 1.3 GB takes about a second (README), so a file is hashed once: its fingerprint is
 * kept with the file's size, mtime (ns) and inode, and reused while all three are unchanged. The sweep
 * folder's inputs.json holds these records, so a rerun re-reads only files that were touched.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { splitPath } from '../data/load-split.js';
import { getTask } from '../data/tasks.js';
import { HealbertError } from '../errors.js';
import { locateWeightFiles } from '../model/checkpoint.js';
import { TOKENIZER_FILES } from '../tokenizer/files.js';
import { heals } from './expand.js';
import type { CellConfig } from './types.js';

/** What a fingerprint was computed from: the file's identity at that moment, and its sha256. */
export interface FileRecord {
  size: number;
  /** Nanoseconds, as a decimal string (beyond a double's precision). */
  mtimeNs: string;
  ino: number;
  sha256: string;
}

/** The sweep folder's inputs.json: every input file of the sweep and its fingerprint. */
export interface InputsFile {
  format: 1;
  computedAt: string;
  files: Record<string, FileRecord>;
}

/** A cell's inputs: absolute path -> sha256 of its bytes. */
export type CellInputs = Record<string, string>;

/** Every file under a folder (recursively, sorted), leaving out healbert's own caches. */
async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [path]; // a missing input is reported when it is fingerprinted
  if (!info.isDirectory()) return [path];
  return (await readdir(path, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !relative(path, f).split(/[\\/]/).includes('.healbert-cache'))
    .sort();
}

/** The model files a cell reads: config, weights (the index and its shards when sharded), tokenizer. */
export async function modelInputFiles(modelPath: string): Promise<string[]> {
  const weights = await locateWeightFiles(modelPath);
  const index = join(modelPath, 'model.safetensors.index.json');
  const sharded = !existsSync(join(modelPath, 'model.safetensors')) && existsSync(index);
  const tokenizer = TOKENIZER_FILES.map((f) => join(modelPath, f)).filter((f) => existsSync(f));
  return [join(modelPath, 'config.json'), ...(sharded ? [index] : []), ...weights, ...tokenizer];
}

/** Every file a cell reads (sorted, no duplicates). */
export async function cellInputFiles(config: CellConfig): Promise<string[]> {
  const task = getTask(config.task.name);
  const files = [
    ...(await modelInputFiles(config.model.path)),
    ...(await filesUnder(splitPath(task, config.task.data, 'train'))),
    ...(await filesUnder(splitPath(task, config.task.data, config.task.evalSplit))),
  ];
  if (heals(config) && config.recovery.mlmSteps > 0 && config.recovery.mlmCorpus)
    files.push(...(await filesUnder(config.recovery.mlmCorpus)));
  return [...new Set(files)].sort();
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    // Large reads: sha256 runs at about 1 GB/s here, so the syscalls should not be what costs.
    const buffer = Buffer.allocUnsafe(8 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/**
 * Fingerprints files, re-reading only those whose size, mtime or inode differ from a known record.
 * `known` holds earlier records (from inputs.json, or from this process) and is updated in place.
 */
export class Fingerprinter {
  readonly records: Map<string, FileRecord>;
  /** Files actually read (not taken from a record): for tests and the cost figures. */
  hashed = 0;

  constructor(known: Record<string, FileRecord> = {}) {
    this.records = new Map(Object.entries(known));
  }

  async file(path: string): Promise<FileRecord> {
    let info: Awaited<ReturnType<typeof stat>> & { mtimeNs: bigint };
    try {
      info = await stat(path, { bigint: true });
    } catch (error) {
      throw new HealbertError('ERR_CONFIG', `input ${path} cannot be read (${(error as Error).message})`);
    }
    const size = Number(info.size);
    const mtimeNs = String(info.mtimeNs);
    const ino = Number(info.ino);
    const known = this.records.get(path);
    if (known && known.size === size && known.mtimeNs === mtimeNs && known.ino === ino) return known;
    const record = { size, mtimeNs, ino, sha256: await sha256File(path) };
    this.hashed += 1;
    this.records.set(path, record);
    return record;
  }

  async cell(config: CellConfig): Promise<CellInputs> {
    const out: CellInputs = {};
    for (const path of await cellInputFiles(config)) out[path] = (await this.file(path)).sha256;
    return out;
  }
}

export const inputsPath = (dir: string) => join(dir, 'inputs.json');

/** The records of a sweep folder's inputs.json ({} when there is none yet). */
export async function readInputsFile(dir: string): Promise<Record<string, FileRecord>> {
  let text: string;
  try {
    text = await readFile(inputsPath(dir), 'utf8');
  } catch {
    return {};
  }
  try {
    return (JSON.parse(text) as InputsFile).files ?? {};
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${inputsPath(dir)}: unreadable (${(error as Error).message})`);
  }
}

/** Writes inputs.json: the records of the files the sweep's cells read now. */
export async function writeInputsFile(dir: string, fingerprinter: Fingerprinter, inputs: Iterable<CellInputs>): Promise<void> {
  const files: Record<string, FileRecord> = {};
  for (const cell of inputs) for (const path of Object.keys(cell)) files[path] = fingerprinter.records.get(path) as FileRecord;
  const sorted = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((k) => [k, files[k] as FileRecord]),
  );
  const content: InputsFile = { format: 1, computedAt: new Date().toISOString(), files: sorted };
  await writeAtomic(inputsPath(dir), `${JSON.stringify(content, null, 2)}\n`);
}

/** A short form for messages and tables: the first 12 hex digits. */
export const shortFingerprint = (sha256: string | undefined) => (sha256 ? sha256.slice(0, 12) : 'none');

/**
 * One fingerprint for a whole cell (a hash of its inputs' paths and hashes): what status and export show,
 * equal for two cells exactly when they read the same bytes from the same files.
 */
export function inputsDigest(inputs: CellInputs | undefined): string | undefined {
  if (!inputs) return undefined;
  const hash = createHash('sha256');
  for (const path of Object.keys(inputs).sort()) hash.update(`${path}\0${inputs[path]}\n`);
  return hash.digest('hex').slice(0, 12);
}

export interface InputChange {
  file: string;
  /** undefined: the result recorded no fingerprint (computed before fingerprints were kept) or no such file. */
  old: string | undefined;
  new: string | undefined;
}

/** The files whose fingerprint differs between what a result recorded and now. */
export function changedInputs(recorded: CellInputs | undefined, current: CellInputs): InputChange[] {
  if (!recorded) return [{ file: '(all inputs)', old: undefined, new: inputsDigest(current) }];
  const files = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort();
  return files.filter((f) => recorded[f] !== current[f]).map((f) => ({ file: f, old: recorded[f], new: current[f] }));
}

/**
 * Warnings for cells of one model and task that read different bytes from the same file (or some with and
 * some without recorded fingerprints): their scores were computed from different inputs and should not be
 * averaged or compared as one condition.
 */
export function mixedInputWarnings(cells: { config: CellConfig; result?: { inputs?: CellInputs } | undefined }[]): string[] {
  const tally = new InputsTally();
  for (const c of cells) if (c.result) tally.add(c.config, c.result.inputs);
  return tally.warnings();
}

/**
 * mixedInputWarnings one cell at a time, for readers that stream results (status, export): cells that
 * read the same files share one entry (by their digest), so the tally stays small at any number of cells.
 */
export class InputsTally {
  readonly #groups = new Map<string, { without: number; with: number; digests: Map<string, { inputs: CellInputs; cells: number }> }>();

  add(config: { model: { name: string }; task: { name: string } }, inputs: CellInputs | undefined): void {
    const key = `${config.model.name}/${config.task.name}`;
    let g = this.#groups.get(key);
    if (!g) {
      g = { without: 0, with: 0, digests: new Map() };
      this.#groups.set(key, g);
    }
    if (!inputs) {
      g.without += 1;
      return;
    }
    g.with += 1;
    const digest = inputsDigest(inputs) as string;
    const entry = g.digests.get(digest);
    if (entry) entry.cells += 1;
    else g.digests.set(digest, { inputs, cells: 1 });
  }

  warnings(): string[] {
    const warnings: string[] = [];
    for (const [key, g] of this.#groups) {
      if (g.without > 0 && g.with > 0)
        warnings.push(`${key}: ${g.without} cells recorded no input fingerprints and ${g.with} did; they may come from different inputs`);
      const byFile = new Map<string, Map<string, number>>();
      for (const { inputs, cells } of g.digests.values()) {
        for (const [file, sha] of Object.entries(inputs)) {
          const counts = byFile.get(file) ?? new Map<string, number>();
          counts.set(sha, (counts.get(sha) ?? 0) + cells);
          byFile.set(file, counts);
        }
      }
      for (const [file, counts] of byFile) {
        if (counts.size < 2) continue;
        const versions = [...counts].map(([sha, n]) => `${shortFingerprint(sha)} (${n} cells)`).join(', ');
        warnings.push(`${key}: cells were computed from different versions of ${file}: ${versions}`);
      }
    }
    return warnings;
  }
}
