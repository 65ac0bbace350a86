/**
 * The task table: every difference between tasks (files, columns, labels, metrics) lives here, not in
 * branches. GLUE tasks read the standard GLUE folder layout (`<root>/<Task>/<split>.tsv`, as
 * download_glue_data.py writes it); the other text-classification sets are in ./presets.ts.
 */
import { HealbertError } from '../errors.js';
import type { MetricName } from './metrics.js';
import { TEXT_CLASSIFICATION_PRESETS, type TextClassificationTask } from './presets.js';
import type { Column } from './text-files.js';

export type { Column } from './text-files.js';

/** One split of a GLUE task: its TSV file and the columns of the text, the text pair and the label. */
export interface TsvSplit {
  /** File name inside the task folder. */
  file: string;
  /** The file starts with a header row (CoLA's train and dev do not). */
  header: boolean;
  /** Fields per row, checked on every row (from the header when there is one). */
  fieldCount?: number;
  text: Column;
  textPair?: Column;
  /** Absent for unlabelled test splits. */
  label?: Column;
}

/** A GLUE task: its folder, splits, labels and metrics. */
export interface GlueTask {
  kind: 'glue';
  name: string;
  /** Folder under the GLUE root. */
  dir: string;
  /** Class names (index = class id); empty for regression. */
  labelNames: string[];
  /** The label as written in the files, per class id. */
  labelValues: string[];
  isRegression: boolean;
  /** The metrics the GLUE leaderboard reports for this task; the first is the main one. */
  metrics: MetricName[];
  splits: Record<string, TsvSplit>;
  /** Other names accepted for splits (e.g. MNLI's 'dev' is 'dev_matched'). */
  splitAliases: Record<string, string>;
}

const binary01 = { labelValues: ['0', '1'], isRegression: false as const };
const nli3 = { labelNames: ['entailment', 'neutral', 'contradiction'], labelValues: ['entailment', 'neutral', 'contradiction'] };

function pairSplits(text: string, textPair: string, label: string): Record<string, TsvSplit> {
  return {
    train: { file: 'train.tsv', header: true, text, textPair, label },
    dev: { file: 'dev.tsv', header: true, text, textPair, label },
    test: { file: 'test.tsv', header: true, text, textPair },
  };
}

const mnliSplits: Record<string, TsvSplit> = {
  train: { file: 'train.tsv', header: true, text: 'sentence1', textPair: 'sentence2', label: 'gold_label' },
  dev_matched: { file: 'dev_matched.tsv', header: true, text: 'sentence1', textPair: 'sentence2', label: 'gold_label' },
  dev_mismatched: { file: 'dev_mismatched.tsv', header: true, text: 'sentence1', textPair: 'sentence2', label: 'gold_label' },
  test_matched: { file: 'test_matched.tsv', header: true, text: 'sentence1', textPair: 'sentence2' },
  test_mismatched: { file: 'test_mismatched.tsv', header: true, text: 'sentence1', textPair: 'sentence2' },
};

/** The GLUE tasks healbert reads, in the standard GLUE folder layout. */
export const GLUE_TASKS: readonly GlueTask[] = [
  {
    kind: 'glue',
    name: 'cola',
    dir: 'CoLA',
    labelNames: ['unacceptable', 'acceptable'],
    ...binary01,
    metrics: ['mcc'],
    splits: {
      // No header: source, label, the original author's mark ('*' or empty), sentence.
      train: { file: 'train.tsv', header: false, fieldCount: 4, text: 3, label: 1 },
      dev: { file: 'dev.tsv', header: false, fieldCount: 4, text: 3, label: 1 },
      test: { file: 'test.tsv', header: true, text: 'sentence' },
    },
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'sst2',
    dir: 'SST-2',
    labelNames: ['negative', 'positive'],
    ...binary01,
    metrics: ['accuracy'],
    splits: {
      train: { file: 'train.tsv', header: true, text: 'sentence', label: 'label' },
      dev: { file: 'dev.tsv', header: true, text: 'sentence', label: 'label' },
      test: { file: 'test.tsv', header: true, text: 'sentence' },
    },
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'mrpc',
    dir: 'MRPC',
    labelNames: ['not_equivalent', 'equivalent'],
    ...binary01,
    metrics: ['f1', 'accuracy'],
    splits: pairSplits('#1 String', '#2 String', 'Quality'),
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'stsb',
    dir: 'STS-B',
    labelNames: [],
    labelValues: [],
    isRegression: true,
    metrics: ['pearson', 'spearman'],
    splits: pairSplits('sentence1', 'sentence2', 'score'),
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'qqp',
    dir: 'QQP',
    labelNames: ['not_duplicate', 'duplicate'],
    ...binary01,
    metrics: ['f1', 'accuracy'],
    splits: pairSplits('question1', 'question2', 'is_duplicate'),
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'mnli',
    dir: 'MNLI',
    ...nli3,
    isRegression: false,
    metrics: ['accuracy'],
    splits: mnliSplits,
    splitAliases: { dev: 'dev_matched', test: 'test_matched', validation_matched: 'dev_matched', validation_mismatched: 'dev_mismatched' },
  },
  {
    // MNLI evaluated on its mismatched genres: the same training data, the other dev/test sets.
    kind: 'glue',
    name: 'mnli-mm',
    dir: 'MNLI',
    ...nli3,
    isRegression: false,
    metrics: ['accuracy'],
    splits: mnliSplits,
    splitAliases: {
      dev: 'dev_mismatched',
      test: 'test_mismatched',
      validation_matched: 'dev_matched',
      validation_mismatched: 'dev_mismatched',
    },
  },
  {
    kind: 'glue',
    name: 'qnli',
    dir: 'QNLI',
    labelNames: ['entailment', 'not_entailment'],
    labelValues: ['entailment', 'not_entailment'],
    isRegression: false,
    metrics: ['accuracy'],
    splits: pairSplits('question', 'sentence', 'label'),
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'rte',
    dir: 'RTE',
    labelNames: ['entailment', 'not_entailment'],
    labelValues: ['entailment', 'not_entailment'],
    isRegression: false,
    metrics: ['accuracy'],
    splits: pairSplits('sentence1', 'sentence2', 'label'),
    splitAliases: {},
  },
  {
    kind: 'glue',
    name: 'wnli',
    dir: 'WNLI',
    labelNames: ['not_entailment', 'entailment'],
    ...binary01,
    metrics: ['accuracy'],
    splits: pairSplits('sentence1', 'sentence2', 'label'),
    splitAliases: {},
  },
  {
    // The diagnostic set: MNLI's labels, scored with a model trained on MNLI; GLUE ships it unlabelled.
    kind: 'glue',
    name: 'ax',
    dir: 'diagnostic',
    ...nli3,
    isRegression: false,
    metrics: ['mcc'],
    splits: { test: { file: 'diagnostic.tsv', header: true, text: 'sentence1', textPair: 'sentence2' } },
    splitAliases: {},
  },
];

/** A task: a GLUE task, or a text-classification preset (./presets.ts). */
export type Task = GlueTask | TextClassificationTask;

const ALIASES: Record<string, string> = {
  'sst-2': 'sst2',
  'sts-b': 'stsb',
  'mnli-m': 'mnli',
  mnli_matched: 'mnli',
  mnli_mismatched: 'mnli-mm',
  diagnostic: 'ax',
};

/** Every task name getTask accepts (aliases aside). */
export function taskNames(): string[] {
  return [...GLUE_TASKS.map((t) => t.name), ...TEXT_CLASSIFICATION_PRESETS.map((t) => t.name)];
}

/** A task by name (case-insensitive; 'SST-2', 'STS-B', 'mnli-m' and similar spellings accepted). */
export function getTask(name: string): Task {
  const key = name.toLowerCase();
  const canonical = ALIASES[key] ?? key;
  const task = GLUE_TASKS.find((t) => t.name === canonical) ?? TEXT_CLASSIFICATION_PRESETS.find((t) => t.name === canonical);
  if (!task) throw new HealbertError('ERR_ARGUMENT', `unknown task '${name}'; known tasks: ${taskNames().join(', ')}`);
  return task;
}

/** The canonical split name (resolving aliases such as MNLI's 'dev'), or an ERR_ARGUMENT error. */
export function resolveSplit(task: Task, split: string): string {
  const resolved = task.splitAliases[split] ?? split;
  if (!(resolved in task.splits)) {
    throw new HealbertError(
      'ERR_ARGUMENT',
      `task '${task.name}' has no split '${split}'; its splits: ${Object.keys(task.splits).join(', ')}`,
    );
  }
  return resolved;
}
