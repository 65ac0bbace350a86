/**
 * What fingerprinting a sweep's inputs costs (src/sweep/fingerprint.ts): a weights file of bert-base's size
 * (440 MB) and one of bert-large's (1.34 GB), random bytes written to the temporary folder and deleted
 * afterwards. Times the first fingerprint (the whole file read and hashed; the file was just written, so
 * it is read from the page cache, as a model loaded moments before would be) and a rerun's (size, mtime
 * and inode unchanged: a stat). Two runs each.
 *
 *   node --import tsx bench/fingerprint.ts
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fingerprinter } from '../src/sweep/fingerprint.js';
import { provenance, writeResult } from './common.js';

const SIZES = { 'bert-base (440 MB)': 440_000_000, 'bert-large (1.34 GB)': 1_340_000_000 };
const dir = mkdtempSync(join(tmpdir(), 'healbert-fingerprint-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const [name, bytes] of Object.entries(SIZES)) {
    const path = join(dir, 'model.safetensors');
    const chunk = randomFillSync(Buffer.allocUnsafe(64 << 20));
    writeFileSync(path, '');
    for (let written = 0; written < bytes; written += chunk.length)
      writeFileSync(path, chunk.subarray(0, Math.min(chunk.length, bytes - written)), { flag: 'a' });
    const first: number[] = [];
    const again: number[] = [];
    for (let run = 0; run < 2; run++) {
      const fingerprinter = new Fingerprinter();
      let start = process.hrtime.bigint();
      await fingerprinter.file(path);
      first.push(Number(process.hrtime.bigint() - start) / 1e9);
      const rerun = new Fingerprinter(Object.fromEntries(fingerprinter.records));
      start = process.hrtime.bigint();
      await rerun.file(path);
      again.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    rows.push({ file: name, bytes, firstSeconds: first, rerunSeconds: again });
    console.log(
      `${name}: first ${first.map((s) => s.toFixed(2)).join(', ')} s; rerun ${again.map((s) => (s * 1e3).toFixed(2)).join(', ')} ms`,
    );
    rmSync(path);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(writeResult('fingerprint', { ...provenance('cpu'), rows }));
