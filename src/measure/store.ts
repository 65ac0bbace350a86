/**
 * What a clean cell leaves for the cells measured against it (pretrained protocol): its final
 * representations of the measurement subset, as one safetensors tensor, cells/<id>/representations.safetensors
 * ((L + 1) x 2 x n x H float32, pooled as src/measure/types.ts POOLINGS; loadable with safetensors in Python).
 * Its fine-tuned weights, when weights are measured, go where a finetuned baseline's task model goes
 * (cells/<id>/model, src/sweep/cell.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import { buildHeader, parseHeader } from '../model/safetensors.js';
import { cellDir } from '../sweep/store.js';
import type { Representations } from './passes.js';

export const representationsPath = (dir: string, id: string) => join(cellDir(dir, id), 'representations.safetensors');

export async function writeRepresentations(path: string, r: Representations): Promise<void> {
  const header = buildHeader([{ name: 'representations', dtype: 'F32', shape: [r.depth, 2, r.n, r.hidden] }], {
    format: 'pt',
    layout: 'layer (embeddings first), pooling (mean over real tokens, first token), example, hidden',
  });
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  await writeAtomic(path, [length, Buffer.from(header), new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)]);
}

/** The representations at `path`, or undefined when there is no such file. */
export async function readRepresentations(path: string): Promise<Representations | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  const headerSize = Number(bytes.readBigUInt64LE(0));
  const header = parseHeader(path, bytes.subarray(8, 8 + headerSize), bytes.length);
  const t = header.tensors.get('representations');
  if (t?.dtype !== 'F32' || t.shape.length !== 4 || t.shape[1] !== 2)
    throw new HealbertError('ERR_DATA', `${path}: no F32 "representations" tensor of shape (L + 1, 2, n, H)`);
  const [depth, , n, hidden] = t.shape as [number, number, number, number];
  const data = new Float32Array(new Uint8Array(bytes.subarray(t.offset, t.offset + t.nbytes)).buffer);
  return { depth, n, hidden, data };
}
