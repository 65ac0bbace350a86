import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TargetSpec } from '../../corruption/spec.js';
import { HealbertError } from '../../errors.js';
import { sweepStatus, writeExport } from '../../sweep/export.js';
import { runSweep } from '../../sweep/run.js';
import { type Command, numberOption, requiredOption, selectorOption, stringOption, UsageError } from '../command.js';
import { dtypeOption, dtypeOptionSpec } from '../dtype-option.js';
import { measureOption, measureOptionSpecs } from '../measure-option.js';
import { sweepReporter } from '../sweep-progress.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show a sweep folder: cells done, diverged, failed, running and pending, with their scores.',
  args: '<sweep-dir>',
  positionals: { min: 1, max: 1 },
  options: {
    json: { type: 'boolean', description: 'print the status as JSON' },
    all: { type: 'boolean', description: 'list every cell, not only the unfinished and failed ones (with its input fingerprint)' },
  },
  async run({ positionals, values, io }) {
    const dir = positionals[0] as string;
    const status = await sweepStatus(dir);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    const c = status.counts;
    io.stdout.write(`${dir}: ${c.done} done, ${c.diverged} diverged, ${c.failed} failed, ${c.running} running, ${c.pending} pending\n`);
    for (const row of status.cells) {
      if (!values.all && (row.state === 'done' || row.state === 'diverged')) continue;
      const scores =
        row.final !== undefined
          ? `  ${row.metric} ${row.final.toFixed(4)}${row.probe !== undefined ? ` (probe ${row.probe.toFixed(4)})` : ''}`
          : '';
      io.stdout.write(
        `  ${row.state.padEnd(8)} ${row.id}  ${row.label}${scores}${row.inputs ? `  inputs ${row.inputs}` : ''}${row.error ? `  ${row.error}` : ''}\n`,
      );
    }
    for (const w of status.warnings) io.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

/** Writes to a stream, waiting whenever it asks to (so an export of any size holds one chunk at a time). */
const writeTo = (stream: { write(text: string): unknown; once?: Writable['once'] }) => (chunk: string) =>
  stream.write(chunk) !== false || !stream.once ? undefined : new Promise<void>((resolve) => stream.once?.('drain', () => resolve()));

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export the results of a sweep folder as CSV (one row per cell) or JSONL (full records).',
  description:
    'Streams index.jsonl (and the results it does not hold yet): rows in the order the cells finished, memory independent of the\n' +
    'number of cells.',
  args: '<sweep-dir>',
  positionals: { min: 1, max: 1 },
  options: {
    format: { type: 'string', valueName: 'fmt', description: 'csv or jsonl', defaultText: 'csv' },
    output: { type: 'string', short: 'o', valueName: 'file', description: 'write here instead of standard output' },
  },
  async run({ positionals, values, io }) {
    const format = stringOption(values, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got '${format}'`);
    const output = stringOption(values, 'output');
    const file = output ? createWriteStream(output) : undefined;
    const opened = file
      ? new Promise<void>((resolve, reject) => {
          file.once('open', () => resolve());
          file.once('error', reject);
        })
      : Promise.resolve();
    try {
      await opened;
    } catch (error) {
      throw new HealbertError('ERR_IO', `${output}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const { warnings } = await writeExport(positionals[0] as string, format, writeTo(file ?? io.stdout));
    if (file) await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

/** One cell from flags: a sweep of that corruption (or none) on one model and task, with its clean baseline. */
export const runCommand: Command = {
  name: 'run',
  summary: 'Run one cell (and its clean baseline; finetuned: and its control) from flags: corrupt, measure, fine-tune, measure again.',
  options: {
    model: { type: 'string', valueName: 'dir', description: 'model folder (required)' },
    task: { type: 'string', valueName: 'name', description: 'task, e.g. sst2 (required)' },
    data: { type: 'string', valueName: 'dir', description: 'data root, e.g. a GLUE folder (required)' },
    out: { type: 'string', valueName: 'dir', description: 'results folder (required)' },
    protocol: { type: 'string', valueName: 'p', description: 'pretrained or finetuned', defaultText: 'pretrained' },
    method: { type: 'string', valueName: 'name', description: 'corruption method (none: only the clean cell)' },
    layers: { type: 'string', valueName: 'sel', description: 'corrupted layers', defaultText: 'all' },
    heads: { type: 'string', valueName: 'sel', description: 'only these attention heads of the layers' },
    neurons: { type: 'string', valueName: 'sel', description: 'only these FFN neurons of the layers' },
    level: { type: 'string', valueName: 'x', description: 'corruption level (sigma, lambda, factor, rate)' },
    relative: { type: 'boolean', description: 'gaussian: sigma relative to each tensor std' },
    seed: { type: 'string', valueName: 'n', description: 'seed', defaultText: '0' },
    epochs: { type: 'string', valueName: 'n', description: 'fine-tuning epochs', defaultText: '3' },
    lr: { type: 'string', valueName: 'x', description: 'fine-tuning learning rate', defaultText: '2e-5' },
    'batch-size': { type: 'string', valueName: 'n', description: 'batch size', defaultText: '32' },
    'max-length': { type: 'string', valueName: 'n', description: 'tokens per example', defaultText: '128' },
    'group-by-length': { type: 'boolean', description: 'batches of examples of similar length (less padding)' },
    'train-examples': { type: 'string', valueName: 'n', description: 'a fixed subset of the training set' },
    device: { type: 'string', valueName: 'device', description: "'cpu', 'cuda' or 'cuda:<n>'", defaultText: 'cpu' },
    dtype: dtypeOptionSpec('float32'),
    ...measureOptionSpecs('none'),
    json: { type: 'boolean', description: 'print events as JSON lines' },
  },
  examples: [
    'healbert run --model ./bert --task sst2 --data ./glue --method reinit --layers bottom:3 --out ./runs/one',
    'healbert run --model ./bert --task sst2 --data ./glue --method reinit --layers top:2 --measure cka,weights,mlm --out ./runs/where',
  ],
  async run({ values, io, signal }) {
    const method = stringOption(values, 'method');
    const level = numberOption(values, 'level');
    const trainExamples = numberOption(values, 'train-examples', { min: 1, integer: true });
    const targets: TargetSpec = { layers: selectorOption(stringOption(values, 'layers') ?? 'all') as number | string };
    for (const key of ['heads', 'neurons'] as const) {
      const selector = selectorOption(stringOption(values, key));
      if (selector !== undefined) targets[key] = selector;
    }
    const spec = {
      name: 'run',
      protocol: stringOption(values, 'protocol') ?? 'pretrained',
      models: [requiredOption(values, 'model')],
      tasks: [{ name: requiredOption(values, 'task'), data: requiredOption(values, 'data'), ...(trainExamples ? { trainExamples } : {}) }],
      corruptions:
        method && method !== 'none'
          ? [
              {
                method,
                targets,
                ...(level !== undefined ? { level } : {}),
                ...(values.relative ? { relative: true } : {}),
              },
            ]
          : [],
      seeds: [numberOption(values, 'seed', { min: 0, integer: true }) ?? 0],
      recipe: {
        epochs: numberOption(values, 'epochs', { min: 1, integer: true }) ?? 3,
        lr: numberOption(values, 'lr', { min: 0 }) ?? 2e-5,
        batchSize: numberOption(values, 'batch-size', { min: 1, integer: true }) ?? 32,
        maxLength: numberOption(values, 'max-length', { min: 8, integer: true }) ?? 128,
        ...(values['group-by-length'] ? { groupByLength: true } : {}),
      },
      device: stringOption(values, 'device') ?? 'cpu',
      dtype: dtypeOption(values, 'float32'),
      ...measureOption(values, undefined),
    };
    const mode = values.json ? 'json' : io.stderr.isTTY ? 'tty' : 'plain';
    const summary = await runSweep(spec, { out: requiredOption(values, 'out'), signal, onEvent: sweepReporter(io, mode) });
    return summary.failed > 0 ? 1 : 0;
  },
};
