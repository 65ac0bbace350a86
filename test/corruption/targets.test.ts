import test from 'ava';
import { resolveCorruptionSpec } from '../../src/corruption/spec.js';
import { layersOf, resolveTargets, type TargetParameter } from '../../src/corruption/targets.js';

/** A 4-layer BERT-like parameter list (names as in checkpoints). */
function params(arch: 'bert' | 'roberta' = 'bert'): TargetParameter[] {
  const out: TargetParameter[] = [
    { name: `${arch}.embeddings.word_embeddings.weight`, layer: -1, component: 'embeddings.word', kind: 'embedding' },
    { name: `${arch}.embeddings.LayerNorm.weight`, layer: -1, component: 'embeddings.layernorm', kind: 'layernorm.weight' },
  ];
  for (let l = 0; l < 4; l++) {
    const p = `${arch}.encoder.layer.${l}`;
    for (const [sub, component] of [
      ['attention.self.query', 'attention.query'],
      ['attention.self.key', 'attention.key'],
      ['attention.output.dense', 'attention.output'],
      ['intermediate.dense', 'ffn.intermediate'],
    ]) {
      out.push({ name: `${p}.${sub}.weight`, layer: l, component: component as string, kind: 'linear.weight' });
      out.push({ name: `${p}.${sub}.bias`, layer: l, component: component as string, kind: 'bias' });
    }
    out.push({ name: `${p}.output.LayerNorm.weight`, layer: l, component: 'ffn.layernorm', kind: 'layernorm.weight' });
  }
  if (arch === 'bert') out.push({ name: 'bert.pooler.dense.weight', layer: -1, component: 'pooler', kind: 'linear.weight' });
  out.push({ name: 'classifier.weight', layer: -1, component: 'classifier', kind: 'linear.weight' });
  return out;
}

const names = (spec: object, arch: 'bert' | 'roberta' = 'bert') => {
  const p = params(arch);
  return resolveTargets(spec, p, 4).indices.map((i) => p[i]?.name);
};

const error = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
};

test('layer selectors', (t) => {
  t.deepEqual(layersOf('all', 12, 'f'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.deepEqual(layersOf('none', 12, 'f'), []);
  t.deepEqual(layersOf(3, 12, 'f'), [3]);
  t.deepEqual(layersOf('3', 12, 'f'), [3]);
  t.deepEqual(layersOf('2-4', 12, 'f'), [2, 3, 4]);
  t.deepEqual(layersOf('bottom:3', 12, 'f'), [0, 1, 2]);
  t.deepEqual(layersOf('top:2', 12, 'f'), [10, 11]);
  t.deepEqual(layersOf('bottom:0.25', 12, 'f'), [0, 1, 2]);
  t.deepEqual(layersOf('top:0.5', 6, 'f'), [3, 4, 5]);
  t.deepEqual(layersOf('bottom:0', 12, 'f'), []);
});

test('impossible layers name the field', (t) => {
  t.is(
    error(() => layersOf(12, 12, 'spec.targets.layers')),
    'ERR_CONFIG: spec.targets.layers: layer 12 does not exist (the model has layers 0-11)',
  );
  t.regex(
    error(() => layersOf('top:13', 12, 'f')),
    /asks for 13 layers, but the model has 12/,
  );
  t.regex(
    error(() => layersOf('5-2', 12, 'f')),
    /runs backwards/,
  );
  t.regex(
    error(() => layersOf('bottom:1.5', 12, 'f')),
    /share of the depth must be in \(0, 1\]/,
  );
  t.regex(
    error(() => layersOf('middle', 12, 'f')),
    /"middle" is not a layer selector/,
  );
  t.regex(
    error(() => resolveTargets({ layers: [0, 9] }, params(), 4)),
    /spec\.targets\.layers\[1\]: layer 9 does not exist/,
  );
});

test('components, kinds, parts and globs combine as a union filtered by kind', (t) => {
  t.deepEqual(names({ layers: 'top:1', components: ['attention.query'] }), [
    'bert.encoder.layer.3.attention.self.query.weight',
    'bert.encoder.layer.3.attention.self.query.bias',
  ]);
  t.deepEqual(names({ layers: 1, components: ['attention'], kinds: 'biases' }), [
    'bert.encoder.layer.1.attention.self.query.bias',
    'bert.encoder.layer.1.attention.self.key.bias',
    'bert.encoder.layer.1.attention.output.dense.bias',
  ]);
  t.deepEqual(names({ layers: 0, components: ['layernorm'] }), ['bert.encoder.layer.0.output.LayerNorm.weight']);
  t.deepEqual(names({ include: ['embeddings', 'pooler'], kinds: 'weights' }), [
    'bert.embeddings.word_embeddings.weight',
    'bert.embeddings.LayerNorm.weight',
    'bert.pooler.dense.weight',
  ]);
  t.deepEqual(names({ names: ['*.layer.2.*.bias'], include: ['classifier'] }), [
    'bert.encoder.layer.2.attention.self.query.bias',
    'bert.encoder.layer.2.attention.self.key.bias',
    'bert.encoder.layer.2.attention.output.dense.bias',
    'bert.encoder.layer.2.intermediate.dense.bias',
    'classifier.weight',
  ]);
  t.is(names({ layers: 'all' }).length, 4 * 9);
});

test('unknown components and parts, and globs that match nothing, are errors naming the field', (t) => {
  t.regex(
    error(() => resolveTargets({ layers: 0, components: ['ffn', 'mlp'] }, params(), 4)),
    /spec\.targets\.components\[1\]: unknown component "mlp"/,
  );
  t.regex(
    error(() => resolveTargets({ include: ['decoder'] }, params(), 4)),
    /spec\.targets\.include\[0\]: unknown part "decoder"/,
  );
  t.regex(
    error(() => resolveTargets({ include: ['pooler'] }, params('roberta'), 4)),
    /spec\.targets\.include\[0\]: this model has no pooler/,
  );
  t.regex(
    error(() => resolveTargets({ names: ['bert.decoder.*'] }, params(), 4)),
    /spec\.targets\.names\[0\]: "bert\.decoder\.\*" matches no parameter/,
  );
  t.regex(
    error(() => resolveTargets({ layers: 'none' }, params(), 4)),
    /spec\.targets: selects no parameters/,
  );
});

test('specs get defaults and precise errors', (t) => {
  const spec = resolveCorruptionSpec({ method: 'gaussian', level: 0.1, targets: { layers: 'all' } });
  t.like(spec, { fraction: 1, relative: false, init: 'kaiming-sqrt5', bits: 'any' });
  t.is(resolveCorruptionSpec({ method: 'zero', targets: {} }).level, 0);
  const bad = (input: unknown) => error(() => resolveCorruptionSpec(input));
  t.is(bad({ method: 'gaussian', level: -1, targets: {} }), 'ERR_CONFIG: spec.level: sigma must be >= 0, got -1');
  t.is(bad({ method: 'gaussian', level: 0.1, fraction: 1.5, targets: {} }), 'ERR_CONFIG: spec.fraction: must be <= 1');
  t.is(bad({ method: 'gaussian', level: 0.1, sigam: 2, targets: {} }), 'ERR_CONFIG: spec: unknown key "sigam"');
  t.is(bad({ method: 'gaussian', targets: {} }), 'ERR_CONFIG: spec.level: gaussian needs a level (its sigma)');
  t.regex(bad({ method: 'melt', targets: {} }), /^ERR_CONFIG: spec\.method: must be one of "reinit", /);
  t.is(bad({ method: 'zero', level: 2, targets: {} }), 'ERR_CONFIG: spec.level: zero takes no level');
  t.is(bad({ method: 'revert', targets: {} }), 'ERR_CONFIG: spec.snapshot: revert needs the name of a snapshot');
  t.is(bad({ method: 'bit-flip', level: 2, targets: {} }), 'ERR_CONFIG: spec.level: the bit-flip rate must be in [0, 1], got 2');
  t.is(bad({ method: 'gaussian', level: 0.1, targets: { layer: 3 } }), 'ERR_CONFIG: spec.targets: unknown key "layer"');
  t.is(bad({ method: 'scale', level: 0.5 }), 'ERR_CONFIG: spec: missing "targets"');
});
