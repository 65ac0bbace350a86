/**
 * Does pre-training help? Pre-trained checkpoints and the same architecture from random initialisation
 * (transformers' initialisation, seed 0), fine-tuned on SST-2 with one recipe (the demo's by default) and
 * the same seeds, at one or more training-set sizes. Prints and writes, per model and size, the dev accuracy
 * over seeds (mean, 95% bootstrap interval) and the benefit over random initialisation, paired by seed.
 * Used for the bundled model's card and to pick among pre-training candidates.
 *
 *   node --import tsx bench/pretraining-benefit.ts --models models/mini-bert[,label=path ...] \
 *     [--data demo/data --train 500,1500,5000 --epochs 3 --seeds 3 --lr 3e-4 --dtype auto --name <result name>]
 *
 * Every model must have the first one's architecture (the random initialisation is built from its config).
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { summarize } from '../src/analysis/stats.js';
import { Model } from '../src/model/model.js';
import { runSweep } from '../src/sweep/run.js';
import { flag, provenance, writeResult } from './common.js';

const models = flag('models', flag('model', 'models/mini-bert'))
  .split(',')
  .map((entry) => {
    const [label, path] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [basename(entry), entry];
    return { name: label, path: resolve(path) };
  });
const data = resolve(flag('data', 'demo/data'));
const sizes = flag('train', '1500')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const epochs = Number(flag('epochs', '3'));
const seeds = Number(flag('seeds', '3'));
const lr = Number(flag('lr', '3e-4'));
const device = flag('device', 'cpu');
const dtype = flag('dtype', 'auto') as 'auto';
const resultName = flag('name', 'pretraining-benefit');
const work = join(process.env.OUT ?? tmpdir(), `pretraining-benefit-${Date.now()}`);

// The same architecture, initialised as transformers initialises it, with the same tokenizer.
const first = models[0] as { name: string; path: string };
const raw = JSON.parse(readFileSync(join(first.path, 'config.json'), 'utf8'));
const random = join(work, 'random-init');
const model = await Model.fromConfig({ ...raw, architectures: ['BertForMaskedLM'] }, { seed: 0 });
await model.save(random);
model.dispose();
for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
  if (existsSync(join(first.path, f))) copyFileSync(join(first.path, f), join(random, f));
}

const compared = [...models, { name: 'random-init', path: random }];
const recipe = { epochs, lr, batchSize: 32, maxLength: 64, groupByLength: true };
const started = Date.now();
// One sweep per training-set size (a sweep's tasks need distinct names, and these are all SST-2).
type Cell = Awaited<ReturnType<typeof analyze>>['cells'][number];
const clean: Cell[] = [];
let computed = dtype as string;
for (const n of sizes) {
  const out = join(work, `sweep-${n}`);
  await runSweep(
    {
      name: 'pretraining-benefit',
      models: compared,
      tasks: [{ name: 'sst2', data, trainExamples: n }],
      seeds: Array.from({ length: seeds }, (_, i) => i),
      recipe,
      device,
      dtype,
    },
    { out, workers: device === 'cpu' ? 2 : 1 },
  );
  const analysis = await analyze(out);
  computed = analysis.cells[0]?.config.dtype ?? computed;
  clean.push(...analysis.cells.filter((c) => c.label === 'clean' && c.cleanScore !== null));
}
const scores = (m: string, n: number) =>
  new Map(clean.filter((c) => c.config.model.name === m && c.config.task.trainExamples === n).map((c) => [c.seed, c.cleanScore as number]));
const pct = (x: number | null) => (x === null ? null : Math.round(1e4 * x) / 100);
const summary = (values: number[]) => {
  const s = summarize(values, { seed: 0 });
  return { n: s.n, mean: pct(s.mean), ci: s.ci ? [pct(s.ci.low), pct(s.ci.high)] : null };
};
const rows = sizes.flatMap((n) => {
  const base = scores('random-init', n);
  return compared.map((m) => {
    const mine = scores(m.name, n);
    const paired = [...mine].filter(([s]) => base.has(s)).map(([s, v]) => v - (base.get(s) as number));
    return {
      model: m.name,
      path: m.path,
      train: n,
      accuracy: summary([...mine.values()]),
      perSeed: Object.fromEntries([...mine].map(([s, v]) => [s, pct(v)])),
      ...(m.name === 'random-init' ? {} : { benefit: summary(paired) }),
    };
  });
});
const result = {
  bench: 'pretraining-benefit',
  ...provenance(device),
  dtype: computed,
  data,
  recipe,
  seeds,
  minutes: Math.round((Date.now() - started) / 600) / 100,
  rows,
  work,
};
console.log(JSON.stringify(result, null, 2));
for (const r of rows) {
  const ci = (s: { mean: number | null; ci: (number | null)[] | null }) => `${s.mean}${s.ci ? ` [${s.ci[0]}, ${s.ci[1]}]` : ''}`;
  console.error(
    `${String(r.train).padStart(5)} rows  ${r.model.padEnd(28)} ${ci(r.accuracy)}${r.benefit ? `   benefit ${ci(r.benefit)}` : ''}`,
  );
}
console.error(`results: ${writeResult(resultName, result)}`);
