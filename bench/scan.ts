/**
 * The layer-sensitivity scan's cost per target: reinit of one encoder layer at a time of a bert-base-shaped
 * model (random weights, a 2-label head, saved as a Hugging Face folder), scored on the first N rows of SST-2
 * dev, restored from the in-memory snapshot. With --peer <python>, bench/peer_scan.py runs right after on the
 * same folder and rows (transformers: re-init the same parameters, evaluate, restore from a state_dict
 * copy), and both are printed together.
 *
 *   node --import tsx bench/scan.ts [--rows 64] [--seeds 0] [--batch-size 32] [--device cpu]
 *        [--data /work/shared/data/glue] [--tokenizer /work/shared/data/bert-base-uncased] [--peer /tmp/peer-venv/bin/python]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../src/model/model.js';
import { loadNative, packageRoot } from '../src/native/binding.js';
import { loadScanModel } from '../src/scan/load.js';
import { scan } from '../src/scan/scan.js';
import type { ScanFile } from '../src/scan/types.js';
import { flag, provenance, writeResult } from './common.js';

const device = flag('device', 'cpu');
const rows = Number(flag('rows', '64'));
const seeds = flag('seeds', '0').split(',').map(Number);
const batchSize = Number(flag('batch-size', '32'));
const data = flag('data', '/work/shared/data/glue');
const tokenizer = flag('tokenizer', '/work/shared/data/bert-base-uncased');
const peer = flag('peer', '');
const folder = flag('model', join(tmpdir(), 'healbert-bench-scan', 'bert-base-random-sst2'));

// The model folder: bert-base's config, random weights (seed 0), a fresh 2-label head, the bert-base-uncased tokenizer.
if (!existsSync(join(folder, 'model.safetensors'))) {
  const config = JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'configs', 'bert-base-uncased.json'), 'utf8'));
  const model = await Model.fromConfig({ ...config, num_labels: 2 }, { seed: 0 });
  await model.save(folder, { labels: ['negative', 'positive'] });
  model.dispose();
  for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizer, f), join(folder, f));
  console.error(`wrote ${folder}`);
}

const info = loadNative().runtimeInfo();
console.error(`healbert runs on libtorch ${info.torchVersion} (${info.torchSource}; ${info.torchLibraryDir}), ${info.numThreads} threads`);
const out = join(tmpdir(), 'healbert-bench-scan', `scan-${process.pid}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const t0 = process.hrtime.bigint();
const { model, evaluation } = await loadScanModel(folder, { task: 'sst2', device });
const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const t1 = process.hrtime.bigint();
const result = await scan(model, {
  task: 'sst2',
  data,
  method: 'reinit',
  each: 'layer',
  seeds,
  rows,
  batchSize,
  evaluation,
  out,
  onEvent: (e) => {
    if (e.type === 'run')
      console.error(`  [${e.index}/${e.total}] ${e.target} seed ${e.seed}: ${e.score.toFixed(4)} (${e.seconds.toFixed(2)} s)`);
  },
});
const scanSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
model.dispose();
const file = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanFile;
const runs = file.targets.flatMap((t) => t.runs.map((r) => ({ target: t.label, ...r })));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const runSeconds = runs.reduce((s, r) => s + r.seconds, 0);
const healbert: Record<string, unknown> & {
  rows: number;
  cleanAccuracy: number;
  perTarget: { medianSeconds: number; medianCorruptMs: number; medianEvaluateSeconds: number; medianRestoreMs: number };
} = {
  bench: 'scan',
  implementation: 'healbert',
  ...provenance(device),
  libtorchSource: info.torchSource,
  libtorchLibraryDir: info.torchLibraryDir,
  threads: info.numThreads,
  model: folder,
  rows: result.config.task.examples,
  batchSize,
  maxLength: result.config.maxLength,
  seeds,
  cleanAccuracy: result.clean.score,
  cleanEvaluateSeconds: result.clean.seconds,
  loadSeconds,
  /** scan() minus the clean evaluation and the runs: data, weight fingerprint, snapshot, files. */
  setupSeconds: scanSeconds - result.clean.seconds - runSeconds,
  perTarget: {
    medianSeconds: median(runs.map((r) => r.seconds)),
    medianCorruptMs: median(runs.map((r) => r.corruptMs)),
    medianEvaluateSeconds: median(runs.map((r) => r.evaluateSeconds)),
    medianRestoreMs: median(runs.map((r) => r.restoreMs)),
  },
  runs: runs.map((r) => ({
    target: r.target,
    seed: r.seed,
    accuracy: r.score,
    seconds: r.seconds,
    corruptMs: r.corruptMs,
    evaluateSeconds: r.evaluateSeconds,
    restoreMs: r.restoreMs,
  })),
};
console.log(JSON.stringify(healbert, null, 2));
console.error(`results: ${writeResult(`scan-healbert-${device.replace(':', '')}`, healbert)}`);

if (peer) {
  const text = execFileSync(
    peer,
    [
      join(packageRoot, 'bench', 'peer_scan.py'),
      '--model',
      folder,
      '--data',
      data,
      '--rows',
      String(rows),
      '--batch-size',
      String(batchSize),
      '--device',
      device,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const p = JSON.parse(text);
  console.error(`results: ${writeResult(`scan-peer-${device.replace(':', '')}`, p)}`);
  const line = (
    name: string,
    x: { medianSeconds: number; medianCorruptMs: number; medianEvaluateSeconds: number; medianRestoreMs: number },
    clean: number,
  ) =>
    `${name.padEnd(44)} ${x.medianSeconds.toFixed(2).padStart(8)} ${x.medianCorruptMs.toFixed(0).padStart(10)} ${x.medianEvaluateSeconds.toFixed(2).padStart(10)} ${x.medianRestoreMs.toFixed(0).padStart(10)} ${clean.toFixed(4).padStart(8)}`;
  console.log(
    [
      `per target (median over ${runs.length} targets), reinit of one bert-base layer, ${healbert.rows} SST-2 dev rows, ${String(healbert.deviceName)}`,
      `${''.padEnd(44)} ${'s/target'.padStart(8)} ${'corrupt ms'.padStart(10)} ${'evaluate s'.padStart(10)} ${'restore ms'.padStart(10)} ${'clean'.padStart(8)}`,
      line(`healbert (libtorch ${info.torchVersion})`, healbert.perTarget, healbert.cleanAccuracy),
      line(`transformers ${p.transformers} (torch ${p.torch})`, p.perTarget, p.cleanAccuracy),
    ].join('\n'),
  );
}
