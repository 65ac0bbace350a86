/**
 * Per-cell quantities from hand-made cells: the finetuned protocol's residual gap against the control,
 * the gap to the task model before healing beside it, and what a cell without a done control gets.
 */
import test from 'ava';
import type { SweepCell } from '../../src/analysis/load.js';
import { measureCells } from '../../src/analysis/quantities.js';
import type { CellConfig, CellResult, Protocol } from '../../src/sweep/types.js';
import { configOf as syntheticConfig } from './helpers/synthetic-sweep.js';

const zero = {
  method: 'zero',
  level: 0,
  relative: false,
  init: 'kaiming-sqrt5',
  fraction: 1,
  bits: 'any',
  targets: { layers: 0 },
  label: 'zero 0',
};
const configOf = (protocol: Protocol, kind: 'clean' | 'control' | 'corrupted', seed = 0): CellConfig => ({
  ...syntheticConfig(protocol, '/m', kind === 'corrupted' ? (zero as NonNullable<CellConfig['corruption']>) : null, seed),
  ...(kind === 'control' ? { control: true as const } : {}),
});

const acc = (accuracy: number) => ({ accuracy });

function cell(id: string, config: CellConfig, scores: Partial<CellResult['scores']>, status: CellResult['status'] = 'done'): SweepCell {
  const result: CellResult = {
    format: 1,
    id,
    status,
    config,
    baselineId: config.corruption || config.control ? 'clean' : null,
    primaryMetric: 'accuracy',
    scores: { epochs: [], ...scores },
    timings: {},
    device: 'cpu',
    versions: { healbert: '0', libtorch: '0', node: '0' },
    worker: { host: 'h', pid: 1 },
    startedAt: '',
    finishedAt: '',
  };
  return { id, status, config, result };
}

// A task model at 0.70 that one more epoch takes to 0.80; the corrupted copy drops to 0.50 and heals to 0.76.
const clean = cell('clean', configOf('finetuned', 'clean'), { beforeCorruption: acc(0.7), final: acc(0.7) });
const control = cell('control', configOf('finetuned', 'control'), { beforeCorruption: acc(0.7), final: acc(0.8) });
const corrupted = cell('corrupted', configOf('finetuned', 'corrupted'), {
  beforeCorruption: acc(0.7),
  afterCorruption: acc(0.5),
  final: acc(0.76),
});
const near = (t: { true: (v: boolean, m?: string) => void }, a: number | null, b: number, what: string) =>
  t.true(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a}, expected ${b}`);

test('finetuned: residual gap = control final - final; the uncontrolled gap is kept under its own name', (t) => {
  const m = measureCells([clean, control, corrupted]);
  const c = m.find((x) => x.id === 'corrupted');
  near(t, c?.damage ?? null, 0.2, 'damage');
  near(t, c?.controlScore ?? null, 0.8, 'control score');
  near(t, c?.residualGap ?? null, 0.04, 'residual gap');
  near(t, c?.gapToTaskModelBeforeHealing ?? null, -0.06, 'gap to the task model before healing');
  near(t, c?.recoveryRatio ?? null, (0.2 - 0.04) / 0.2, 'recovery ratio');
  t.is(c?.note, null);
  const k = m.find((x) => x.id === 'control');
  t.is(k?.label, 'control');
  t.is(k?.residualGap, 0);
  near(t, k?.gapToTaskModelBeforeHealing ?? null, -0.1, 'what healing alone gains');
  t.is(k?.recoveryRatio, null, 'no damage, no ratio');
  const b = m.find((x) => x.id === 'clean');
  t.is(b?.residualGap, null, 'the baseline was not healed');
  t.is(b?.controlScore, null);
});

test('finetuned: without a done control there is no residual gap and no ratio, and the note says why', (t) => {
  const missing = measureCells([clean, corrupted]).find((x) => x.id === 'corrupted');
  t.is(missing?.residualGap, null);
  t.is(missing?.recoveryRatio, null);
  near(t, missing?.gapToTaskModelBeforeHealing ?? null, -0.06, 'still reported');
  t.regex(missing?.note ?? '', /^no control cell/);
  const failed = cell('control', configOf('finetuned', 'control'), {}, 'failed');
  const notDone = measureCells([clean, failed, corrupted]).find((x) => x.id === 'corrupted');
  t.is(notDone?.residualGap, null);
  t.is(notDone?.note, 'control failed');
  // A control of another seed is not this cell's control.
  const other = cell('control1', configOf('finetuned', 'control', 1), { beforeCorruption: acc(0.7), final: acc(0.8) });
  t.regex(measureCells([clean, other, corrupted]).find((x) => x.id === 'corrupted')?.note ?? '', /^no control cell/);
});

test('pretrained: unchanged, clean final - final, no control and no gap to the task model', (t) => {
  const pclean = cell('clean', configOf('pretrained', 'clean'), { probe: acc(0.8), final: acc(0.9) });
  const pcorrupted = cell('corrupted', configOf('pretrained', 'corrupted'), { probe: acc(0.6), final: acc(0.85) });
  const c = measureCells([pclean, pcorrupted]).find((x) => x.id === 'corrupted');
  near(t, c?.damage ?? null, 0.2, 'damage');
  near(t, c?.residualGap ?? null, 0.05, 'residual gap');
  near(t, c?.recoveryRatio ?? null, 0.75, 'recovery ratio');
  t.is(c?.controlScore, null);
  t.is(c?.gapToTaskModelBeforeHealing, null);
});
