/** The scan's pure parts, without the addon: t-intervals, target expansion, config differences, the table. */
import test from 'ava';
import { HealbertError } from '../../src/errors.js';
import { formatScanTable } from '../../src/scan/format.js';
import { tCritical, tInterval } from '../../src/scan/stats.js';
import { configDifferences } from '../../src/scan/store.js';
import { expandScanTargets, SCAN_COMPONENTS } from '../../src/scan/targets.js';
import type { ScanConfig, ScanResult } from '../../src/scan/types.js';

test('tCritical gives the 97.5% quantiles of Student t', (t) => {
  // t.ppf(0.975, df) as printed in t tables (to well beyond the 1e-6 checked)
  const expected: [number, number][] = [
    [1, 12.706204736174698],
    [2, 4.302652729749464],
    [4, 2.7764451051977934],
    [29, 2.045229642132703],
    [1000, 1.9623390808264078],
  ];
  for (const [df, value] of expected) t.true(Math.abs(tCritical(0.95, df) - value) < 1e-6 * value, `df ${df}: ${tCritical(0.95, df)}`);
  t.true(Number.isNaN(tCritical(0.95, 0)));
});

test('tInterval is mean +- t * sd / sqrt(n), null below two values', (t) => {
  const ci = tInterval([0.5, 0.6, 0.7]) as { low: number; high: number };
  const half = (4.302652729749464 * 0.1) / Math.sqrt(3);
  t.true(Math.abs(ci.low - (0.6 - half)) < 1e-9 && Math.abs(ci.high - (0.6 + half)) < 1e-9);
  t.is(tInterval([0.5]), null);
  t.is(tInterval([]), null);
});

/** A BERT parameter list: 3 layers with the eight components (weight and bias each), embeddings and head. */
const params = [
  { name: 'bert.embeddings.word_embeddings.weight', layer: -1, component: 'embeddings.word', kind: 'embedding' },
  ...[0, 1, 2].flatMap((layer) =>
    SCAN_COMPONENTS.flatMap((component) =>
      ['weight', 'bias'].map((k) => ({
        name: `bert.encoder.layer.${layer}.${component}.${k}`,
        layer,
        component,
        kind: component.endsWith('layernorm') ? `layernorm.${k}` : `linear.${k}`,
      })),
    ),
  ),
  { name: 'classifier.weight', layer: -1, component: 'classifier', kind: 'linear.weight' },
];

test('targets: one per layer, per component across the layers, or per (layer, component)', (t) => {
  const layers = expandScanTargets({ each: 'layer' }, params, 3);
  t.deepEqual(
    layers.map((x) => [x.label, x.indices.length]),
    [
      ['layer 0', 16],
      ['layer 1', 16],
      ['layer 2', 16],
    ],
  );
  const components = expandScanTargets({ each: 'component', layers: 'top:2', kinds: 'weights' }, params, 3);
  t.is(components.length, 8);
  t.deepEqual(components[0]?.targets, { layers: [1, 2], components: ['attention.query'], kinds: 'weights' });
  t.is(components[0]?.indices.length, 2);
  const cells = expandScanTargets({ each: 'layer.component', layers: [0, 2], components: ['attention', 'ffn'] }, params, 3);
  t.deepEqual(
    cells.map((x) => x.label),
    ['layer 0 attention', 'layer 0 ffn', 'layer 2 attention', 'layer 2 ffn'],
  );
  t.is(cells[0]?.indices.length, 8);
  // --each layer with --components: those components of each layer.
  t.is(expandScanTargets({ each: 'layer', components: ['ffn.layernorm'] }, params, 3)[1]?.indices.length, 2);
});

test('target errors name the option and the entry', (t) => {
  const fails = (options: Parameters<typeof expandScanTargets>[0], message: RegExp) => {
    const error = t.throws(() => expandScanTargets(options, params, 3));
    t.true(error instanceof HealbertError && error.code === 'ERR_CONFIG');
    t.regex(error?.message ?? '', message);
  };
  fails({ each: 'layers' as 'layer' }, /^scan\.each: must be one of layer, component, layer\.component/);
  fails({ each: 'layer', layers: 5 }, /^scan\.layers: layer 5 does not exist/);
  fails({ each: 'layer', layers: 'none' }, /^scan\.layers: selects no layers/);
  fails({ each: 'component', components: ['ffn', 'mlp'] }, /^scan\.components\[1\]: unknown component "mlp"/);
  fails({ each: 'component', components: ['ffn', 'ffn'] }, /^scan\.components\[1\]: "ffn" is listed twice/);
  fails({ each: 'component', components: [] }, /^scan\.components: lists no components/);
});

test('configDifferences lists the dotted paths that differ, with both values', (t) => {
  t.deepEqual(configDifferences({ a: 1, b: { c: [1, 2], d: 'x' } }, { a: 1, b: { c: [1, 2], d: 'x' } }), []);
  t.deepEqual(configDifferences({ a: 1, b: { c: [1, 2] } }, { a: 2, b: { c: [1] }, e: true }), [
    'a: 1 there, 2 here',
    'b.c: [1,2] there, [1] here',
    'e: absent there, true here',
  ]);
});

test('the table says when there is no interval, and why', (t) => {
  const config = {
    model: { name: 'm' },
    task: { name: 'sst2', split: 'dev', examples: 10, trainRows: null },
    evaluation: 'head',
    metric: 'accuracy',
    corruption: { method: 'zero', level: 0, relative: false, init: 'kaiming-sqrt5', fraction: 1, bits: 'any' },
    each: 'layer',
    kinds: 'all',
    seeds: [0],
  } as unknown as ScanConfig;
  const result: ScanResult = {
    config,
    clean: { score: 0.8, metrics: { accuracy: 0.8 }, seconds: 0.5 },
    rows: [
      {
        target: 'layer 0',
        layer: 0,
        component: null,
        seeds: [0],
        scores: [0.6],
        n: 1,
        nonFinite: 0,
        mean: 0.6,
        sd: null,
        ci: null,
        drop: 0.2,
        seconds: 1,
      },
    ],
    notes: ['zero uses no random numbers'],
    ran: 1,
    resumed: 0,
    files: null,
  };
  const text = formatScanTable(result);
  t.regex(text, /no interval \(one seed\)/);
  t.regex(text, /layer 0 +0\.6000 +n\/a \(1 seed\) +\+0\.2000 +1\.00/);
  t.regex(text, /note: zero uses no random numbers/);
});
