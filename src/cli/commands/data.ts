import { loadSplit } from '../../data/load-split.js';
import { type SplitSummary, summarizeSplit } from '../../data/summary.js';
import { getTask, taskNames } from '../../data/tasks.js';
import { isHealbertError } from '../../errors.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import { type Command, stringOption, UsageError } from '../command.js';

type Row = SplitSummary | { split: string; file?: string; error: { code: string; message: string } };

function formatRow(row: Row): string[] {
  if ('error' in row) return [`${row.split}: not available [${row.error.code}] ${row.error.message}`];
  const l = row.lengths;
  const lines = [
    `${row.split}: ${row.examples} examples${row.skipped ? `, ${row.skipped} rows skipped` : ''}  (${row.file})`,
    `  length (${l.unit}): p50 ${l.p50}, p90 ${l.p90}, p95 ${l.p95}, p99 ${l.p99}, max ${l.max}`,
  ];
  if (row.labels) {
    const total = Object.values(row.labels).reduce((a, b) => a + b, 0);
    lines.push(
      `  labels: ${Object.entries(row.labels)
        .map(([name, n]) => `${name} ${n} (${((100 * n) / total).toFixed(1)}%)`)
        .join(', ')}`,
    );
  } else if (row.targets) {
    lines.push(`  targets: min ${row.targets.min}, mean ${row.targets.mean.toFixed(3)}, max ${row.targets.max}`);
  } else {
    lines.push('  labels: none (unlabelled split)');
  }
  return lines;
}

export const dataCommand: Command = {
  name: 'data',
  summary: "Show a task's splits: example counts, label distribution and length percentiles.",
  args: '<task>',
  positionals: { min: 1, max: 1 },
  description: `Tasks: ${taskNames().join(', ')}.\nLengths are in words, or in tokens (special tokens included) with --tokenizer.`,
  options: {
    data: {
      type: 'string',
      valueName: 'root',
      description: 'data root (GLUE layout: <root>/<Task>/<split>.tsv) (required)',
      required: true,
    },
    split: { type: 'string', valueName: 'name', description: 'only this split', defaultText: 'all' },
    tokenizer: { type: 'string', valueName: 'model-dir', description: "measure lengths in this model's tokens" },
    'skip-malformed': { type: 'boolean', description: 'skip (and count) malformed rows instead of stopping' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  examples: ['healbert data rte --data glue', 'healbert data mnli --data glue --split dev_matched --tokenizer models/bert-base-uncased'],
  async run({ values, positionals, io }) {
    const dataRoot = stringOption(values, 'data');
    if (dataRoot === undefined) throw new UsageError('--data <root> is required');
    const task = getTask(positionals[0] as string);
    const only = stringOption(values, 'split');
    const splits = only === undefined ? Object.keys(task.splits) : [only];
    const tokenizerDir = stringOption(values, 'tokenizer');
    const tokenizer = tokenizerDir === undefined ? undefined : await loadTokenizer(tokenizerDir);
    const rows: Row[] = [];
    for (const split of splits) {
      try {
        const loaded = await loadSplit(task, dataRoot, split, { onMalformed: values['skip-malformed'] ? 'skip' : 'error' });
        rows.push(summarizeSplit(loaded, tokenizer));
      } catch (error) {
        // A missing split file is reported in its row (e.g. MNLI train not downloaded); other errors stop.
        if (only !== undefined || !isHealbertError(error) || error.code !== 'ERR_IO') throw error;
        rows.push({ split, error: { code: error.code, message: error.message } });
      }
    }
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ task: task.name, labelNames: task.labelNames, isRegression: task.isRegression, metrics: task.metrics, splits: rows }, null, 2)}\n`,
      );
      return 0;
    }
    const kind = task.isRegression ? 'regression' : `${task.labelNames.length} classes (${task.labelNames.join(', ')})`;
    io.stdout.write(`${task.name}: ${kind}; metrics ${task.metrics.join(', ')}\n${rows.flatMap(formatRow).join('\n')}\n`);
    return 0;
  },
};
