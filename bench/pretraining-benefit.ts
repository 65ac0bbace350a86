/**
 * Does pre-training help? The same architecture fine-tuned on SST-2 from a pre-trained checkpoint and from
 * random initialisation (transformers' initialisation, seed 0), same recipe and seeds. Used for the
 * bundled mini-BERT's model card.
 *
 *   node --import tsx bench/pretraining-benefit.ts --model models/mini-bert [--data demo/data --train 2000 --epochs 3 --seeds 3]
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { Model } from '../src/model/model.js';
import { runSweep } from '../src/sweep/run.js';
import { flag, provenance, writeResult } from './common.js';

const pretrained = resolve(flag('model', 'models/mini-bert'));
const data = resolve(flag('data', 'demo/data'));
const train = Number(flag('train', '2000'));
const epochs = Number(flag('epochs', '3'));
const seeds = Number(flag('seeds', '3'));
const lr = Number(flag('lr', '1e-4'));
const device = flag('device', 'cpu');
const work = join(process.env.OUT ?? tmpdir(), `pretraining-benefit-${Date.now()}`);

// The same architecture, initialised as transformers initialises it, with the same tokenizer.
const raw = JSON.parse(readFileSync(join(pretrained, 'config.json'), 'utf8'));
const random = join(work, 'random-init');
const model = await Model.fromConfig({ ...raw, architectures: ['BertForMaskedLM'] }, { seed: 0 });
await model.save(random);
model.dispose();
for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
  if (existsSync(join(pretrained, f))) copyFileSync(join(pretrained, f), join(random, f));
}

const out = join(work, 'sweep');
await runSweep(
  {
    name: 'pretraining-benefit',
    models: [
      { name: 'pretrained', path: pretrained },
      { name: 'random-init', path: random },
    ],
    tasks: [{ name: 'sst2', data, ...(train > 0 ? { trainExamples: train } : {}) }],
    seeds: Array.from({ length: seeds }, (_, i) => i),
    recipe: { epochs, lr, batchSize: 32, maxLength: 64, groupByLength: true },
    device,
  },
  { out, workers: device === 'cpu' ? 2 : 1 },
);
const analysis = await analyze(out);
const rows = analysis.groups.map((g) => ({
  model: g.model,
  seeds: g.seeds.length,
  accuracy: g.cleanScore.mean,
  ci: g.cleanScore.ci,
  probe: analysis.cells.filter((c) => c.config.model.name === g.model).map((c) => c.cleanBefore),
}));
const result = { bench: 'pretraining-benefit', ...provenance(device), data, train, epochs, lr, rows, sweep: out };
console.log(JSON.stringify(result, null, 2));
console.error(`results: ${writeResult('pretraining-benefit', result)}`);
