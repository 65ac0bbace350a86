import test from 'ava';
import { fleetKey } from '../../src/sweep/cell.js';
import { autoLabel, canonicalJson, cellId, conditionName, expandCorruption, expandSweep, shardCells } from '../../src/sweep/expand.js';
import { checkLabels } from '../../src/sweep/preflight.js';
import { resolveSweepSpec } from '../../src/sweep/spec.js';

const base = { models: ['/m/bert'], tasks: [{ name: 'sst2', data: '/glue' }] };

test('canonical JSON sorts keys at every level, so ids do not depend on key order', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
});

test('vary expands a grid, zip pairs lists, labels say what varied', (t) => {
  const grid = expandCorruption(
    { method: 'gaussian', targets: {}, vary: { level: [0.1, 1], 'targets.layers': ['bottom:2', 'top:2'] } },
    'spec.corruptions[0]',
  );
  t.deepEqual(
    grid.map((c) => c.spec.label),
    ['gaussian 0.1 bottom:2', 'gaussian 0.1 top:2', 'gaussian 1 bottom:2', 'gaussian 1 top:2'],
  );
  const zipped = expandCorruption(
    { method: 'gaussian', label: 'g', targets: {}, zip: true, vary: { level: [0.1, 1], 'targets.layers': ['bottom:2', 'top:2'] } },
    'x',
  );
  t.deepEqual(
    zipped.map((c) => c.spec.label),
    ['g 0.1 bottom:2', 'g 1 top:2'],
  );
  t.throws(
    () =>
      expandCorruption(
        { method: 'gaussian', targets: {}, zip: true, vary: { level: [0.1], 'targets.layers': ['a', 'b'] } },
        'spec.corruptions[1]',
      ),
    {
      message: /spec\.corruptions\[1\]\.vary: zipped lists must be equally long/,
    },
  );
  t.throws(() => expandCorruption({ method: 'gaussian', targets: {}, vary: { level: [-1] } }, 'spec.corruptions[2]'), {
    message: /spec\.corruptions\[2\]\.level: sigma must be >= 0/,
  });
  t.is(
    autoLabel({
      method: 'reinit',
      level: 0,
      relative: false,
      init: 'kaiming-0',
      fraction: 0.5,
      bits: 'any',
      targets: { layers: 'top:3', kinds: 'weights' },
    }),
    'reinit kaiming-0 p=0.5 top:3 weights',
  );
});

test('the grid crosses models, tasks, seeds and corruptions, with one clean baseline per (model, task, seed)', (t) => {
  const spec = resolveSweepSpec(
    { ...base, seeds: [0, 1, 2], corruptions: [{ method: 'reinit', targets: {}, vary: { 'targets.layers': ['bottom:1', 'top:1'] } }] },
    '/',
  );
  const { cells } = expandSweep(spec);
  t.is(cells.length, 3 * (1 + 2));
  const clean = cells.filter((c) => c.config.corruption === null);
  t.is(clean.length, 3);
  for (const c of cells.filter((c) => c.config.corruption)) {
    const baseline = cells.find((b) => b.id === c.baselineId);
    t.truthy(baseline);
    t.is(baseline?.config.seed, c.config.seed);
  }
  t.is(new Set(cells.map((c) => c.id)).size, cells.length);
  t.deepEqual(
    expandSweep(spec).cells.map((c) => c.id),
    cells.map((c) => c.id),
    'deterministic ids',
  );
});

test('clean baselines use plain fine-tuning even when the corrupted cells use a recovery strategy', (t) => {
  const spec = resolveSweepSpec(
    { ...base, recovery: { freezeUncorrupted: true }, corruptions: [{ method: 'zero', targets: { layers: 0 } }] },
    '/',
  );
  const { cells } = expandSweep(spec);
  t.false(cells.find((c) => !c.config.corruption)?.config.recovery.freezeUncorrupted);
  t.true(cells.find((c) => c.config.corruption)?.config.recovery.freezeUncorrupted);
});

test("the finetuned protocol adds one control per baseline: uncorrupted, healed with the corrupted cells' recovery, in their fleet", (t) => {
  const recovery = { healEpochs: 2, layerDecay: 0.9 };
  const corruptions = [{ method: 'reinit', targets: {}, vary: { 'targets.layers': ['bottom:1', 'top:1'] } }];
  const spec = resolveSweepSpec({ ...base, protocol: 'finetuned', seeds: [0, 1], recovery, corruptions }, '/');
  const { cells } = expandSweep(spec);
  t.is(cells.length, 2 * (1 + 1 + 2));
  const controls = cells.filter((c) => c.config.control);
  t.is(controls.length, 2);
  for (const control of controls) {
    const baseline = cells.find((b) => b.id === control.baselineId);
    t.is(baseline?.config.corruption, null);
    t.is(baseline?.config.control, undefined);
    t.is(control.config.corruption, null);
    t.is(control.config.seed, baseline?.config.seed as number);
    t.deepEqual(control.config.recovery, spec.recovery, 'heals as the corrupted cells do');
    t.is(conditionName(control.config), 'control');
    const corrupted = cells.filter((c) => c.baselineId === control.baselineId && c.config.corruption);
    t.is(corrupted.length, 2);
    for (const c of corrupted) t.is(fleetKey(c), fleetKey(control), 'shares the steps of the cells it controls');
    t.not(fleetKey(baseline as never), fleetKey(control));
  }
  // The pretrained protocol, and the ids of existing cells, are untouched.
  const pretrained = expandSweep(resolveSweepSpec({ ...base, seeds: [0, 1], corruptions }, '/')).cells;
  t.false(pretrained.some((c) => c.config.control));
  t.is(pretrained.length, 2 * 3);
  t.true(
    cells.every((c) => c.config.control || !('control' in c.config)),
    'other cells carry no control key: their ids (hashes of their configs) are those of folders written before controls',
  );
  const { control: _, ...uncontrolled } = (controls[0] as (typeof controls)[number]).config;
  t.not(cellId(uncontrolled), controls[0]?.id, 'the control mark is part of the id');
});

test('a corruption may not be labelled clean or control', (t) => {
  t.throws(() => checkLabels(expandCorruption({ method: 'zero', label: 'control', targets: {} }, 'spec.corruptions[0]')), {
    code: 'ERR_CONFIG',
    message: /^spec\.corruptions\[0\]\.label: "control" names the uncorrupted cells/,
  });
});

test('an explicit cell list adds the baselines it needs', (t) => {
  const spec = resolveSweepSpec({ ...base, cells: [{ corruption: { method: 'zero', targets: { layers: 1 } }, seed: 4 }] }, '/');
  const { cells } = expandSweep(spec);
  t.is(cells.length, 2);
  t.truthy(cells.find((c) => c.config.corruption === null && c.config.seed === 4));
});

test('shards partition the cells deterministically', (t) => {
  const cells = Array.from({ length: 10 }, (_, i) => ({ id: String(i) }));
  const parts = [0, 1, 2].map((index) => shardCells(cells, { index, count: 3 }));
  t.deepEqual(
    parts
      .flat()
      .map((c) => c.id)
      .sort(),
    cells.map((c) => c.id).sort(),
  );
  t.is(new Set(parts.flat().map((c) => c.id)).size, 10);
  t.is(cellId(expandSweep(resolveSweepSpec(base, '/')).cells[0]?.config as never).length, 16);
});

test('bad specs fail with the path of the offending field', (t) => {
  const bad = (spec: unknown) => {
    try {
      resolveSweepSpec(spec, '/');
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.is(bad({ ...base, seedz: [1] }), 'spec: unknown key "seedz"');
  t.is(bad({ ...base, recipe: { lr: 2e-5, epoch: 3 } }), 'spec.recipe: unknown key "epoch"');
  t.regex(bad({ ...base, tasks: [{ name: 'sst3', data: '/g' }] }), /^spec\.tasks\[0\]\.name: unknown task 'sst3'/);
  t.regex(bad({ models: ['/m'], tasks: ['sst2'] }), /^spec\.tasks\[0\]\.data: the data folder is required/);
  t.regex(
    bad({ ...base, tasks: [{ name: 'mnli', data: '/g', evalSplit: 'dev_x' }] }),
    /^spec\.tasks\[0\]\.evalSplit: task 'mnli' has no split 'dev_x'/,
  );
  t.is(bad({ ...base, corruptions: [{ method: 'gaussian', targets: {}, sigma: 1 }] }), 'spec.corruptions[0]: unknown key "sigma"');
});

test('the example spec in examples/ parses and expands (50 cells: 5 seeds x (clean + 6 reinit + 3 noise))', async (t) => {
  const { loadSpec } = await import('../../src/sweep/run.js');
  const { packageRoot } = await import('../../src/native/binding.js');
  const { spec } = await loadSpec(`${packageRoot}/examples/healing-sst2.yaml`);
  t.is(spec.protocol, 'pretrained');
  t.is(expandSweep(spec).cells.length, 50);
});

test('groupByLength is part of a cell id only when on', (t) => {
  const id = (recipe: Record<string, unknown>) => cellId(expandSweep(resolveSweepSpec({ ...base, recipe }, '/')).cells[0]?.config as never);
  t.is(id({}), id({ groupByLength: false }));
  t.not(id({}), id({ groupByLength: true }));
  t.is(resolveSweepSpec({ ...base, recipe: { groupByLength: false } }, '/').recipe.groupByLength, undefined);
});
