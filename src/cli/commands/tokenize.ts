import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readTextJsonl } from '../../data/jsonl-input.js';
import { tokenizeSplit } from '../../data/tokenize-split.js';
import type { TokenizedDataset } from '../../data/tokenized.js';
import { tokenizeExamples } from '../../data/tokenized.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import type { TruncationStrategy } from '../../tokenizer/post-process.js';
import { type CliIO, type Command, numberOption, stringOption, UsageError } from '../command.js';

const TRUNCATIONS = ['longest_first', 'only_first', 'only_second'];

/** Writes one JSON line per example; to a file, or to stdout when `output` is undefined or '-'. */
async function writeJsonl(dataset: TokenizedDataset, output: string | undefined, io: CliIO): Promise<void> {
  const toFile = output !== undefined && output !== '-';
  const stream = toFile ? createWriteStream(output) : undefined;
  const write = async (text: string) => {
    if (stream) {
      if (!stream.write(text)) await once(stream, 'drain');
    } else {
      io.stdout.write(text);
    }
  };
  let buffer = '';
  for (let i = 0; i < dataset.size; i++) {
    const start = dataset.offsets[i] as number;
    const end = dataset.offsets[i + 1] as number;
    const ids = Array.from(dataset.ids.subarray(start, end));
    const line: Record<string, unknown> = {
      input_ids: ids,
      token_type_ids: Array.from(dataset.typeIds.subarray(start, end)),
      attention_mask: ids.map(() => 1),
    };
    if (dataset.labels) line.label = dataset.labels[i];
    buffer += `${JSON.stringify(line)}\n`;
    if (buffer.length > 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  }
  if (buffer) await write(buffer);
  if (stream) {
    stream.end();
    await once(stream, 'close');
  }
}

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: "Tokenize a task split or a JSONL file with a model folder's tokenizer; print one JSON line per example.",
  args: '<model-dir>',
  positionals: { min: 1, max: 1 },
  description:
    'The model folder holds tokenizer.json, or vocab.txt (BERT), vocab.json + merges.txt (RoBERTa), or a SentencePiece model\n' +
    '(sentencepiece.bpe.model, spiece.model, spm.model: XLM-R, ALBERT, DeBERTa-v3), with tokenizer_config.json and config.json.\n' +
    'Each output line has input_ids, token_type_ids, attention_mask and, when known, label. Task splits are cached on disk.',
  options: {
    task: { type: 'string', valueName: 'name', description: "a task from the table (see 'healbert data --help')" },
    data: { type: 'string', valueName: 'root', description: 'data root (GLUE layout: <root>/<Task>/<split>.tsv)' },
    split: { type: 'string', valueName: 'name', description: 'split to tokenize', defaultText: 'dev' },
    input: {
      type: 'string',
      valueName: 'jsonl',
      description: 'instead of a task: lines with "text" and optionally "text_pair" and "label"',
    },
    output: { type: 'string', short: 'o', valueName: 'jsonl', description: 'output file', defaultText: 'stdout' },
    'max-length': {
      type: 'string',
      valueName: 'n',
      description: 'longest sequence, special tokens included',
      defaultText: "the model's, else 512",
    },
    truncation: {
      type: 'string',
      valueName: 'strategy',
      description: 'longest_first, only_first or only_second',
      defaultText: 'longest_first',
    },
    'skip-malformed': { type: 'boolean', description: 'skip (and report) malformed rows instead of stopping' },
    'cache-dir': {
      type: 'string',
      valueName: 'dir',
      description: 'cache folder',
      defaultText: '<data-root>/.healbert-cache, or ./.healbert-cache',
    },
    'no-cache': { type: 'boolean', description: 'do not read or write the cache' },
  },
  examples: [
    'healbert tokenize models/bert-base-uncased --task rte --data glue --split dev --output rte-dev.jsonl',
    'healbert tokenize models/roberta-base --input pairs.jsonl --max-length 128',
  ],
  async run({ values, positionals, io }) {
    const modelDir = positionals[0] as string;
    const task = stringOption(values, 'task');
    const input = stringOption(values, 'input');
    if ((task === undefined) === (input === undefined)) throw new UsageError('give either --task (with --data) or --input');
    const truncation = stringOption(values, 'truncation') ?? 'longest_first';
    if (!TRUNCATIONS.includes(truncation))
      throw new UsageError(`--truncation must be one of ${TRUNCATIONS.join(', ')}, got '${truncation}'`);
    const tokenizer = await loadTokenizer(modelDir);
    const maxLength = numberOption(values, 'max-length', { min: 1, integer: true }) ?? tokenizer.spec.modelMaxLength ?? 512;
    const onMalformed = values['skip-malformed'] ? 'skip' : 'error';
    const output = stringOption(values, 'output');
    if (input !== undefined) {
      const { examples, skipped } = await readTextJsonl(input, { onMalformed });
      const labelled = examples.length > 0 && examples.every((e) => e.label !== undefined);
      const isRegression = labelled && examples.some((e) => !Number.isInteger(e.label));
      const unlabelled = labelled ? examples : examples.map(({ label: _label, ...rest }) => rest);
      const dataset = tokenizeExamples(tokenizer, unlabelled, { maxLength, truncation: truncation as TruncationStrategy, isRegression });
      await writeJsonl(dataset, output, io);
      io.stderr.write(`${input}: ${dataset.size} examples; ${skipped.length} lines skipped\n`);
      for (const s of skipped.slice(0, 20)) io.stderr.write(`  skipped ${s.file}:${s.line}: ${s.reason}\n`);
      return 0;
    }
    const dataRoot = stringOption(values, 'data');
    if (dataRoot === undefined) throw new UsageError('--task needs --data <root>');
    const cacheDir = values['no-cache'] ? false : stringOption(values, 'cache-dir');
    const result = await tokenizeSplit({
      tokenizer,
      task: task as string,
      dataRoot,
      split: stringOption(values, 'split') ?? 'dev',
      maxLength,
      truncation: truncation as TruncationStrategy,
      onMalformed,
      ...(cacheDir === undefined ? {} : { cacheDir }),
    });
    await writeJsonl(result.dataset, output, io);
    io.stderr.write(
      `${result.task} ${result.split}: ${result.dataset.size} examples from ${result.file}` +
        `${result.cached ? ' (from cache)' : ''}; ${result.skipped.length} rows skipped\n`,
    );
    for (const s of result.skipped.slice(0, 20)) io.stderr.write(`  skipped ${s.file}:${s.line}: ${s.reason}\n`);
    return 0;
  },
};
