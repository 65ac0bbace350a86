import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildHeader, readSafetensorsHeader } from '../../src/model/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'healbert-st-'));
let counter = 0;

/** Writes a safetensors file from a header object (or raw header text) and a data section of `dataBytes`. */
function file(header: unknown, dataBytes: number, options: { declaredLength?: bigint; rawHeader?: string } = {}): string {
  const text = options.rawHeader ?? JSON.stringify(header);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(options.declaredLength ?? BigInt(Buffer.byteLength(text)));
  const path = join(dir, `f${counter++}.safetensors`);
  writeFileSync(path, Buffer.concat([length, Buffer.from(text), Buffer.alloc(dataBytes)]));
  return path;
}

const code = async (path: string) => {
  try {
    await readSafetensorsHeader(path);
    return 'no error';
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
};

test('a well-formed header parses, with absolute offsets', async (t) => {
  const path = file(
    { a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'BF16', shape: [4], data_offsets: [24, 32] } },
    32,
  );
  const header = await readSafetensorsHeader(path);
  const b = header.tensors.get('b');
  t.is(header.tensors.size, 2);
  t.deepEqual(b?.shape, [4]);
  t.is(b?.offset, 8 + header.headerSize + 24);
  t.is(b?.nbytes, 8);
});

test('buildHeader lays tensors back to back and pads to 8 bytes', (t) => {
  const text = buildHeader([
    { name: 'x', dtype: 'F32', shape: [3] },
    { name: 'y', dtype: 'F16', shape: [2, 2] },
  ]);
  t.is(Buffer.byteLength(text) % 8, 0);
  const parsed = JSON.parse(text);
  t.deepEqual(parsed.x.data_offsets, [0, 12]);
  t.deepEqual(parsed.y.data_offsets, [12, 20]);
  t.is(parsed.__metadata__.format, 'pt');
});

test('a file shorter than the length field is rejected', async (t) => {
  const path = join(dir, 'short.safetensors');
  writeFileSync(path, Buffer.alloc(5));
  t.regex(await code(path), /^ERR_CHECKPOINT: .*only 5 bytes/);
});

test('a header length beyond the end of the file is rejected (truncated or lying)', async (t) => {
  t.regex(await code(file({}, 0, { declaredLength: 10_000n })), /^ERR_CHECKPOINT: .*header length 10000 exceeds/);
});

test('a header that is not JSON is rejected', async (t) => {
  t.regex(await code(file(null, 0, { rawHeader: '{"a": [' })), /^ERR_CHECKPOINT: .*not valid JSON/);
});

test('data beyond the end of the file names the tensor', async (t) => {
  const path = file({ 'encoder.w': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
  t.regex(await code(path), /^ERR_CHECKPOINT: .*tensor "encoder.w": data ends at byte 16 .* only 8 \(truncated\?\)/);
});

test('offsets that disagree with shape and dtype name the tensor', async (t) => {
  const path = file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }, 16);
  t.regex(await code(path), /^ERR_CHECKPOINT: .*tensor "w": data_offsets \[0, 12\] hold 12 bytes, but F32 \[4\] needs 16/);
});

test('overlapping tensors are rejected', async (t) => {
  const path = file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12);
  t.regex(await code(path), /^ERR_CHECKPOINT: .*overlap/);
});

test('unknown dtypes and malformed shapes are rejected', async (t) => {
  t.regex(await code(file({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1)), /unknown dtype "F8"/);
  t.regex(await code(file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)), /shape \[-1\] is not a list of sizes/);
});
