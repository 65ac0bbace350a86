import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHeader } from '../../src/model/safetensors.js';
import { readTensors } from './fixtures.js';

export function tempDir(prefix = 'healbert-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes float32 tensors as one safetensors file. */
export function writeF32(path: string, tensors: [string, number[], Float32Array][]): void {
  const header = buildHeader(tensors.map(([name, shape]) => ({ name, dtype: 'F32' as const, shape })));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  writeFileSync(
    path,
    Buffer.concat([
      length,
      Buffer.from(header),
      ...tensors.map(([, , data]) => Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
    ]),
  );
}

/**
 * Copies a model folder, rewriting its checkpoint: `rename` maps each tensor name to a new name (or null
 * to drop it); `extra` adds tensors; `shards` splits the weights over that many files with an index.
 */
export function deriveCheckpoint(
  source: string,
  options: {
    rename?: (name: string) => string | null;
    extra?: [string, number[], Float32Array][];
    config?: (config: Record<string, unknown>) => Record<string, unknown>;
    shards?: number;
  } = {},
): string {
  const dir = tempDir('healbert-ckpt-');
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(options.config ? options.config(config) : config));
  const { tensors } = readTensors(join(source, 'model.safetensors'));
  const out: [string, number[], Float32Array][] = [];
  for (const [name, t] of tensors) {
    const renamed = options.rename ? options.rename(name) : name;
    if (renamed !== null) out.push([renamed, t.shape, t.data as Float32Array]);
  }
  out.push(...(options.extra ?? []));
  const shards = options.shards ?? 1;
  if (shards === 1) {
    writeF32(join(dir, 'model.safetensors'), out);
    return dir;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(out.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = out.slice(s * per, (s + 1) * per);
    writeF32(join(dir, file), part);
    for (const [name] of part) weightMap[name] = file;
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return dir;
}

export function copyModelDir(source: string): string {
  const dir = tempDir('healbert-copy-');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(source, f), join(dir, f));
  return dir;
}
