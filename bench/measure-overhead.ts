/**
 * What each measurement (spec `measure`) adds to a bert-base-shaped cell: the same sweep (pretrained protocol,
 * one clean and one corrupted cell: probe, fine-tuning, evaluation on SST-2's dev set) with no measurement,
 * with CKA on 512 dev examples, with weights, and with MLM knowledge, each in its own results folder, and the
 * plain sweep again at the end to see how much the machine drifted. bert-base shapes with random weights and an
 * MLM head (a BertForMaskedLM folder), the bert-base-uncased tokenizer.
 *
 *   node --import tsx bench/measure-overhead.ts [--device cpu] [--train 256] [--dtype bfloat16] [--kinds none,cka,weights,mlm,none]
 *
 * Small by default so that it runs on 2 CPU cores in minutes: a cell this small is the worst case for the
 * ratio (the measurements' cost does not shrink with the training set).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../src/model/model.js';
import { packageRoot } from '../src/native/binding.js';
import { runSweep } from '../src/sweep/run.js';
import { readSweep } from '../src/sweep/store.js';
import { flag, provenance, writeResult } from './common.js';
import { bertBaseConfig } from './inputs.js';

const device = flag('device', 'cpu');
const glue = flag('glue', join(packageRoot, 'demo', 'data'));
const train = Number(flag('train', '256'));
const dtype = flag('dtype', 'bfloat16');
const kinds = flag('kinds', 'none,cka,weights,mlm,none').split(',');
const work = join(process.env.OUT ?? tmpdir(), `measure-overhead-${process.pid}`);
mkdirSync(work, { recursive: true });

const modelDir = join(work, 'bert-base-random-mlm');
const model = await Model.fromConfig(bertBaseConfig(), { seed: 0, mlmHead: true });
await model.save(modelDir, { architecture: 'BertForMaskedLM' });
model.dispose();
for (const f of ['vocab.txt', 'tokenizer_config.json'])
  copyFileSync(join(packageRoot, 'test', 'fixtures', 'tokenizer', 'models', 'bert-base-uncased', f), join(modelDir, f));

const MEASURES: Record<string, Record<string, unknown> | undefined> = {
  none: undefined,
  cka: { cka: { examples: 512 } },
  weights: { weights: true },
  mlm: { mlm: { examples: 512 } },
};

const runs = [];
for (const [i, kind] of kinds.entries()) {
  const measure = MEASURES[kind];
  if (!(kind in MEASURES)) throw new Error(`--kinds: unknown ${kind}`);
  const out = join(work, `${i}-${kind}`);
  const started = process.hrtime.bigint();
  await runSweep(
    {
      name: `measure-${kind}`,
      models: [modelDir],
      tasks: [{ name: 'sst2', data: glue, trainExamples: train }],
      corruptions: [{ method: 'reinit', targets: { layers: 'top:3' } }],
      seeds: [0],
      recipe: { epochs: 1, batchSize: 32, maxLength: 128, lr: 2e-5, evalBatchSize: 128 },
      device,
      dtype,
      ...(measure ? { measure } : {}),
    },
    { out },
  );
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cells = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
  const cell = (clean: boolean) => cells.find((c) => (c.config.corruption === null) === clean);
  runs.push({
    kind,
    wallSeconds: wall,
    cleanSeconds: cell(true)?.timings.total,
    corruptedSeconds: cell(false)?.timings.total,
    measureSeconds: { clean: cell(true)?.measurements?.seconds, corrupted: cell(false)?.measurements?.seconds },
    status: cells.map((c) => c.status),
  });
  console.error(
    `${kind}: ${wall.toFixed(1)} s (clean ${cell(true)?.timings.total?.toFixed(1)} s, corrupted ${cell(false)?.timings.total?.toFixed(1)} s)`,
  );
}
const plain = runs.filter((r) => r.kind === 'none');
const base = plain.reduce((s, r) => s + r.wallSeconds, 0) / Math.max(1, plain.length);
const baseCorrupted = plain.reduce((s, r) => s + (r.corruptedSeconds ?? 0), 0) / Math.max(1, plain.length);
const result = {
  bench: 'measure-overhead',
  ...provenance(device),
  dtype,
  train,
  eval: 'SST-2 dev (872 rows)',
  runs,
  /** Per measurement: the sweep's wall time and the corrupted cell's time over the mean of the plain runs. */
  ratios: Object.fromEntries(
    runs
      .filter((r) => r.kind !== 'none')
      .map((r) => [r.kind, { sweep: r.wallSeconds / base, corruptedCell: (r.corruptedSeconds ?? 0) / baseCorrupted }]),
  ),
};
console.log(JSON.stringify(result, null, 2));
console.error(`results: ${writeResult(`measure-overhead-${device.replace(':', '')}`, result)}`);
