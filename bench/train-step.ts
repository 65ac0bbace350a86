/**
 * healbert's training step and evaluation for base-size shapes (random weights): one native call per step
 * (forward, backward, clipping, AdamW). Run next to the peer (bench/peer.py) in the same session:
 *
 *   node --import tsx bench/train-step.ts --device cuda --dtype bfloat16 [--family bert|roberta|distilbert]
 *     [--batch 32 --seq 128 --steps 50]
 *
 * --family picks the configuration in test/fixtures/configs (bert-base-uncased, roberta-base,
 * distilbert-base-uncased); the peer takes the same flag.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../src/batch.js';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { flag, provenance, time, writeResult } from './common.js';

const device = flag('device', 'cpu');
const dtype = flag('dtype', device.startsWith('cuda') ? 'bfloat16' : 'float32') as 'float32' | 'bfloat16';
const batchSize = Number(flag('batch', '32'));
const seqLen = Number(flag('seq', '128'));
const steps = Number(flag('steps', device.startsWith('cuda') ? '50' : '3'));
const evalBatch = Number(flag('eval-batch', '256'));
const evalRepeat = Number(flag('eval-steps', device.startsWith('cuda') ? '20' : '2'));
const family = flag('family', 'bert');
const CONFIGS: Record<string, string> = {
  bert: 'bert-base-uncased',
  roberta: 'roberta-base',
  distilbert: 'distilbert-base-uncased',
};
const configName = CONFIGS[family];
if (!configName) throw new Error(`--family must be one of ${Object.keys(CONFIGS).join(', ')}, got ${family}`);

function randomBatch(b: number, t: number, seed: number): Batch {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s;
  };
  return {
    batchSize: b,
    seqLen: t,
    inputIds: Int32Array.from({ length: b * t }, () => 1000 + (next() % 29000)),
    attentionMask: new Uint8Array(b * t).fill(1),
    tokenTypeIds: new Int32Array(b * t),
    labels: Int32Array.from({ length: b }, () => next() % 2),
  };
}

const config = JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', `${configName}.json`), 'utf8'));
const model = await Model.fromConfig(config, { device, dtype, seed: 0 });
await model.configureTraining({ lr: 2e-5, warmupSteps: 0, totalSteps: 10_000 });
const train = randomBatch(batchSize, seqLen, 1);
const step = await time(() => model.trainStep(train), Math.min(5, steps), steps);
const evaluation = randomBatch(evalBatch, seqLen, 2);
const evalTime = await time(() => model.predict(evaluation), 2, evalRepeat);
const result = {
  bench: 'train-step',
  implementation: 'healbert',
  ...provenance(device),
  dtype,
  family,
  shape: { model: `${configName} (random weights)`, batch: batchSize, seq: seqLen, evalBatch },
  trainStepMs: step.medianMs,
  trainSamplesPerSecond: (batchSize * 1000) / step.medianMs,
  evalBatchMs: evalTime.medianMs,
  evalSamplesPerSecond: (evalBatch * 1000) / evalTime.medianMs,
  runs: { train: step.runs, eval: evalTime.runs },
};
model.dispose();
console.log(JSON.stringify(result, null, 2));
console.error(
  `results: ${writeResult(`train-step-healbert-${family === 'bert' ? '' : `${family}-`}${device.replace(':', '')}-${dtype}`, result)}`,
);
