/**
 * The corruption invariants, on real tensors of a model with freshly initialised (non-trivial) weights:
 * only targets change; re-initialisation statistics; noise levels; the fraction mask; seeds reproduce bytes;
 * bit flips flip exactly the bits reported; a bad spec leaves the model untouched.
 */
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import { Model } from '../../src/model/model.js';
import { SMALL_BERT_CONFIG as CONFIG, modelFixture } from '../helpers/fixtures.js';

async function freshModel(): Promise<Model> {
  const m = await Model.fromConfig(CONFIG, { seed: 11 });
  // Give LayerNorms and biases values that differ from their reinit targets (1 and 0).
  for (const p of m.parameters()) {
    if (p.kind === 'bias' || p.kind.startsWith('layernorm')) {
      await m.setParameter(
        p.name,
        Float32Array.from({ length: p.numel }, (_, i) => 0.5 + Math.sin(i + p.index)),
      );
    }
  }
  return m;
}

async function weights(m: Model): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of m.parameters()) out.set(p.name, await m.getParameter(p.name));
  return out;
}

const bytesEqual = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
const stats = (x: ArrayLike<number>) => {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i] as number;
    s2 += (x[i] as number) ** 2;
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean) };
};

/** Runs a spec and checks that exactly the reported tensors changed (all others bitwise equal). */
async function run(m: Model, spec: CorruptionSpec, seed = 1) {
  const before = await weights(m);
  const report = await corrupt(m, spec, { seed });
  const after = await weights(m);
  const targeted = new Set(report.tensors.map((t) => t.name));
  const untouched = [...before.keys()].filter((name) => !targeted.has(name));
  return {
    before,
    after,
    report,
    targeted,
    untouchedEqual: untouched.every((n) => bytesEqual(before.get(n) as Float32Array, after.get(n) as Float32Array)),
  };
}

test('reinit (nn.Linear default): uniform within 1/sqrt(fan_in), biases 0, LayerNorm exactly 1 and 0; nothing else changes', async (t) => {
  const m = await freshModel();
  const { after, report, untouchedEqual } = await run(m, { method: 'reinit', targets: { layers: 'bottom:2' } });
  t.true(untouchedEqual);
  t.is(report.tensors.length, 2 * 16);
  for (const tr of report.tensors) {
    const v = after.get(tr.name) as Float32Array;
    const p = m.parameter(tr.name);
    if (p.kind === 'linear.weight') {
      const bound = 1 / Math.sqrt(p.shape[1] as number);
      const s = stats(v);
      t.true(
        v.every((x) => Math.abs(x) <= bound),
        `${tr.name} out of bounds`,
      );
      t.true(Math.abs(s.mean) < 0.02 * bound, `${tr.name} mean ${s.mean}`);
      t.true(Math.abs(s.std / (bound / Math.sqrt(3)) - 1) < 0.03, `${tr.name} std ${s.std} vs ${bound / Math.sqrt(3)}`);
    } else if (p.kind === 'layernorm.weight') {
      t.true(
        v.every((x) => x === 1),
        tr.name,
      );
    } else {
      t.true(
        v.every((x) => x === 0),
        tr.name,
      );
    }
    t.is(tr.changed, tr.numel, `${tr.name}: every entry changed`);
  }
  t.deepEqual(report.layers, [0, 1]);
  t.deepEqual(
    report.groups.map((g) => g.group),
    ['layer 0', 'layer 1'],
  );
  m.dispose();
});

test('reinit variants: Kaiming a=0 bound sqrt(6/fan_in); BERT init N(0, 0.02)', async (t) => {
  const m = await freshModel();
  const name = 'bert.encoder.layer.1.intermediate.dense.weight';
  await corrupt(m, { method: 'reinit', init: 'kaiming-0', targets: { names: [name] } }, { seed: 2 });
  const k = await m.getParameter(name);
  const bound = Math.sqrt(6 / 128);
  t.true(k.every((x) => Math.abs(x) <= bound));
  t.true(Math.abs(stats(k).std / (bound / Math.sqrt(3)) - 1) < 0.03);
  await corrupt(m, { method: 'reinit', init: 'bert-normal', targets: { names: [name] } }, { seed: 2 });
  const n = stats(await m.getParameter(name));
  t.true(Math.abs(n.std - 0.02) < 0.02 * 0.03, `std ${n.std}`);
  t.true(Math.abs(n.mean) < 0.001);
  m.dispose();
});

test('init "bert" (Zhang et al. 2021): the top layer and the pooler as BERT initialises them, the same bytes as bert-normal', async (t) => {
  const [a, b] = await Promise.all([freshModel(), freshModel()]);
  const targets = { layers: 'top:1', include: ['pooler'] };
  const report = await corrupt(a, { method: 'reinit', init: 'bert', targets }, { seed: 4 });
  await corrupt(b, { method: 'reinit', init: 'bert-normal', targets }, { seed: 4 });
  t.is(report.spec.init, 'bert-normal', 'one name per initialisation in resolved specs');
  const [wa, wb] = [await weights(a), await weights(b)];
  const top = CONFIG.num_hidden_layers - 1;
  for (const p of a.parameters()) {
    t.true(bytesEqual(wa.get(p.name) as Float32Array, wb.get(p.name) as Float32Array), p.name);
    if (p.layer !== top && p.component !== 'pooler') continue;
    const v = wa.get(p.name) as Float32Array;
    if (p.kind === 'linear.weight') t.true(Math.abs(stats(v).std / 0.02 - 1) < 0.1, `${p.name}: std ${stats(v).std}`);
    else if (p.kind === 'layernorm.weight')
      t.true(
        v.every((x) => x === 1),
        p.name,
      );
    else
      t.true(
        v.every((x) => x === 0),
        p.name,
      );
  }
  t.true(
    report.tensors.some((x) => x.name === 'bert.pooler.dense.weight'),
    'the pooler is a target',
  );
  a.dispose();
  b.dispose();
});

test('gaussian noise: absolute sigma and sigma relative to each tensor std', async (t) => {
  const m = await freshModel();
  const abs = await run(m, { method: 'gaussian', level: 0.05, targets: { layers: 'top:1', components: ['ffn'], kinds: 'weights' } });
  t.true(abs.untouchedEqual);
  for (const name of abs.targeted) {
    const [b, a] = [abs.before.get(name) as Float32Array, abs.after.get(name) as Float32Array];
    const s = stats(a.map((x, i) => x - (b[i] as number)));
    t.true(Math.abs(s.std / 0.05 - 1) < 0.02, `${name}: noise std ${s.std}`);
    t.true(Math.abs(s.mean) < 0.002);
  }
  const rel = await run(m, {
    method: 'gaussian',
    level: 0.5,
    relative: true,
    targets: { names: ['bert.encoder.layer.0.attention.output.dense.weight'] },
  });
  const name = 'bert.encoder.layer.0.attention.output.dense.weight';
  const [b, a] = [rel.before.get(name) as Float32Array, rel.after.get(name) as Float32Array];
  const expected = 0.5 * stats(b).std;
  t.true(Math.abs(stats(a.map((x, i) => x - (b[i] as number))).std / expected - 1) < 0.02);
  const tr = rel.report.tensors[0];
  t.true(Math.abs((tr?.normChange as number) / (0.5 * stats(b).std * Math.sqrt(b.length)) - 1) < 0.02, 'reported change norm');
  const normBefore = Math.sqrt(b.reduce((s, x) => s + x * x, 0));
  t.true(Math.abs((tr?.normBefore as number) / normBefore - 1) < 1e-5, 'reported norm before');
  m.dispose();
});

test('fraction p touches that share of entries, and the report counts them exactly', async (t) => {
  const m = await freshModel();
  const { before, after, report, untouchedEqual } = await run(m, {
    method: 'zero',
    fraction: 0.3,
    targets: { layers: 'all', components: ['ffn.intermediate'], kinds: 'weights' },
  });
  t.true(untouchedEqual);
  for (const tr of report.tensors) {
    const [b, a] = [before.get(tr.name) as Float32Array, after.get(tr.name) as Float32Array];
    let changed = 0;
    let zeroed = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) changed++;
      if (a[i] === 0) zeroed++;
    }
    t.is(tr.changed, changed);
    t.is(tr.selected, zeroed);
    const share = changed / a.length;
    const sd = Math.sqrt((0.3 * 0.7) / a.length);
    t.true(Math.abs(share - 0.3) < 5 * sd, `${tr.name}: share ${share}`);
  }
  m.dispose();
});

test('the same spec and seed give the same bytes; another seed does not; noise depends only on (seed, tensor)', async (t) => {
  const spec: CorruptionSpec = { method: 'gaussian', level: 0.1, fraction: 0.5, targets: { layers: 'bottom:1' } };
  const outcome = async (s: CorruptionSpec, seed: number) => {
    const m = await freshModel();
    await corrupt(m, s, { seed });
    const w = await weights(m);
    m.dispose();
    return w;
  };
  const [a, b, c] = [await outcome(spec, 5), await outcome(spec, 5), await outcome(spec, 6)];
  const wider = await outcome({ ...spec, targets: { layers: 'bottom:2' } }, 5);
  const name = 'bert.encoder.layer.0.attention.self.query.weight';
  for (const [key, value] of a) t.true(bytesEqual(value, b.get(key) as Float32Array), key);
  t.false(bytesEqual(a.get(name) as Float32Array, c.get(name) as Float32Array));
  t.true(
    bytesEqual(a.get(name) as Float32Array, wider.get(name) as Float32Array),
    'layer 0 gets the same noise when layer 1 is also selected',
  );
});

test('bit flips flip exactly the bits reported; exponent mode touches only exponent bits', async (t) => {
  for (const bits of ['any', 'exponent'] as const) {
    const m = await freshModel();
    const { before, after, report, untouchedEqual } = await run(
      m,
      { method: 'bit-flip', level: 1e-3, bits, targets: { layers: 1, components: ['attention'] } },
      9,
    );
    t.true(untouchedEqual);
    let total = 0;
    for (const tr of report.tensors) {
      const [b, a] = [
        new Uint32Array((before.get(tr.name) as Float32Array).buffer),
        new Uint32Array((after.get(tr.name) as Float32Array).buffer),
      ];
      let flipped = 0;
      for (let i = 0; i < a.length; i++) {
        let x = ((a[i] as number) ^ (b[i] as number)) >>> 0;
        if (bits === 'exponent') t.is(x & ~0x7f800000, 0, `${tr.name}[${i}]: a non-exponent bit flipped`);
        while (x) {
          flipped += x & 1;
          x >>>= 1;
        }
      }
      t.is(flipped, tr.bitsFlipped, tr.name);
      total += flipped;
    }
    // About rate x entries x bits (4 x 128 x 128 + 4 x 128 entries; 32 or 8 bits).
    const expected = 1e-3 * (4 * 128 * 129) * (bits === 'any' ? 32 : 8);
    t.true(Math.abs(total - expected) < 5 * Math.sqrt(expected), `${bits}: ${total} flips, expected about ${expected}`);
    m.dispose();
  }
});

test('scale, sign-flip, uniform and revert', async (t) => {
  const m = await freshModel();
  await m.snapshot('clean');
  const name = 'bert.encoder.layer.2.output.dense.weight';
  const clean = await m.getParameter(name);
  await corrupt(m, { method: 'scale', level: 0.5, targets: { names: [name] } }, { seed: 1 });
  t.true((await m.getParameter(name)).every((x, i) => x === (clean[i] as number) * 0.5));
  await corrupt(m, { method: 'sign-flip', targets: { names: [name] } }, { seed: 1 });
  t.true((await m.getParameter(name)).every((x, i) => x === -(clean[i] as number) * 0.5));
  await corrupt(m, { method: 'revert', snapshot: 'clean', targets: { layers: 'all' } }, { seed: 1 });
  t.true(bytesEqual(await m.getParameter(name), clean));
  await corrupt(m, { method: 'uniform', level: 0.4, targets: { names: [name] } }, { seed: 1 });
  const sd = stats(clean).std;
  const noisy = await m.getParameter(name);
  const diff = noisy.map((x, i) => x - (clean[i] as number));
  t.true(
    diff.every((d) => Math.abs(d) <= 0.2 * sd * 1.0001),
    'within lambda/2 x std',
  );
  t.true(Math.abs(stats(diff).std / ((0.4 * sd) / Math.sqrt(12)) - 1) < 0.03);
  m.dispose();
});

test('a bad spec is an error naming the field, and the model is left untouched', async (t) => {
  const m = await freshModel();
  const before = await weights(m);
  const cases: [unknown, RegExp][] = [
    [{ method: 'gaussian', level: 0.1, targets: { layers: 3 } }, /spec\.targets\.layers: layer 3 does not exist/],
    [{ method: 'gaussian', level: 0.1, targets: { layers: 0, components: ['mlp'] } }, /unknown component "mlp"/],
    [{ method: 'gaussian', level: -0.1, targets: { layers: 0 } }, /spec\.level: sigma must be >= 0/],
    [{ method: 'gaussian', level: 0.1, fraction: 2, targets: { layers: 0 } }, /spec\.fraction: must be <= 1/],
    [{ method: 'revert', snapshot: 'nope', targets: { layers: 0 } }, /spec\.snapshot: the model has no snapshot "nope"/],
  ];
  for (const [spec, message] of cases) {
    const error = await t.throwsAsync(corrupt(m, spec, { seed: 1 }));
    t.is((error as { code?: string }).code, 'ERR_CONFIG');
    t.regex(error.message, message);
  }
  const after = await weights(m);
  for (const [name, values] of before) t.true(bytesEqual(values, after.get(name) as Float32Array), name);
  m.dispose();
});

test('the same spec works on RoBERTa and DistilBERT', async (t) => {
  for (const fixture of ['tiny-roberta', 'tiny-distilbert']) {
    const m = await Model.load(modelFixture(fixture));
    const report = await corrupt(
      m,
      { method: 'reinit', targets: { layers: 'top:1', components: ['attention', 'ffn'], include: ['classifier'] } },
      { seed: 3 },
    );
    t.is(report.tensors.length, 12 + 4, fixture);
    t.true(report.tensors.every((x) => x.changed === x.numel || x.component.startsWith('classifier') || /bias$/.test(x.name)));
    m.dispose();
  }
});
