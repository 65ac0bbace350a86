import { maxSequenceLength } from '../../model/config.js';
import { Model } from '../../model/model.js';
import { predictFile, type TextEncoder } from '../../model/predict-file.js';
import { loadTokenizer } from '../../tokenizer/load.js';
import { type Command, numberOption, stringOption, UsageError } from '../command.js';
import { dtypeOptionSpec, resolvedDtypeOption } from '../dtype-option.js';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Run a model over a JSONL file of texts or tokenized inputs and write one line of logits per input.',
  args: '<model-dir>',
  positionals: { min: 1, max: 1 },
  description:
    'Each input line is {"text": "...", "text_pair"?: "..."} (tokenized with the model folder\'s tokenizer, truncated to the model)\n' +
    'or {"input_ids": [...], "attention_mask"?: [...], "token_type_ids"?: [...]}; each output line is\n' +
    '{"logits": [...], "prediction": <class>, "label": <name from config.json>} (regression: logits only).',
  options: {
    input: { type: 'string', valueName: 'file.jsonl', description: 'inputs, one JSON object per line (required)', required: true },
    output: { type: 'string', valueName: 'file.jsonl', description: 'where to write the predictions (required)', required: true },
    device: { type: 'string', valueName: 'device', description: "'cpu', 'cuda' or 'cuda:<n>'", defaultText: 'cpu' },
    dtype: dtypeOptionSpec('float32'),
    'batch-size': { type: 'string', valueName: 'n', description: 'inputs per batch', defaultText: '32' },
  },
  examples: [
    'healbert predict ./my-model --input dev.tokens.jsonl --output dev.logits.jsonl',
    `echo '{"text": "a gripping, funny film"}' > in.jsonl && healbert predict ./my-sst2-model --input in.jsonl --output out.jsonl`,
  ],
  async run({ positionals, values, io, signal }) {
    const input = stringOption(values, 'input');
    const output = stringOption(values, 'output');
    if (!input || !output) throw new UsageError('--input and --output are required');
    const device = stringOption(values, 'device') ?? 'cpu';
    const batchSize = numberOption(values, 'batch-size', { min: 1, max: 65536, integer: true }) ?? 32;
    const dtype = await resolvedDtypeOption(values, device, 'float32', io);
    const dir = positionals[0] as string;
    const model = await Model.load(dir, { device, dtype });
    try {
      let encodeText: TextEncoder | undefined;
      let noTextReason: string | undefined;
      try {
        const tokenizer = await loadTokenizer(dir);
        const maxLength = maxSequenceLength(model.config);
        encodeText = (text, pair) => tokenizer.encode(text, pair, { maxLength });
      } catch (error) {
        noTextReason = (error as Error).message;
      }
      const id2label = model.rawConfig.id2label as Record<string, string> | undefined;
      const labels = id2label ? Array.from({ length: model.config.numLabels }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`) : undefined;
      const progress = io.stderr.isTTY ? (n: number) => io.stderr.write(`\rpredicted ${n} inputs`) : undefined;
      const count = await predictFile(model, input, output, {
        batchSize,
        signal,
        ...(labels ? { labels } : {}),
        ...(encodeText ? { encodeText } : { noTextReason: noTextReason as string }),
        ...(progress ? { onProgress: progress } : {}),
      });
      io.stderr.write(`${progress ? '\n' : ''}wrote ${count} predictions to ${output}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
