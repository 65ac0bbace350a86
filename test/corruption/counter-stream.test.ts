/**
 * The counter-based corruption stream (version 2): a tensor's numbers depend only on (seed, its name,
 * entry), whatever else is corrupted, however many threads run, and whichever path applies them (the fused
 * CPU pass, or the tensor ops that CUDA and other devices use); and they have the intended distributions.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import { Model } from '../../src/model/model.js';
import { packageRoot } from '../../src/native/binding.js';
import { SMALL_BERT_CONFIG as CONFIG, CORRUPTION_PATH_SPECS as PATH_SPECS } from '../helpers/fixtures.js';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function corrupted(spec: CorruptionSpec, seed: number, options: { tensorOps?: boolean; kernelOnHost?: boolean } = {}) {
  const m = await Model.fromConfig(CONFIG, { seed: 5 });
  const report = await corrupt(m, spec, { seed, ...options });
  const out = new Map<string, Float32Array>();
  for (const p of m.parameters()) out.set(p.name, await m.getParameter(p.name));
  m.dispose();
  return { report, weights: out };
}

test('a tensor gets the same numbers whatever other targets are corrupted with it', async (t) => {
  for (const method of ['gaussian', 'reinit', 'bit-flip'] as const) {
    const level = method === 'gaussian' ? 0.05 : method === 'bit-flip' ? 0.01 : undefined;
    const base = { method, ...(level === undefined ? {} : { level }), fraction: 0.7 };
    const one = await corrupted({ ...base, targets: { layers: 1 } }, 9);
    const many = await corrupted({ ...base, targets: { layers: 'all', include: ['embeddings'] } }, 9);
    t.is(one.report.streamVersion, 2);
    for (const name of one.report.tensors.map((x) => x.name)) {
      t.true(bytes(one.weights.get(name) as Float32Array).equals(bytes(many.weights.get(name) as Float32Array)), `${method} ${name}`);
    }
  }
});

for (const [path, options] of [
  ['the tensor-op path (other devices)', { tensorOps: true }],
  ["the CUDA kernel's body, run on the host counter by counter,", { kernelOnHost: true }],
] as const) {
  test(`${path} gives the fused CPU pass its bytes, and the same report`, async (t) => {
    // Tensor ops take each tensor's std from a torch reduction, whose last bit may differ from the CPU pass's
    // (README): the std-scaled methods are compared on the kernel's path only.
    const scaledByStd = (s: CorruptionSpec) => s.method === 'uniform' || (s.method === 'gaussian' && s.relative === true);
    for (const spec of PATH_SPECS.filter((s) => options.kernelOnHost || !scaledByStd(s))) {
      const fused = await corrupted(spec, 3);
      const ops = await corrupted(spec, 3, options);
      t.is(fused.report.path, 'fused');
      t.is(ops.report.path, options.kernelOnHost ? 'kernel' : 'tensor-ops', 'the path asked for ran');
      const label = JSON.stringify(spec);
      for (const [name, w] of fused.weights) t.true(bytes(w).equals(bytes(ops.weights.get(name) as Float32Array)), `${label} ${name}`);
      for (const [i, r] of fused.report.tensors.entries()) {
        const o = ops.report.tensors[i];
        if (!o) throw new Error(`${label}: no tensor-op report for ${r.name}`);
        t.is(r.changed, o.changed, label);
        t.is(r.selected, o.selected, label);
        t.is(r.bitsFlipped, o.bitsFlipped, label);
        if (r.normChange !== null && o.normChange !== null)
          t.true(Math.abs(r.normChange - o.normChange) <= 1e-9 * (1 + r.normChange), label);
      }
    }
  });
}

test('the same bytes with 1 and 2 CPU threads', (t) => {
  t.timeout(120_000);
  const script = `
    import { createHash } from 'node:crypto';
    import { corrupt } from './src/corruption/corrupt.ts';
    import { Model } from './src/model/model.ts';
    const config = ${JSON.stringify({ ...CONFIG, hidden_size: 256, intermediate_size: 1024 })};
    const m = await Model.fromConfig(config, { seed: 5 });
    const h = createHash('sha256');
    for (const spec of [
      { method: 'gaussian', level: 0.1, relative: true, fraction: 0.4, targets: { layers: 'all' } },
      { method: 'uniform', level: 0.2, targets: { layers: 'all' } },
      { method: 'reinit', targets: { layers: [0, 1] } },
      { method: 'bit-flip', level: 0.001, targets: { layers: 2 } },
    ]) {
      const r = await corrupt(m, spec, { seed: 4 });
      h.update(JSON.stringify(r.tensors.map((x) => [x.changed, x.selected, x.normChange, x.bitsFlipped])));
    }
    for (const p of m.parameters()) h.update(Buffer.from((await m.getParameter(p.name)).buffer));
    console.log('HASH ' + h.digest('hex'));`;
  const hashes = ['1', '2'].map((threads) => {
    const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {
      cwd: packageRoot,
      env: { ...process.env, HEALBERT_THREADS: threads },
      encoding: 'utf8',
      timeout: 110_000,
    });
    t.is(r.status, 0, r.stderr);
    return /HASH (\w+)/.exec(r.stdout)?.[1];
  });
  t.truthy(hashes[0]);
  t.is(hashes[0], hashes[1]);
});

test('gaussian noise is standard normal and Kaiming values uniform within their bound', async (t) => {
  const base = await corrupted({ method: 'zero', targets: { names: ['*.intermediate.dense.weight'] } }, 1);
  const name = 'bert.encoder.layer.0.intermediate.dense.weight';
  t.true((base.weights.get(name) as Float32Array).every((v) => v === 0));
  // Noise on zeros is the noise itself: 3 x 65,536 draws.
  const m = await Model.fromConfig(CONFIG, { seed: 5 });
  await corrupt(m, { method: 'zero', targets: { names: ['*.intermediate.dense.weight'] } }, { seed: 1 });
  await corrupt(m, { method: 'gaussian', level: 1, targets: { names: ['*.intermediate.dense.weight'] } }, { seed: 2 });
  const values: number[] = [];
  for (const l of [0, 1, 2]) for (const v of await m.getParameter(`bert.encoder.layer.${l}.intermediate.dense.weight`)) values.push(v);
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  t.true(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  t.true(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  // Normal CDF at a few points (Kolmogorov-Smirnov style bound at 5 standard errors).
  for (const [x, cdf] of [
    [-2, 0.02275],
    [-1, 0.158655],
    [0, 0.5],
    [0.5, 0.691462],
    [1.5, 0.933193],
    [3, 0.99865],
  ] as const) {
    const share = values.filter((v) => v <= x).length / n;
    t.true(Math.abs(share - cdf) < 5 * Math.sqrt((cdf * (1 - cdf)) / n), `P(X <= ${x}) = ${share}, want ${cdf}`);
  }
  t.true(values.every(Number.isFinite));
  t.true(values.every((v) => Math.abs(v) < 6.5));
  const hist = new Array(10).fill(0);
  await corrupt(m, { method: 'reinit', init: 'kaiming-0', targets: { names: ['*.intermediate.dense.weight'] } }, { seed: 3 });
  const w = await m.getParameter('bert.encoder.layer.1.intermediate.dense.weight');
  const bound = Math.sqrt(6 / 128);
  for (const v of w) hist[Math.min(9, Math.floor(((v + bound) / (2 * bound)) * 10))] += 1;
  for (const c of hist) t.true(Math.abs(c - w.length / 10) < 5 * Math.sqrt(w.length / 10), `histogram ${hist}`);
  m.dispose();
});
