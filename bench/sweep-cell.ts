/**
 * Sweep throughput: cells per hour for bert-base shapes (random weights) fine-tuned on a fixed subset of
 * SST-2, one clean and one corrupted cell (pretrained protocol: probe + 1 epoch + evaluation). The same
 * fine-tuning by the peer: bench/peer_cell.py, on the subset file this script writes.
 *
 *   node --import tsx bench/sweep-cell.ts --device cuda --glue ../shared/data/glue [--train 8000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplit } from '../src/data/load-split.js';
import { packageRoot } from '../src/native/binding.js';
import { subsetIndices } from '../src/sweep/data.js';
import { runSweep } from '../src/sweep/run.js';
import { readSweep } from '../src/sweep/store.js';
import { flag, provenance, writeResult } from './common.js';
import { randomBertBaseFolder } from './inputs.js';

const device = flag('device', 'cpu');
const glue = flag('glue', join(packageRoot, 'demo', 'data'));
const train = Number(flag('train', device.startsWith('cuda') ? '8000' : '256'));
const work = join(process.env.OUT ?? tmpdir(), 'sweep-cell');
mkdirSync(work, { recursive: true });

// bert-base shapes, random weights, the bert-base-uncased tokenizer.
const modelDir = await randomBertBaseFolder(join(work, 'bert-base-random'));

const spec = {
  name: 'bench',
  models: [modelDir],
  tasks: [{ name: 'sst2', data: glue, trainExamples: train }],
  corruptions: [{ method: 'reinit', targets: { layers: 'bottom:3' } }],
  seeds: [0],
  recipe: { epochs: 1, batchSize: 32, maxLength: 128, lr: 2e-5, evalBatchSize: 256 },
  device,
  dtype: device.startsWith('cuda') ? 'bfloat16' : 'float32',
};
// The training subset as a TSV (GLUE SST-2 columns), so the peer fine-tunes on exactly the same rows (written
// first: the peer needs it even when this run fails).
const { examples } = await loadSplit('sst2', glue, 'train');
const subset = subsetIndices(examples.length, train, 0);
writeFileSync(
  join(work, 'train-subset.tsv'),
  `sentence\tlabel\n${Array.from(subset, (i: number) => `${examples[i]?.text}\t${examples[i]?.label}`).join('\n')}\n`,
);
const out = join(work, 'sweep');
const started = process.hrtime.bigint();
await runSweep(spec, { out });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cells = (await readSweep(out)).flatMap((c) => (c.result ? [c.result] : []));
const perCell = cells.map((c) => ({
  label: c.config.corruption?.label ?? 'clean',
  status: c.status,
  seconds: c.timings.total,
  timings: c.timings,
  accuracy: c.scores.final?.accuracy,
}));
const mean = perCell.reduce((s, c) => s + (c.seconds ?? 0), 0) / perCell.length;
const data = { train: { size: subset.length } };
const result = {
  bench: 'sweep-cell',
  implementation: 'healbert',
  ...provenance(device),
  train: data.train.size,
  epochs: 1,
  cells: perCell,
  secondsPerCell: mean,
  cellsPerHour: 3600 / mean,
  wallSeconds: seconds,
};
console.log(JSON.stringify(result, null, 2));
console.error(`results: ${writeResult(`sweep-cell-healbert-${device.replace(':', '')}`, result)}`);
