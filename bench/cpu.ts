/**
 * `npm run bench:cpu`: healbert against its peer (Hugging Face transformers on the same torch) on this
 * machine's CPU, in one run, workload by workload: healbert's side in this process, then the peer's
 * (bench/peer_cpu.py) in the lane's python, one after the other so they never share the cores. Both sides
 * run each model workload in each dtype with the same shapes, rows and recipes: float32, and bfloat16 mixed
 * precision (healbert's bf16 mode; the peer under torch.autocast('cpu', torch.bfloat16)). Corruption writes
 * the float32 weights whatever the dtype, so it runs once. scripts/bench-cpu.sh builds healbert against the
 * pip-torch lane's torch and starts this with HEALBERT_ADDON and HEALBERT_PYTHON set.
 *
 * Writes bench/results/cpu-summary.json: { rows: [{ workload, dtype, healbert_ms, peer_ms, ratio }] } with
 * ratio = peer_ms / healbert_ms (above 1: healbert is faster), plus the machine (its CPU model and whether
 * it has native bf16), libtorch and commit.
 *
 *   node --import tsx bench/cpu.ts [--only train-step,eval,electra-step,electra-eval,deberta-step,deberta-eval,
 *                                         modernbert-step,modernbert-eval,modernbert-long,corrupt,cell,mlm-step]
 *                                  [--dtypes float32,bfloat16]
 *                                  [--repeat 5]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Batch } from '../src/batch.js';
import { corrupt } from '../src/corruption/corrupt.js';
import type { CorruptionSpec } from '../src/corruption/spec.js';
import { loadSplit } from '../src/data/load-split.js';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { subsetIndices } from '../src/sweep/data.js';
import { runSweep } from '../src/sweep/run.js';
import { readSweep } from '../src/sweep/store.js';
import { flag, provenance, time, writeResult } from './common.js';
import { bertBaseConfig, randomBatch } from './inputs.js';

const python = process.env.HEALBERT_PYTHON;
if (!python) throw new Error('bench:cpu needs HEALBERT_PYTHON (the python with transformers); run it with `npm run bench:cpu`');
const only = new Set(
  flag(
    'only',
    'train-step,eval,electra-step,electra-eval,deberta-step,deberta-eval,modernbert-step,modernbert-eval,modernbert-long,corrupt,cell,mlm-step',
  ).split(','),
);
const repeat = Number(flag('repeat', '5'));
type Dtype = 'float32' | 'bfloat16';
const dtypes = flag('dtypes', 'float32,bfloat16').split(',') as Dtype[];
for (const d of dtypes) if (d !== 'float32' && d !== 'bfloat16') throw new Error(`--dtypes: float32 or bfloat16, got ${d}`);
const work = join(process.env.OUT ?? tmpdir(), 'healbert-bench-cpu');
mkdirSync(work, { recursive: true });

interface Row {
  workload: string;
  dtype: Dtype | 'float32 weights';
  healbert_ms: number;
  peer_ms: number;
  ratio: number;
  detail?: Record<string, unknown>;
}
const rows: Row[] = [];
const peerInfo: Record<string, unknown> = {};

function peer(workload: string, args: string[] = []): Record<string, unknown> {
  const r = spawnSync(python as string, [join(packageRoot, 'bench', 'peer_cpu.py'), workload, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
  });
  if (r.status !== 0) throw new Error(`peer ${workload} failed (${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  Object.assign(peerInfo, { implementation: out.implementation, threads: out.threads, python: out.python });
  return out;
}

function add(workload: string, dtype: Row['dtype'], healbertMs: number, peerMs: number, detail?: Record<string, unknown>): void {
  const row = {
    workload,
    dtype,
    healbert_ms: round(healbertMs),
    peer_ms: round(peerMs),
    ratio: round(peerMs / healbertMs, 3),
    ...(detail ? { detail } : {}),
  };
  rows.push(row);
  console.error(
    `${workload.padEnd(44)} ${dtype.padEnd(9)} healbert ${fmt(healbertMs)}  peer ${fmt(peerMs)}  ratio ${row.ratio.toFixed(2)}`,
  );
}
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`).padStart(9);

/** The base-size configurations of the families the step and evaluation rows run (--family on the peer). */
const FAMILY_CONFIGS = {
  bert: 'bert-base-uncased',
  electra: 'electra-base-discriminator',
  deberta: 'deberta-v3-base',
  modernbert: 'modernbert-base',
} as const;
type BenchFamily = keyof typeof FAMILY_CONFIGS;
const FAMILY_LABELS: Record<BenchFamily, string> = {
  bert: 'bert-base',
  electra: 'electra-base',
  deberta: 'deberta-v3-base',
  modernbert: 'modernbert-base',
};
const baseConfig = (family: BenchFamily) =>
  family === 'bert'
    ? bertBaseConfig()
    : JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', `${FAMILY_CONFIGS[family]}.json`), 'utf8'));

async function stepWorkload(
  name: string,
  mlm: boolean,
  batchSize: number,
  seqLen: number,
  dtype: Dtype,
  family: BenchFamily = 'bert',
): Promise<void> {
  const model = await Model.fromConfig(baseConfig(family), { seed: 0, mlmHead: mlm, dtype });
  try {
    await model.configureTraining({
      lr: mlm ? 1e-4 : 2e-5,
      warmupSteps: 0,
      totalSteps: 10_000,
      weightDecay: mlm ? 0.01 : 0,
      maxGradNorm: 1,
    });
    const batch = randomBatch(batchSize, seqLen, 1, { mlm });
    const h = await time(() => model.trainStep(batch), 2, repeat);
    const p = peer(mlm ? 'mlm-step' : 'train-step', [
      ...['--repeat', String(repeat), '--batch', String(batchSize), '--seq', String(seqLen), '--dtype', dtype],
      ...['--family', family],
    ]);
    add(name, dtype, h.medianMs, p.ms as number);
    if (mlm) {
      // Pre-training throughput: the tokens of one step over its time (both sides mask 15% of them).
      const tokens = batchSize * seqLen;
      const perSecond = (ms: number) => (tokens * 1000) / ms;
      rows.push({
        workload: `MLM pre-training throughput (tokens/s, bert-base, ${batchSize} x ${seqLen})`,
        dtype,
        healbert_ms: round(h.medianMs),
        peer_ms: round(p.ms as number),
        ratio: round((p.ms as number) / h.medianMs, 3),
        detail: { healbert_tokens_per_s: round(perSecond(h.medianMs), 0), peer_tokens_per_s: round(perSecond(p.ms as number), 0) },
      });
    }
  } finally {
    model.dispose();
  }
}

async function evalWorkload(batchSize: number, seqLen: number, dtype: Dtype, family: BenchFamily = 'bert'): Promise<void> {
  const model = await Model.fromConfig(baseConfig(family), { seed: 0, dtype });
  try {
    const batch: Batch = randomBatch(batchSize, seqLen, 3);
    const h = await time(() => model.predict(batch), 1, Math.max(3, repeat - 2));
    const p = peer('eval', [
      ...['--repeat', String(Math.max(3, repeat - 2)), '--batch', String(batchSize), '--seq', String(seqLen), '--dtype', dtype],
      ...['--family', family],
    ]);
    add(`evaluation (${FAMILY_LABELS[family]}, batch ${batchSize} x ${seqLen})`, dtype, h.medianMs, p.ms as number);
  } finally {
    model.dispose();
  }
}

/**
 * A long-sequence evaluation (ModernBERT-base at 2,048 tokens: two thirds of its layers slide a 128-token
 * window), each side in a process of its own, with the peak resident memory of one pass (model loaded and warm).
 */
function longEvalWorkload(batchSize: number, seqLen: number, dtype: Dtype): void {
  const runs = String(Math.max(3, Math.floor(repeat / 2)));
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(packageRoot, 'bench', 'long-eval.ts'),
      '--config',
      'modernbert-base',
      ...['--batch', String(batchSize), '--seq', String(seqLen), '--dtype', dtype, '--repeat', runs],
    ],
    { encoding: 'utf8', env: process.env },
  );
  if (r.status !== 0) throw new Error(`long-eval failed (${r.status}):\n${r.stderr}`);
  const h = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  const shape = ['--batch', String(batchSize), '--seq', String(seqLen), '--dtype', dtype];
  const p = peer('eval', ['--repeat', runs, ...shape, '--family', 'modernbert', '--peak-memory']);
  const mb = (x: number) => round(x, 0);
  add(`evaluation (modernbert-base, batch ${batchSize} x ${seqLen})`, dtype, h.ms, p.ms as number, {
    healbert: { peak_rss_mb: mb(h.peak_rss_mb), rss_before_mb: mb(h.rss_before_mb), pass_mb: mb(h.peak_rss_mb - h.rss_before_mb) },
    peer: {
      peak_rss_mb: mb(p.peak_rss_mb as number),
      rss_before_mb: mb(p.rss_before_mb as number),
      pass_mb: mb((p.peak_rss_mb as number) - (p.rss_before_mb as number)),
    },
  });
}

/** Repeats of the memory-bound corruption methods (zero, sign-flip, scale, revert): a few ms each. */
const CHEAP_REPEATS = 31;
const repeatsOf = (spec: CorruptionSpec) =>
  ['zero', 'sign-flip', 'scale', 'revert'].includes(spec.method) ? Math.max(repeat, CHEAP_REPEATS) : repeat;

async function corruptWorkload(): Promise<void> {
  const model = await Model.fromConfig(bertBaseConfig(), { seed: 0 });
  const all = { layers: 'all' } as const;
  const specs: [string, CorruptionSpec][] = [
    ['gaussian', { method: 'gaussian', level: 0.01, targets: all }],
    ['gaussian (layer 0)', { method: 'gaussian', level: 0.01, targets: { layers: '0' } }],
    ['gaussian-relative', { method: 'gaussian', level: 0.1, relative: true, targets: all }],
    ['uniform', { method: 'uniform', level: 0.1, targets: all }],
    ['zero', { method: 'zero', targets: all }],
    ['sign-flip', { method: 'sign-flip', targets: all }],
    ['scale', { method: 'scale', level: 0.5, targets: all }],
    ['bit-flip', { method: 'bit-flip', level: 1e-3, targets: all }],
    ['reinit', { method: 'reinit', targets: all }],
    ['revert', { method: 'revert', snapshot: 'clean', targets: all }],
  ];
  const measured = new Map<string, number>();
  try {
    await model.snapshot('clean');
    for (const [name, spec] of specs) {
      const samples: number[] = [];
      // The engine's own timing of the corruption; the per-tensor report is skipped on both sides. The
      // methods that draw no random numbers take a few milliseconds: more repeats keep their medians steady.
      for (let i = 0; i < repeatsOf(spec) + 2; i++) {
        const r = await corrupt(model, spec, { seed: i, report: false });
        if (i >= 2) samples.push(r.milliseconds);
      }
      samples.sort((a, b) => a - b);
      measured.set(name, samples[Math.floor(samples.length / 2)] as number);
    }
  } finally {
    model.dispose();
  }
  const p = peer('corrupt', ['--repeat', String(repeat), '--repeat-cheap', String(CHEAP_REPEATS)]);
  const peerRows = p.rows as Record<string, { ms: number }>;
  for (const [name] of specs) {
    const layers = name.includes('layer 0') ? 'layer 0' : '12 encoder layers';
    add(
      `corrupt ${name.replace(' (layer 0)', '')} (${layers})`,
      'float32 weights',
      measured.get(name) as number,
      peerRows[name]?.ms as number,
      {
        layers: name.includes('layer 0') ? '0' : 'all',
      },
    );
  }
}

async function cellWorkload(dtype: Dtype): Promise<void> {
  const train = Number(flag('train', '256'));
  const data = join(packageRoot, 'demo', 'data');
  const modelDir = join(work, 'model');
  const model = await Model.fromConfig(bertBaseConfig(), { seed: 0 });
  await model.save(modelDir);
  model.dispose();
  for (const f of ['vocab.txt', 'tokenizer_config.json'])
    copyFileSync(join(packageRoot, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased', f), join(modelDir, f));
  const recipe = { epochs: 1, batchSize: 32, maxLength: 128, lr: 2e-5, evalBatchSize: 128, warmupRatio: 0, weightDecay: 0 };
  const probe = { epochs: 30, lr: 1e-2, batchSize: 256, l2: 1e-4 };
  // A fresh tokenization cache: the cell tokenizes its rows as the peer does (a sweep's later cells hit it).
  process.env.HEALBERT_CACHE_DIR = join(work, `cache-${Date.now()}`);
  const out = join(work, `sweep-${Date.now()}`);
  await runSweep(
    {
      name: 'bench-cpu',
      models: [modelDir],
      tasks: [{ name: 'sst2', data, trainExamples: train }],
      seeds: [0],
      corruptions: [],
      recipe,
      probe,
      dtype,
    },
    { out },
  );
  const [cell] = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
  if (!cell) throw new Error('the benchmark cell left no result');
  // The rows the cell trained on (the sweep's subset of the training split) and the rows it evaluated, as
  // TSV files for the peer, and the recipe: both sides see the same rows, epochs and batch sizes.
  const { examples } = await loadSplit('sst2', data, 'train');
  const subset = subsetIndices(examples.length, train, cell.config.task.subsetSeed);
  const tsv = (rows: { text: string; label: number | string }[]) =>
    `sentence\tlabel\n${rows.map((e) => `${e.text}\t${e.label}`).join('\n')}\n`;
  writeFileSync(join(work, 'train-subset.tsv'), tsv(Array.from(subset, (i: number) => examples[i] as { text: string; label: number })));
  const dev = await loadSplit('sst2', data, cell.config.task.evalSplit);
  writeFileSync(join(work, 'dev.tsv'), tsv(dev.examples as { text: string; label: number }[]));
  writeFileSync(join(work, 'recipe.json'), JSON.stringify({ ...recipe, probe }));
  const t = cell.timings as Record<string, number>;
  const peerCell = peer('cell', ['--work', work, '--dtype', dtype]);
  const peerProbe = peer('probe', ['--work', work, '--dtype', dtype]);
  add(`fine-tuning cell (${train} SST-2 rows, 1 epoch, dev)`, dtype, ((t.total ?? 0) - (t.probe ?? 0)) * 1000, peerCell.ms as number, {
    healbert: { accuracy: cell.scores.final?.accuracy, timings: t },
    peer: { accuracy: peerCell.accuracy },
  });
  add(`cell linear probe (${train} + ${dev.examples.length} rows)`, dtype, (t.probe ?? 0) * 1000, peerProbe.ms as number, {
    healbert: { accuracy: cell.scores.probe?.accuracy },
    peer: { accuracy: peerProbe.accuracy },
  });
}

/** The CPU's native bf16 instructions, as /proc/cpuinfo names them (Linux). */
function bf16Flags(): string[] | 'unknown' {
  if (!existsSync('/proc/cpuinfo')) return 'unknown';
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
  return flags.filter((f) => f === 'amx_bf16' || f === 'avx512_bf16');
}

const started = Date.now();
for (const dtype of dtypes) {
  if (only.has('train-step')) await stepWorkload('training step (bert-base, batch 8 x 128)', false, 8, 128, dtype);
  if (only.has('eval')) await evalWorkload(64, 128, dtype);
  if (only.has('electra-step')) await stepWorkload('training step (electra-base, batch 8 x 128)', false, 8, 128, dtype, 'electra');
  if (only.has('electra-eval')) await evalWorkload(64, 128, dtype, 'electra');
  if (only.has('deberta-step')) await stepWorkload('training step (deberta-v3-base, batch 8 x 128)', false, 8, 128, dtype, 'deberta');
  if (only.has('deberta-eval')) await evalWorkload(64, 128, dtype, 'deberta');
  if (only.has('modernbert-step')) await stepWorkload('training step (modernbert-base, batch 8 x 128)', false, 8, 128, dtype, 'modernbert');
  if (only.has('modernbert-eval')) await evalWorkload(64, 128, dtype, 'modernbert');
  if (only.has('modernbert-long')) longEvalWorkload(1, 2048, dtype);
  if (only.has('cell')) await cellWorkload(dtype);
  if (only.has('mlm-step')) await stepWorkload('MLM pre-training step (bert-base, batch 8 x 128)', true, 8, 128, dtype);
}
if (only.has('corrupt')) await corruptWorkload();

const summary = {
  bench: 'cpu',
  ...provenance('cpu'),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 1), bf16: bf16Flags() },
  peer: peerInfo,
  dtypes,
  seconds: round((Date.now() - started) / 1000, 1),
  rows,
};
const cell = (r: Row, side: 'healbert' | 'peer') =>
  r.workload.startsWith('MLM pre-training throughput')
    ? `${(r.detail as Record<string, number>)[`${side}_tokens_per_s`]} tokens/s`
    : fmt(side === 'healbert' ? r.healbert_ms : r.peer_ms).trim();
const table = [
  '| workload | dtype | healbert | transformers | healbert speed-up |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.workload} | ${r.dtype} | ${cell(r, 'healbert')} | ${cell(r, 'peer')} | ${r.ratio.toFixed(2)}x |`),
];
console.log(table.join('\n'));
console.error(`results: ${writeResult('cpu-summary', summary)}`);
