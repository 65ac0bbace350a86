/**
 * Corrupting all 12 encoder layers of a bert-base-size model in place: healbert's multi-tensor path, next
 * to the peer (bench/peer_corrupt.py: a Python loop over parameters with torch) run in the same session.
 *
 *   node --import tsx bench/corrupt.ts --device cuda [--repeat 50]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corrupt } from '../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../src/corruption/spec.js';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { flag, provenance, writeResult } from './common.js';

const device = flag('device', 'cpu');
const repeat = Number(flag('repeat', device.startsWith('cuda') ? '50' : '5'));
const config = JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', 'bert-base-uncased.json'), 'utf8'));
const model = await Model.fromConfig(config, { device, seed: 0 });
const encoder = model.parameters().filter((p) => p.layer >= 0);
const bytes = encoder.reduce((s, p) => s + p.numel * 4, 0);

// [method, layers, spec]: the all-layers rows, and gaussian on layer 0 alone (its cost should be a twelfth).
const specs: [string, string, CorruptionSpec][] = [
  ['gaussian', 'all', { method: 'gaussian', level: 0.01, targets: { layers: 'all' } }],
  ['gaussian', '0', { method: 'gaussian', level: 0.01, targets: { layers: '0' } }],
  ['gaussian-relative', 'all', { method: 'gaussian', level: 0.1, relative: true, targets: { layers: 'all' } }],
  ['zero', 'all', { method: 'zero', targets: { layers: 'all' } }],
  ['reinit', 'all', { method: 'reinit', targets: { layers: 'all' } }],
];
const rows = [];
for (const [name, layers, spec] of specs) {
  const timings: number[] = [];
  for (let i = 0; i < repeat + 3; i++) {
    // The engine's own synchronised timing of the corruption (the report statistics are skipped).
    const r = await corrupt(model, spec, { seed: i, report: false });
    if (i >= 3) timings.push(r.milliseconds);
  }
  timings.sort((a, b) => a - b);
  const ms = timings[Math.floor(timings.length / 2)] as number;
  // Effective bandwidth as the peer counts it: every corrupted parameter read and written once.
  const corrupted = layers === 'all' ? bytes : bytes / 12;
  rows.push({ method: name, layers, medianMs: ms, effectiveGBps: (2 * corrupted) / (ms / 1000) / 1e9 });
  const withReport = await corrupt(model, spec, { seed: 99 });
  rows[rows.length - 1] = { ...rows[rows.length - 1], withExactReportMs: withReport.milliseconds };
}
const result = {
  bench: 'corrupt',
  implementation: 'healbert',
  ...provenance(device),
  tensors: encoder.length,
  parameters: bytes / 4,
  repeat,
  rows,
};
model.dispose();
console.log(JSON.stringify(result, null, 2));
console.error(`results: ${writeResult(`corrupt-healbert-${device.replace(':', '')}`, result)}`);
