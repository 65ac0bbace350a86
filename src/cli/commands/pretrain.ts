import { type PretrainEvent, pretrain } from '../../pretrain/pretrain.js';
import { type Command, numberOption, requiredOption, stringOption, UsageError } from '../command.js';
import { dtypeOption, dtypeOptionSpec, resolvedDtypeOption } from '../dtype-option.js';

function describe(e: PretrainEvent): string {
  switch (e.type) {
    case 'corpus':
      return `corpus: ${e.documents} documents (${e.heldOutDocuments} held out, listed in ${e.heldOutList}), ${e.sequences} training sequences, ${e.trainTokens} tokens${e.cached ? ' (cached)' : ''}`;
    case 'resume':
      return `resuming from ${e.checkpoint} at step ${e.step}`;
    case 'step':
      return `step ${e.step}/${e.steps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${e.tokens} tokens  ${e.seconds.toFixed(0)} s`;
    case 'eval': {
      const d = e.discriminator;
      const mlm = `${d ? "generator's " : ''}held-out MLM loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}% (${e.count} tokens)`;
      return d
        ? `eval at step ${e.step}: ${mlm}; discriminator accuracy ${(100 * d.accuracy).toFixed(2)}%, AUC ${d.auc.toFixed(4)} (${(100 * d.replaced).toFixed(1)}% of ${d.tokens} tokens replaced)`
        : `eval at step ${e.step}: ${mlm}`;
    }
    case 'checkpoint':
      return `checkpoint ${e.dir}`;
    case 'stopped':
      return `stopped at step ${e.step}; run the same command again to resume`;
    case 'done':
      return `done: ${e.step} steps; model in ${e.dir}`;
  }
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Pre-train a BERT (masked-language modelling) or an ELECTRA (replaced-token detection) on plain text.',
  description:
    'Writes checkpoints to --out as it goes and resumes from the latest when run again with the same options.\n' +
    'The final model (a Hugging Face BertForMaskedLM folder with the tokenizer) goes to <out>/model.\n' +
    '--objective electra trains a discriminator of the given size with a generator --generator-size as wide that\n' +
    'shares its embeddings; the loss is the generator MLM loss + --rtd-weight x the discriminator loss. It writes\n' +
    '<out>/model (ElectraForPreTraining, the model to fine-tune) and <out>/generator (ElectraForMaskedLM).',
  options: {
    corpus: { type: 'string', valueName: 'paths', description: '.txt files or folders, comma-separated (required)' },
    tokenizer: { type: 'string', valueName: 'dir', description: 'folder with vocab.txt or tokenizer.json (required)' },
    out: { type: 'string', valueName: 'dir', description: 'output folder (required)' },
    init: { type: 'string', valueName: 'model-dir', description: 'continue pre-training this BERT checkpoint' },
    layers: { type: 'string', valueName: 'n', description: 'from scratch: encoder layers', defaultText: '4' },
    hidden: { type: 'string', valueName: 'n', description: 'from scratch: hidden size', defaultText: '256' },
    heads: { type: 'string', valueName: 'n', description: 'from scratch: attention heads', defaultText: '4' },
    intermediate: { type: 'string', valueName: 'n', description: 'from scratch: FFN size', defaultText: '4 x hidden' },
    steps: { type: 'string', valueName: 'n', description: 'optimizer steps (required)' },
    'batch-size': { type: 'string', valueName: 'n', description: 'sequences per step', defaultText: '32' },
    'max-length': { type: 'string', valueName: 'n', description: 'tokens per packed sequence', defaultText: '128' },
    lr: { type: 'string', valueName: 'x', description: 'peak learning rate', defaultText: '5e-4' },
    objective: { type: 'string', valueName: 'name', description: 'mlm or electra', defaultText: 'mlm' },
    'generator-size': {
      type: 'string',
      valueName: 'share',
      description: "electra: the generator's width as a share of the model's",
      defaultText: '0.25',
    },
    'rtd-weight': { type: 'string', valueName: 'x', description: "electra: the discriminator loss's weight", defaultText: '50' },
    'mask-rate': {
      type: 'string',
      valueName: 'share',
      description: 'share of tokens masked for prediction in training (held-out evaluation always masks 15%)',
      defaultText: '0.15',
    },
    dropout: {
      type: 'string',
      valueName: 'p',
      description: "encoder dropout while pre-training; the saved model keeps its config's value (0.1) for fine-tuning",
      defaultText: "the config's, 0.1",
    },
    warmup: { type: 'string', valueName: 'n', description: 'warm-up steps', defaultText: '6% of steps' },
    'eval-every': { type: 'string', valueName: 'n', description: 'steps between held-out evaluations', defaultText: '200' },
    'checkpoint-every': { type: 'string', valueName: 'n', description: 'steps between checkpoints', defaultText: '500' },
    'hold-out': { type: 'string', valueName: 'share', description: 'share of documents held out for evaluation', defaultText: '0.02' },
    seed: { type: 'string', valueName: 'n', description: 'random seed', defaultText: '0' },
    device: { type: 'string', valueName: 'device', description: "'cpu', 'cuda' or 'cuda:<n>'", defaultText: 'cpu' },
    dtype: dtypeOptionSpec('auto'),
    'save-dtype': {
      type: 'string',
      valueName: 'dtype',
      description: 'storage of the final model: float32, float16, bfloat16',
      defaultText: 'float32',
    },
    json: { type: 'boolean', description: 'print events as JSON lines' },
  },
  examples: [
    'healbert pretrain --corpus ./corpus --tokenizer ./bert-base-uncased --out ./mini-bert --layers 4 --hidden 256 --heads 4 --steps 20000',
    'healbert pretrain --corpus ./corpus --tokenizer ./bert-base-uncased --out ./crammed --steps 8000 --lr 2e-3 --mask-rate 0.4 --dropout 0',
    'healbert pretrain --corpus ./corpus --tokenizer ./bert-base-uncased --init ./corrupted-bert --out ./mlm-healed --steps 500 --lr 1e-4',
    'healbert pretrain --corpus ./corpus --tokenizer ./bert-base-uncased --out ./mini-electra --objective electra --steps 2000 --lr 1e-3',
  ],
  async run({ values, io, signal }) {
    const int = (name: string, fallback: number, min = 1) => numberOption(values, name, { min, integer: true }) ?? fallback;
    const steps = numberOption(values, 'steps', { min: 1, integer: true });
    if (steps === undefined) throw new UsageError('--steps is required');
    dtypeOption(values, 'auto'); // a bad --dtype fails before any other work
    const saveDtype = stringOption(values, 'save-dtype') ?? 'float32';
    if (!['float32', 'float16', 'bfloat16'].includes(saveDtype))
      throw new UsageError(`--save-dtype must be float32, float16 or bfloat16, got '${saveDtype}'`);
    const init = stringOption(values, 'init');
    const objective = stringOption(values, 'objective') ?? 'mlm';
    if (objective !== 'mlm' && objective !== 'electra') throw new UsageError(`--objective must be mlm or electra, got '${objective}'`);
    const generatorSize = numberOption(values, 'generator-size', { min: 0.01, max: 1 });
    const rtdWeight = numberOption(values, 'rtd-weight', { min: 0 });
    if (objective === 'mlm' && (generatorSize !== undefined || rtdWeight !== undefined))
      throw new UsageError('--generator-size and --rtd-weight need --objective electra');
    const hidden = int('hidden', 256);
    const intermediate = numberOption(values, 'intermediate', { min: 1, integer: true });
    const tty = io.stderr.isTTY === true && !values.json;
    const device = stringOption(values, 'device') ?? 'cpu';
    const dtype = await resolvedDtypeOption(values, device, 'auto', io);
    const summary = await pretrain({
      corpus: requiredOption(values, 'corpus')
        .split(',')
        .map((s) => s.trim()),
      tokenizer: requiredOption(values, 'tokenizer'),
      out: requiredOption(values, 'out'),
      ...(init
        ? { init }
        : { architecture: { layers: int('layers', 4), hidden, heads: int('heads', 4), ...(intermediate ? { intermediate } : {}) } }),
      steps,
      batchSize: int('batch-size', 32),
      maxLength: int('max-length', 128, 8),
      lr: numberOption(values, 'lr', { min: 0 }) ?? 5e-4,
      maskRate: numberOption(values, 'mask-rate', { min: 0.01, max: 0.95 }) ?? 0.15,
      objective,
      ...(generatorSize !== undefined ? { generatorSize } : {}),
      ...(rtdWeight !== undefined ? { rtdWeight } : {}),
      ...(values.dropout !== undefined ? { dropout: numberOption(values, 'dropout', { min: 0, max: 0.9 }) as number } : {}),
      warmupSteps: numberOption(values, 'warmup', { min: 0, integer: true }) ?? Math.round(0.06 * steps),
      evalEvery: int('eval-every', 200),
      checkpointEvery: int('checkpoint-every', 500),
      holdOut: numberOption(values, 'hold-out', { min: 0.001, max: 0.49 }) ?? 0.02,
      seed: numberOption(values, 'seed', { min: 0, integer: true }) ?? 0,
      device,
      dtype,
      saveDtype: saveDtype as 'float32',
      signal,
      command: `healbert pretrain ${process.argv.slice(3).join(' ')}`,
      onEvent: (e) => {
        if (values.json) io.stdout.write(`${JSON.stringify(e)}\n`);
        else if (tty && e.type === 'step') io.stderr.write(`\r${describe(e)}   `);
        else io.stderr.write(`${tty ? '\n' : ''}${describe(e)}\n`);
      },
    });
    if (!values.json) {
      const d = summary.finalEval.discriminator;
      io.stdout.write(
        `pre-trained ${summary.steps} steps on ${summary.tokensSeen} tokens in ${summary.seconds.toFixed(0)} s; held-out ${d ? "generator's " : ''}MLM loss ${summary.finalEval.loss.toFixed(4)}, accuracy ${(100 * summary.finalEval.accuracy).toFixed(2)}%${d ? `; discriminator accuracy ${(100 * d.accuracy).toFixed(2)}%, AUC ${d.auc.toFixed(4)}; generator in ${summary.generator}` : ''}\n`,
      );
    }
    return 0;
  },
};
