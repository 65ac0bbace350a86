/**
 * healbert's side of bench:cpu's long-sequence evaluation, in a process of its own so that its peak resident
 * memory is this workload's alone (bench/cpu.ts runs the others in its own process, whose freed memory glibc
 * keeps for reuse). Prints one JSON object: the median ms of `--repeat` evaluations after one warm-up, then the
 * resident memory before one more pass (model loaded and warm) and its peak during it (VmHWM after resetting it
 * through /proc/self/clear_refs; Linux), in MB.
 *
 *   node --import tsx bench/long-eval.ts --config modernbert-base --batch 1 --seq 2048 --dtype float32 --repeat 3
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { flag, time } from './common.js';
import { randomBatch } from './inputs.js';

const residentMb = (field: 'VmRSS' | 'VmHWM') => {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : null;
};

const raw = JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', `${flag('config', 'modernbert-base')}.json`), 'utf8'));
const [b, t] = [Number(flag('batch', '1')), Number(flag('seq', '2048'))];
const model = await Model.fromConfig(raw, { seed: 0, dtype: flag('dtype', 'float32') as 'float32' | 'bfloat16' });
const batch = randomBatch(b, t, 3);
const timing = await time(() => model.predict(batch), 1, Number(flag('repeat', '3')));
writeFileSync('/proc/self/clear_refs', '5');
const before = residentMb('VmRSS');
await model.predict(batch);
const peak = residentMb('VmHWM');
model.dispose();
console.log(JSON.stringify({ ms: timing.medianMs, shape: [b, t], rss_before_mb: before, peak_rss_mb: peak }));
