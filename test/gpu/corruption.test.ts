/**
 * The corruption kernel on CUDA (GPU lane, HEALBERT_TEST_GPU=1): the same bytes as the fused CPU pass for
 * every method whose numbers do not depend on a device reduction, the same selection and bit counts, and
 * a timing of bert-base's encoder next to the Python loop's 5.6 ms (../shared/device/README.md).
 */
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import { Model } from '../../src/model/model.js';
import { CORRUPTION_PATH_SPECS, SMALL_BERT_CONFIG } from '../helpers/fixtures.js';
import { gpuEnabled, gpuTest } from '../helpers/gpu.js';

if (!gpuEnabled) test.skip('corruption on CUDA (GPU lane: HEALBERT_TEST_GPU=1 on the GPU machine)', () => {});

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// The std-scaled methods (the last two) may differ in the std's last bit on a device (README).
const SPECS = CORRUPTION_PATH_SPECS.filter((s) => s.method !== 'uniform' && !(s.method === 'gaussian' && s.relative));

async function run(device: string, spec: CorruptionSpec) {
  const m = await Model.fromConfig(SMALL_BERT_CONFIG, { seed: 5, device });
  try {
    const report = await corrupt(m, spec, { seed: 3 });
    const weights = new Map<string, Float32Array>();
    for (const p of m.parameters()) weights.set(p.name, await m.getParameter(p.name));
    return { report, weights };
  } finally {
    m.dispose();
  }
}

gpuTest('the CUDA kernel gives the fused CPU pass its bytes and report, for every method', async (t) => {
  for (const spec of SPECS) {
    const label = JSON.stringify(spec);
    const [cpu, cuda] = [await run('cpu', spec), await run('cuda', spec)];
    t.is(cuda.report.path, 'kernel', label);
    for (const [name, w] of cpu.weights) t.true(bytes(w).equals(bytes(cuda.weights.get(name) as Float32Array)), `${label} ${name}`);
    for (const [i, r] of cpu.report.tensors.entries()) {
      const c = cuda.report.tensors[i];
      if (!c) throw new Error(`${label}: no CUDA report for ${r.name}`);
      t.is(r.selected, c.selected, label);
      t.is(r.changed, c.changed, label);
      t.is(r.bitsFlipped, c.bitsFlipped, label);
    }
  }
});

gpuTest('corrupting bert-base encoder on CUDA: gaussian timed next to the Python loop (5.6 ms on an H100)', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { fixturesDir } = await import('../helpers/fixtures.js');
  const config = JSON.parse(readFileSync(join(fixturesDir, 'configs', 'bert-base-uncased.json'), 'utf8'));
  const m = await Model.fromConfig(config, { device: 'cuda', seed: 0 });
  try {
    const samples: number[] = [];
    for (let i = 0; i < 23; i++) {
      const r = await corrupt(m, { method: 'gaussian', level: 0.01, targets: { layers: 'all' } }, { seed: i, report: false });
      if (i >= 3) samples.push(r.milliseconds);
    }
    samples.sort((a, b) => a - b);
    const median = samples[10] as number;
    t.log(`gaussian, 12 layers on CUDA: median ${median.toFixed(3)} ms (path: kernel)`);
    t.true(median > 0);
  } finally {
    m.dispose();
  }
});
