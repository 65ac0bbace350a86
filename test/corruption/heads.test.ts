/**
 * Attention heads and FFN neurons as corruption targets: only their slices change (every other byte, the
 * shared output biases included, stays); an entry gets the numbers it gets when its whole tensor is
 * corrupted (common random numbers), on every path; `relative` scales by the slice's std; the report counts
 * changed entries per head; bad selections fail naming the field.
 *
 * The model has odd sizes on purpose (head size 6, 37 neurons): slices start inside Philox counters and the
 * FFN output's columns have a stride that is no multiple of 4.
 */
import test from 'ava';
import { corrupt } from '../../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../../src/corruption/spec.js';
import { Model } from '../../src/model/model.js';

const CONFIG = {
  model_type: 'bert',
  vocab_size: 50,
  hidden_size: 30,
  num_hidden_layers: 2,
  num_attention_heads: 5,
  intermediate_size: 37,
  max_position_embeddings: 16,
  type_vocab_size: 2,
  num_labels: 2,
};
const H = 30;
const D = 6;
const I = 37;
const layer = (l: number, sub: string) => `bert.encoder.layer.${l}.${sub}`;

async function fresh(): Promise<Model> {
  const m = await Model.fromConfig(CONFIG, { seed: 3 });
  // Biases away from 0, and each head's query rows at its own scale (so a slice's std is not the tensor's).
  for (const p of m.parameters()) {
    if (p.kind === 'bias')
      await m.setParameter(
        p.name,
        Float32Array.from({ length: p.numel }, (_, i) => 0.3 + Math.sin(i + p.index)),
      );
    if (p.name.endsWith('attention.self.query.weight')) {
      const w = await m.getParameter(p.name);
      await m.setParameter(
        p.name,
        w.map((v, i) => v * (1 + Math.floor(i / (D * H)))),
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

type Options = { tensorOps?: boolean; kernelOnHost?: boolean };
async function corrupted(spec: CorruptionSpec, seed = 7, options: Options = {}) {
  const m = await fresh();
  const before = await weights(m);
  const report = await corrupt(m, spec, { seed, ...options });
  const after = await weights(m);
  m.dispose();
  return { before, after, report };
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** The flat entries a head owns in a tensor of layer `l` (empty: none), by the definition in the issue. */
function headEntries(name: string, head: number): number[] {
  const out: number[] = [];
  if (/attention\.self\.(query|key|value)\.weight$/.test(name)) for (let i = head * D * H; i < (head + 1) * D * H; i++) out.push(i);
  else if (/attention\.self\.(query|key|value)\.bias$/.test(name)) for (let i = head * D; i < (head + 1) * D; i++) out.push(i);
  else if (/attention\.output\.dense\.weight$/.test(name))
    for (let r = 0; r < H; r++) for (let c = head * D; c < (head + 1) * D; c++) out.push(r * H + c);
  return out;
}

function neuronEntries(name: string, neuron: number): number[] {
  const out: number[] = [];
  if (name.endsWith('intermediate.dense.weight')) for (let c = 0; c < H; c++) out.push(neuron * H + c);
  else if (name.endsWith('intermediate.dense.bias')) out.push(neuron);
  else if (/\.output\.dense\.weight$/.test(name) && !name.includes('attention')) for (let r = 0; r < H; r++) out.push(r * I + neuron);
  return out;
}

test('only the selected heads change: their rows of query, key and value, their columns of the output; the output bias stays', async (t) => {
  const { before, after, report } = await corrupted({ method: 'gaussian', level: 0.1, targets: { layers: 1, heads: [1, 3] } });
  const owned = new Map<string, Set<number>>();
  for (const name of before.keys()) {
    if (!name.startsWith('bert.encoder.layer.1.')) continue;
    const set = new Set([...headEntries(name, 1), ...headEntries(name, 3)]);
    if (set.size > 0) owned.set(name, set);
  }
  t.is(owned.size, 7, 'query, key, value (weight and bias) and the output weight');
  for (const [name, b] of before) {
    const a = after.get(name) as Float32Array;
    const set = owned.get(name) ?? new Set<number>();
    for (let i = 0; i < b.length; i++) {
      if (set.has(i) !== (bits(a)[i] !== bits(b)[i])) {
        t.fail(`${name}[${i}]: ${set.has(i) ? 'selected but unchanged' : 'changed outside the heads'}`);
        return;
      }
    }
  }
  t.deepEqual(
    report.tensors.map((x) => x.name),
    [...owned.keys()].sort((x, y) => report.tensors.findIndex((r) => r.name === x) - report.tensors.findIndex((r) => r.name === y)),
  );
  t.false(report.tensors.some((x) => x.name === layer(1, 'attention.output.dense.bias')));
  // The report: per head, every entry of its 7 slices changed.
  const perHead = 3 * (D * H + D) + H * D;
  t.deepEqual(report.heads, [
    { layer: 1, head: 1, tensors: 7, numel: perHead, selected: perHead, changed: perHead },
    { layer: 1, head: 3, tensors: 7, numel: perHead, selected: perHead, changed: perHead },
  ]);
  t.is(report.total.changed, 2 * perHead);
  const out = report.tensors.find((x) => x.name === layer(1, 'attention.output.dense.weight'));
  t.deepEqual(
    out?.slices?.map((s) => [s.head, s.changed]),
    [
      [1, H * D],
      [3, H * D],
    ],
  );
});

test('only the selected neurons change: their rows of the intermediate weight and bias, their columns of the FFN output', async (t) => {
  const neurons = [0, 5, 6, 7, 36];
  const { before, after, report } = await corrupted({ method: 'reinit', targets: { layers: 0, neurons } });
  for (const [name, b] of before) {
    const a = after.get(name) as Float32Array;
    const set = new Set(name.startsWith('bert.encoder.layer.0.') ? neurons.flatMap((n) => neuronEntries(name, n)) : []);
    for (let i = 0; i < b.length; i++) {
      if (set.has(i) !== (bits(a)[i] !== bits(b)[i])) {
        t.fail(`${name}[${i}]: ${set.has(i) ? 'selected but unchanged' : 'changed outside the neurons'}`);
        return;
      }
    }
  }
  t.deepEqual(report.tensors.map((x) => x.name).sort(), [
    layer(0, 'intermediate.dense.bias'),
    layer(0, 'intermediate.dense.weight'),
    layer(0, 'output.dense.weight'),
  ]);
  // Consecutive neurons are one slice: 0, 5-7, 36.
  t.deepEqual(
    report.tensors[0]?.slices?.map((s) => s.neurons),
    [
      [0, 1],
      [5, 8],
      [36, 37],
    ],
  );
  // reinit of a neuron's row uses the whole matrix's fan-in (H for the intermediate weight, I for the output).
  const w = after.get(layer(0, 'output.dense.weight')) as Float32Array;
  const bound = 1 / Math.sqrt(I);
  t.true(neuronEntries(layer(0, 'output.dense.weight'), 36).every((i) => Math.abs(w[i] as number) <= bound));
  t.true(neuronEntries(layer(0, 'output.dense.weight'), 36).some((i) => Math.abs(w[i] as number) > 1 / Math.sqrt(H) / 2));
});

test('common random numbers: a head or neuron gets exactly the numbers it gets when its whole tensor is corrupted', async (t) => {
  const specs: [string, CorruptionSpec, CorruptionSpec, (name: string) => number[]][] = [];
  for (const method of ['gaussian', 'reinit', 'bit-flip', 'zero'] as const) {
    const level = method === 'gaussian' ? 0.05 : method === 'bit-flip' ? 0.05 : undefined;
    const base = { method, ...(level === undefined ? {} : { level }), fraction: 0.7 };
    specs.push([
      `${method} heads`,
      { ...base, targets: { layers: 'all', heads: 3 } },
      { ...base, targets: { layers: 'all', components: ['attention'] } },
      (name) => headEntries(name, 3),
    ]);
    specs.push([
      `${method} head 3 among all heads`,
      { ...base, targets: { layers: 'all', heads: 3 } },
      { ...base, targets: { layers: 'all', heads: 'all' } },
      (name) => headEntries(name, 3),
    ]);
    specs.push([
      `${method} neurons`,
      { ...base, targets: { layers: [0, 1], neurons: '3-9' } },
      { ...base, targets: { layers: [0, 1], components: ['ffn'] } },
      (name) => [3, 4, 5, 6, 7, 8, 9].flatMap((n) => neuronEntries(name, n)),
    ]);
  }
  for (const [label, part, whole, entries] of specs) {
    const a = await corrupted(part, 11);
    const b = await corrupted(whole, 11);
    let compared = 0;
    for (const x of a.report.tensors) {
      const pa = bits(a.after.get(x.name) as Float32Array);
      const pb = bits(b.after.get(x.name) as Float32Array);
      for (const i of entries(x.name)) {
        compared++;
        if (pa[i] !== pb[i]) {
          t.fail(`${label}: ${x.name}[${i}] differs`);
          return;
        }
      }
    }
    t.true(compared > 0, label);
  }
});

test('every path (fused, tensor ops, the kernel body on the host) gives a slice the same bytes and counts', async (t) => {
  const specs: CorruptionSpec[] = [
    { method: 'gaussian', level: 0.1, fraction: 0.6, targets: { layers: 'all', heads: [0, 2, 4] } },
    { method: 'reinit', init: 'bert-normal', targets: { layers: 1, heads: 1, neurons: [2, 3, 30] } },
    { method: 'bit-flip', level: 0.05, targets: { layers: 0, neurons: 'all' } },
    { method: 'scale', level: 0.5, fraction: 0.5, targets: { layers: 0, heads: 'all', components: ['attention.output'] } },
    { method: 'revert', snapshot: 'clean', targets: { layers: 0, heads: 2 } },
    { method: 'gaussian', level: 0.5, relative: true, targets: { layers: 1, heads: [1, 2] } },
    { method: 'uniform', level: 0.4, targets: { layers: 1, neurons: '10-20' } },
  ];
  for (const spec of specs) {
    const label = JSON.stringify(spec);
    const runs = [];
    for (const options of [{}, { tensorOps: true }, { kernelOnHost: true }] as Options[]) {
      // Tensor ops take the std from a torch reduction (README): the std-scaled methods on the kernel only.
      const scaled = spec.method === 'uniform' || spec.relative === true;
      if (options.tensorOps && scaled) continue;
      const m = await fresh();
      if (spec.method === 'revert') {
        await m.snapshot('clean');
        await corrupt(m, { method: 'gaussian', level: 1, targets: { layers: 'all' } }, { seed: 1 });
      }
      const report = await corrupt(m, spec, { seed: 5, ...options });
      runs.push({ report, after: await weights(m) });
      m.dispose();
    }
    const [fused, ...others] = runs;
    if (!fused) throw new Error('no run');
    t.is(fused.report.path, 'fused');
    for (const other of others) {
      for (const [name, w] of fused.after)
        t.true(
          Buffer.from(w.buffer).equals(Buffer.from((other.after.get(name) as Float32Array).buffer)),
          `${label} ${name} (${other.report.path})`,
        );
      t.deepEqual(
        other.report.tensors.map((x) => [x.numel, x.selected, x.changed, x.bitsFlipped, x.slices]),
        fused.report.tensors.map((x) => [x.numel, x.selected, x.changed, x.bitsFlipped, x.slices]),
        `${label} (${other.report.path})`,
      );
    }
  }
});

test("relative noise is scaled by the selected slice's standard deviation, not the tensor's", async (t) => {
  const name = layer(0, 'attention.self.query.weight');
  const plain = await corrupted({
    method: 'gaussian',
    level: 1,
    targets: { layers: 0, heads: 4, components: ['attention.query'], kinds: 'weights' },
  });
  const relative = await corrupted({
    method: 'gaussian',
    level: 1,
    relative: true,
    targets: { layers: 0, heads: 4, components: ['attention.query'], kinds: 'weights' },
  });
  const b = plain.before.get(name) as Float32Array;
  const entries = headEntries(name, 4);
  const slice = entries.map((i) => b[i] as number);
  const std = (x: number[]) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    return Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / (x.length - 1));
  };
  const ratio = entries
    .map(
      (i) =>
        (((relative.after.get(name) as Float32Array)[i] as number) - (b[i] as number)) /
        (((plain.after.get(name) as Float32Array)[i] as number) - (b[i] as number)),
    )
    .sort((x, y) => x - y)[entries.length >> 1] as number;
  t.true(Math.abs(ratio / std(slice) - 1) < 1e-3, `noise scale ${ratio}, slice std ${std(slice)}`);
  t.true(Math.abs(std(slice) / std([...b]) - 1) > 0.3, 'the slice std differs from the tensor std here');
});

const error = async (spec: unknown) => {
  const m = await fresh();
  try {
    await corrupt(m, spec, { seed: 1 });
    return 'no error';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  } finally {
    m.dispose();
  }
};

test('bad head and neuron selections fail with ERR_CONFIG naming the field, and touch nothing', async (t) => {
  t.is(
    await error({ method: 'zero', targets: { layers: 0, heads: 5 } }),
    'ERR_CONFIG: spec.targets.heads: head 5 does not exist (the model has 5 heads, 0-4)',
  );
  t.is(
    await error({ method: 'zero', targets: { heads: [1, '3-7'] } }),
    'ERR_CONFIG: spec.targets.heads[1]: head 7 does not exist (the model has 5 heads, 0-4)',
  );
  t.is(
    await error({ method: 'zero', targets: { neurons: 37 } }),
    'ERR_CONFIG: spec.targets.neurons: neuron 37 does not exist (the model has 37 FFN neurons, 0-36)',
  );
  t.regex(
    await error({ method: 'zero', targets: { heads: 'first' } }),
    /^ERR_CONFIG: spec\.targets\.heads: "first" is not a head selector/,
  );
  t.regex(
    await error({ method: 'zero', targets: { heads: 1, components: ['ffn'] } }),
    /^ERR_CONFIG: spec\.targets\.heads: the selected components have no matrix/,
  );
  t.regex(await error({ method: 'zero', targets: { heads: -1 } }), /^ERR_CONFIG: spec\.targets\.heads/);
  t.regex(
    await error({ method: 'zero', targets: { heads: 1, components: ['attention.output'], kinds: 'biases' } }),
    /^ERR_CONFIG: spec\.targets: selects no parameters/,
  );
});

test('heads: all is the whole of query, key, value and the output weight, byte for byte', async (t) => {
  const a = await corrupted({ method: 'gaussian', level: 0.2, targets: { layers: 'all', heads: 'all' } });
  const b = await corrupted({ method: 'gaussian', level: 0.2, targets: { layers: 'all', components: ['attention'] } });
  for (const [name, w] of b.after) {
    const same = Buffer.from(w.buffer).equals(Buffer.from((a.after.get(name) as Float32Array).buffer));
    t.is(same, !name.endsWith('attention.output.dense.bias'), name);
  }
});
