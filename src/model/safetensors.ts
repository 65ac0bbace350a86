/**
 * The safetensors format, read and written by hand: 8 bytes little-endian header length N, N bytes of JSON
 * header ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the raw tensor
 * bytes, offsets relative to the end of the header. Every header is checked against the file's size before
 * a byte of tensor data is read.
 */
import { open } from 'node:fs/promises';
import { HealbertError } from '../errors.js';

export type StoredDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const ITEM_SIZE: Record<StoredDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The dtypes that hold model weights and that healbert loads. */
export const WEIGHT_DTYPES: Record<string, 'float32' | 'float16' | 'bfloat16'> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export interface TensorEntry {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  nbytes: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  headerSize: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Largest header accepted (the reference implementation's limit). */
const MAX_HEADER = 100 * 1024 * 1024;

function fail(path: string, message: string): never {
  throw new HealbertError('ERR_CHECKPOINT', `${path}: ${message}`);
}

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new HealbertError('ERR_CHECKPOINT', `${path}: cannot open (${(error as Error).message})`, { cause: error });
  }
  try {
    const fileSize = (await handle.stat()).size;
    if (fileSize < 8) fail(path, `only ${fileSize} bytes; a safetensors file starts with an 8-byte header length`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const declared = lengthBytes.readBigUInt64LE(0);
    if (declared > BigInt(Math.min(MAX_HEADER, fileSize - 8))) {
      fail(path, `header length ${declared} exceeds the ${fileSize - 8} bytes after the length field (truncated or not safetensors)`);
    }
    const headerSize = Number(declared);
    const headerBytes = Buffer.alloc(headerSize);
    await handle.read(headerBytes, 0, headerSize, 8);
    return parseHeader(path, headerBytes, fileSize);
  } finally {
    await handle.close();
  }
}

export function parseHeader(path: string, headerBytes: Buffer, fileSize: number): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(headerBytes.toString('utf8'));
  } catch (error) {
    fail(path, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, 'header is not a JSON object');
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(path, `tensor "${name}": entry is not an object`);
    const dtype = info.dtype as StoredDtype;
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) fail(path, `tensor "${name}": unknown dtype ${JSON.stringify(info.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(path, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(path, `tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
    if (end < begin || end - begin !== expected) {
      fail(
        path,
        `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    if (end > dataSize)
      fail(path, `tensor "${name}": data ends at byte ${end} of the data section, but the file has only ${dataSize} (truncated?)`);
    tensors.set(name, { name, dtype, shape: shape as number[], offset: dataStart + begin, nbytes: expected });
  }
  // Tensors must not overlap (the format forbids it; overlapping data means a forged or corrupt file).
  const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as TensorEntry;
    const cur = sorted[i] as TensorEntry;
    if (cur.offset < prev.offset + prev.nbytes) fail(path, `tensors "${prev.name}" and "${cur.name}" overlap`);
  }
  return { path, fileSize, headerSize: headerBytes.length, tensors, metadata };
}

export interface HeaderTensor {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
}

/**
 * The JSON header for tensors written back to back in the given order, padded with spaces to a multiple
 * of 8 bytes (as the reference writer does, so the data section stays aligned).
 */
export function buildHeader(tensors: HeaderTensor[], metadata: Record<string, string> = { format: 'pt' }): string {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const nbytes = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  const text = JSON.stringify(header);
  const length = Buffer.byteLength(text, 'utf8');
  return text + ' '.repeat((8 - (length % 8)) % 8);
}
