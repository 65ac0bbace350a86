import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { analyze } from '../../analysis/analyze.js';
import { checkDemoFolder } from '../../demo/folder.js';
import { bundledData, bundledModel, demoOutDefault, demoSpec } from '../../demo/spec.js';
import { demoSummary } from '../../demo/summary.js';
import { HealbertError } from '../../errors.js';
import { writeReport } from '../../report/render.js';
import { runSweep } from '../../sweep/run.js';
import { modelParameters } from '../../sweep/spec.js';
import type { Protocol } from '../../sweep/types.js';
import { type Command, numberOption, stringOption, UsageError } from '../command.js';
import { dtypeOption, dtypeOptionSpec } from '../dtype-option.js';
import { measureOption, measureOptionSpecs } from '../measure-option.js';
import { sweepReporter } from '../sweep-progress.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: "Reproduce the paper's experiment: corrupt, measure, fine-tune and compare on SST-2, then write the report.",
  description:
    'By default: the bundled mini-BERT (models/mini-bert) on the committed SST-2 slice (1,500 training rows, the full dev set),\n' +
    'bottom-k vs top-k re-initialisation and Gaussian noise at three levels, 6 seeds, on the CPU (2 worker processes),\n' +
    'with CKA by layer of 512 dev examples (--measure: where the damage sits before healing and where it remains after).\n' +
    'With --model <dir> --device cuda --data <glue>: the full-size version (all of SST-2 train, more layer sets, levels, seeds).\n' +
    'Rerunning resumes: finished cells are kept, except those computed from a model or data that has changed since\n' +
    '(their old results are kept beside them as result.stale-<date>.json).\n' +
    'With --protocol finetuned: the same corruptions, seeds and recipe, but corrupting the task model (the clean model\n' +
    'fine-tuned on SST-2) and healing it by --heal-epochs more epochs. Healing is more training, and a task model that\n' +
    'is not converged gains from it corrupted or not, so each seed also runs a control (the task model healed the same\n' +
    'way, uncorrupted): the residual gap is control healed minus corrupted healed. It writes to its own folder.',
  options: {
    model: { type: 'string', valueName: 'dir', description: 'a BERT-family model folder', defaultText: 'models/mini-bert' },
    data: { type: 'string', valueName: 'dir', description: 'GLUE root with SST-2', defaultText: 'demo/data' },
    device: { type: 'string', valueName: 'device', description: "'cpu' or 'cuda[:n]'", defaultText: 'cpu' },
    protocol: {
      type: 'string',
      valueName: 'name',
      description: "'pretrained' (corrupt the pretrained model, then fine-tune) or 'finetuned' (corrupt the task model, then heal)",
      defaultText: 'pretrained',
    },
    'heal-epochs': {
      type: 'string',
      valueName: 'n',
      description: 'finetuned protocol only: epochs of healing after corruption',
      defaultText: '1',
    },
    out: {
      type: 'string',
      valueName: 'dir',
      description: 'results and report folder (one protocol per folder)',
      defaultText: './healbert-demo; finetuned: ./healbert-demo-finetuned',
    },
    seeds: {
      type: 'string',
      valueName: 'n',
      description: 'seeds per condition (6 is the fewest with which the exact paired test can reach p < 0.05)',
      defaultText: '6',
    },
    'train-examples': { type: 'string', valueName: 'n', description: 'training rows used', defaultText: '1500 (cpu), all (cuda)' },
    epochs: { type: 'string', valueName: 'n', description: 'fine-tuning epochs', defaultText: '3' },
    workers: { type: 'string', valueName: 'n', description: 'CPU worker processes', defaultText: '2' },
    dtype: dtypeOptionSpec('auto'),
    ...measureOptionSpecs('cka'),
    json: { type: 'boolean', description: 'print sweep events as JSON lines' },
  },
  examples: [
    'healbert demo',
    'healbert demo --protocol finetuned',
    'healbert demo --model ./bert-base-uncased --device cuda --data ./glue --out ./demo-full',
  ],
  async run({ values, io, signal }) {
    const protocolName = stringOption(values, 'protocol') ?? 'pretrained';
    if (protocolName !== 'pretrained' && protocolName !== 'finetuned')
      throw new UsageError(`--protocol must be 'pretrained' or 'finetuned', got '${protocolName}'`);
    const protocol: Protocol = protocolName;
    const healEpochs = numberOption(values, 'heal-epochs', { min: 1, integer: true });
    if (healEpochs !== undefined && protocol !== 'finetuned')
      throw new UsageError('--heal-epochs needs --protocol finetuned (the pretrained protocol fine-tunes once and does not heal)');
    const model = resolve(stringOption(values, 'model') ?? bundledModel);
    const data = resolve(stringOption(values, 'data') ?? bundledData);
    if (!existsSync(join(model, 'config.json'))) throw new HealbertError('ERR_CONFIG', `--model: ${model} has no config.json`);
    const device = stringOption(values, 'device') ?? 'cpu';
    const out = resolve(stringOption(values, 'out') ?? demoOutDefault(protocol));
    await checkDemoFolder(out, protocol);
    const { numLayers } = await modelParameters(model);
    const seeds = numberOption(values, 'seeds', { min: 1, max: 100, integer: true });
    const trainExamples = numberOption(values, 'train-examples', { min: 8, integer: true });
    const epochs = numberOption(values, 'epochs', { min: 1, integer: true });
    const dtype = dtypeOption(values, 'auto');
    const { measure } = measureOption(values, 'cka');
    const spec = demoSpec({
      model,
      data,
      device,
      layers: numLayers,
      dtype,
      protocol,
      ...(healEpochs ? { healEpochs } : {}),
      ...(seeds ? { seeds } : {}),
      ...(trainExamples ? { trainExamples } : {}),
      ...(epochs ? { epochs } : {}),
      measure: measure ?? null,
    });
    const started = Date.now();
    const mode = values.json ? 'json' : io.stderr.isTTY ? 'tty' : 'plain';
    const workers = device === 'cpu' ? (numberOption(values, 'workers', { min: 1, max: 64, integer: true }) ?? 2) : 1;
    const summary = await runSweep(spec, {
      out,
      workers,
      ...(device === 'cpu' ? {} : { devices: [device] }),
      // A demo reruns what a new bundled model (or data) makes stale instead of refusing: its user wants
      // the answer for the files they have now, and the old results stay beside the new ones.
      recomputeChanged: true,
      signal,
      onEvent: sweepReporter(io, mode),
    });
    const analysis = await analyze(out);
    const reportDir = join(out, 'report');
    await writeReport(analysis, reportDir, 'html');
    const text = demoSummary(analysis, protocol);
    await writeFile(join(out, 'summary.txt'), text);
    io.stdout.write(`\n${text}\n`);
    io.stdout.write(`Report: ${join(reportDir, 'report.html')}  (Markdown: report.md, tables: csv/)\n`);
    io.stdout.write(
      `Cells: ${summary.done} done, ${summary.diverged} diverged, ${summary.failed} failed; ${((Date.now() - started) / 60000).toFixed(1)} min\n`,
    );
    return summary.failed > 0 ? 1 : 0;
  },
};
