import { HealbertError, isHealbertError } from '../../errors.js';
import { formatScanTable } from '../../scan/format.js';
import { loadScanModel } from '../../scan/load.js';
import { scan } from '../../scan/scan.js';
import { SCAN_COMPONENTS, SCAN_EACH } from '../../scan/targets.js';
import type { ScanEach, ScanEvent, ScanOptions } from '../../scan/types.js';
import { type CliIO, type Command, numberOption, requiredOption, selectorOption, stringOption, UsageError } from '../command.js';
import { dtypeOption, dtypeOptionSpec, resolvedDtypeOption } from '../dtype-option.js';

/** The library names options scan.<key>; on the command line they are flags. */
const FLAGS: Record<string, string> = {
  task: '--task',
  data: '--data',
  method: '--method',
  level: '--level',
  relative: '--relative',
  init: '--init',
  fraction: '--fraction',
  bits: '--bits',
  each: '--each',
  layers: '--layers',
  components: '--components',
  kinds: '--kinds',
  heads: '--heads',
  neuronGroups: '--neuron-groups',
  seeds: '--seeds',
  split: '--split',
  rows: '--rows',
  trainRows: '--train-rows',
  evaluation: '--eval',
  batchSize: '--batch-size',
  maxLength: '--max-length',
  tokenizer: '<model-dir>',
  out: '--out',
};

function withFlag(error: unknown): unknown {
  if (!isHealbertError(error)) return error;
  // (a device that is not there: the model load says so, without the flag)
  if (error.code === 'ERR_DEVICE' && !error.message.startsWith('--device'))
    return new HealbertError(error.code, `--device: ${error.message}`, { cause: error });
  const m = /^scan\.([A-Za-z]+)(\[\d+\])?:/.exec(error.message);
  const flag = m ? FLAGS[m[1] as string] : undefined;
  if (!m || !flag) return error;
  const entry = m[2] ? ` (entry ${Number(m[2].slice(1, -1)) + 1})` : '';
  return new HealbertError(error.code, `${flag}${entry}:${error.message.slice(m[0].length)}`, { cause: error });
}

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function seedsOption(text: string | undefined): number[] | undefined {
  const parts = list(text);
  if (text === undefined || !parts) return undefined;
  if (parts.length === 0) throw new UsageError(`--seeds must list integers, e.g. 0,1,2; got '${text}'`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--seeds must list integers >= 0, e.g. 0,1,2; got '${p}' in '${text}'`);
    return Number(p);
  });
}

function progress(io: CliIO, events: { json: boolean }) {
  const clock = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);
  return (e: ScanEvent) => {
    if (events.json) {
      io.stderr.write(`${JSON.stringify(e)}\n`);
      return;
    }
    switch (e.type) {
      case 'scan-start':
        io.stderr.write(
          `scan: ${e.targets} targets, ${e.runs} runs (seed${e.seeds.length === 1 ? '' : 's'} ${e.seeds.join(', ')})` +
            `${e.done ? ` (${e.done} done before, resuming)` : ''}; ${e.evaluation === 'head' ? 'task head' : 'linear probe'}, ${e.metric} on ${e.examples} rows\n`,
        );
        for (const note of e.notes) io.stderr.write(`note: ${note}\n`);
        break;
      case 'clean':
        io.stderr.write(`clean: ${e.score.toFixed(4)}${e.resumed ? ' (from the output folder)' : ` (${clock(e.seconds)})`}\n`);
        break;
      case 'run':
        io.stderr.write(
          `[${String(e.index).padStart(String(e.total).length)}/${e.total}] ${e.target} seed ${e.seed}: ${Number.isFinite(e.score) ? e.score.toFixed(4) : 'NaN'} (${clock(e.seconds)}, eta ${clock(e.etaSeconds)})\n`,
        );
        break;
      default:
        break;
    }
  };
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Layer-sensitivity scan: corrupt one layer or component at a time, score the model, restore it, move on.',
  args: '<model-dir>',
  positionals: { min: 1, max: 1 },
  description:
    'For each target and each seed: corrupt the target in place, score the model on the evaluation rows, restore the\n' +
    'target bitwise from an in-memory snapshot of the clean weights, move on. The clean model is scored first.\n' +
    '  --each layer            one encoder layer (all its --components, default all of it) per target\n' +
    '  --each component        one component in all the --layers per target\n' +
    '  --each layer.component  one component of one layer per target\n' +
    '  --each head             one attention head of one layer per target (its query, key and value rows and its\n' +
    '                          output columns), over the --layers and --heads; scan.svg is a layer x head heatmap\n' +
    '  --each neuron           one group of consecutive FFN neurons of one layer per target (--neuron-groups)\n' +
    `Components: ${SCAN_COMPONENTS.slice(0, 5).join(', ')},\n` +
    `  ${SCAN_COMPONENTS.slice(5).join(', ')} (the default list), or the coarser attention, ffn, layernorm.\n` +
    'Scoring: a model whose checkpoint has a task head for --task is scored with it; a pre-trained model without one\n' +
    'by a linear probe on its first-token features, trained on the first --train-rows rows of the train split (as\n' +
    'sweeps measure damage). Seed s corrupts with the seed a sweep cell of seed s uses, so the noise is the same.\n' +
    'zero, sign-flip and scale (without --fraction) draw no random numbers, and neither does reinit of LayerNorms\n' +
    'and biases alone: those run one seed (the table says so, with no interval).\n' +
    'Prints the table (mean over seeds, 95% t-interval, drop = clean - mean, seconds per target), progress on stderr.\n' +
    'Writes --out/scan.json after every run; a rerun with the same --out and options resumes where it stopped, and\n' +
    'one with other options (or another healbert corruption stream) is refused, naming what differs. scan.csv and\n' +
    'scan.svg (score per target with intervals, the clean score as a dashed line) are written at the end.',
  options: {
    task: { type: 'string', valueName: 'name', description: 'task, e.g. sst2 (required)' },
    data: { type: 'string', valueName: 'dir', description: 'data root, e.g. a GLUE folder (required)' },
    method: { type: 'string', valueName: 'name', description: 'reinit, gaussian, uniform, zero, scale, sign-flip, bit-flip (required)' },
    each: { type: 'string', valueName: 'kind', description: `what one target is: ${SCAN_EACH.join(', ')} (required)` },
    seeds: {
      type: 'string',
      valueName: 'list',
      description: 'corruption seeds, comma-separated (one runs where none is drawn)',
      defaultText: '0,1,2',
    },
    level: { type: 'string', valueName: 'x', description: 'sigma, lambda (uniform), factor (scale) or rate (bit-flip)' },
    sigma: { type: 'string', valueName: 's', description: 'gaussian sigma (alias of --level)' },
    relative: { type: 'boolean', description: 'gaussian: sigma relative to each tensor std' },
    fraction: { type: 'string', valueName: 'p', description: 'share of entries corrupted in each tensor', defaultText: '1' },
    init: {
      type: 'string',
      valueName: 'v',
      description: 'reinit: kaiming-sqrt5, kaiming-0 or bert (N(0, initializer_range); also bert-normal)',
      defaultText: 'kaiming-sqrt5',
    },
    bits: { type: 'string', valueName: 'b', description: 'bit-flip: any or exponent', defaultText: 'any' },
    layers: { type: 'string', valueName: 'sel', description: 'layers scanned: all, 2-5, bottom:3, or a list', defaultText: 'all' },
    components: { type: 'string', valueName: 'list', description: 'components scanned (or, for --each layer, corrupted in each layer)' },
    heads: { type: 'string', valueName: 'sel', description: '--each head: heads scanned in each layer', defaultText: 'all' },
    'neuron-groups': { type: 'string', valueName: 'n', description: '--each neuron: groups of FFN neurons per layer', defaultText: '8' },
    kinds: { type: 'string', valueName: 'k', description: 'all, weights or biases', defaultText: 'all' },
    split: { type: 'string', valueName: 'name', description: 'evaluation split', defaultText: 'dev' },
    rows: { type: 'string', valueName: 'n', description: 'score on the first n rows of the split', defaultText: 'all' },
    'train-rows': { type: 'string', valueName: 'n', description: 'linear probe: first n rows of the train split', defaultText: '1000' },
    eval: { type: 'string', valueName: 'how', description: 'auto, head or probe', defaultText: 'auto' },
    'batch-size': { type: 'string', valueName: 'n', description: 'examples per forward pass', defaultText: '64' },
    'max-length': { type: 'string', valueName: 'n', description: 'tokens per example', defaultText: '128' },
    out: { type: 'string', valueName: 'dir', description: 'results folder: scan.json, scan.csv, scan.svg (required)' },
    device: { type: 'string', valueName: 'device', description: "'cpu', 'cuda' or 'cuda:<n>'", defaultText: 'cpu' },
    dtype: dtypeOptionSpec('float32'),
    'untie-layers': { type: 'boolean', description: 'ALBERT: a copy of its shared group for every layer, so layers scan alone' },
    json: { type: 'boolean', description: 'print the result as JSON; progress events as JSON lines on stderr' },
  },
  examples: [
    'healbert scan ./bert-sst2 --task sst2 --data ./glue --method reinit --each layer --out ./scan-reinit',
    'healbert scan ./bert-sst2 --task sst2 --data ./glue --method gaussian --sigma 0.5 --relative --each component --seeds 0,1,2,3,4 --out ./scan-noise',
    'healbert scan ./bert-base-uncased --task sst2 --data ./glue --method zero --each layer.component --layers top:4 --rows 500 --out ./scan-zero',
    'healbert scan ./bert-sst2 --task sst2 --data ./glue --method zero --each head --layers top:3 --out ./scan-heads',
    'healbert scan ./bert-sst2 --task sst2 --data ./glue --method reinit --each neuron --neuron-groups 8 --out ./scan-neurons',
  ],
  async run({ positionals, values, io, signal }) {
    const each = requiredOption(values, 'each');
    if (!SCAN_EACH.includes(each as ScanEach)) throw new UsageError(`--each must be one of ${SCAN_EACH.join(', ')}, got '${each}'`);
    const method = requiredOption(values, 'method');
    if (values.sigma !== undefined && values.level !== undefined) throw new UsageError('--sigma and --level are the same option; give one');
    const evaluation = stringOption(values, 'eval') ?? 'auto';
    if (!['auto', 'head', 'probe'].includes(evaluation)) throw new UsageError(`--eval must be auto, head or probe, got '${evaluation}'`);
    dtypeOption(values, 'float32'); // a bad --dtype fails before any other work
    const layers = list(stringOption(values, 'layers'))?.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const level = numberOption(values, 'sigma') ?? numberOption(values, 'level');
    const fraction = numberOption(values, 'fraction');
    const rows = numberOption(values, 'rows', { min: 1, integer: true });
    const trainRows = numberOption(values, 'train-rows', { min: 2, integer: true });
    const batchSize = numberOption(values, 'batch-size', { min: 1, integer: true });
    const maxLength = numberOption(values, 'max-length', { min: 8, integer: true });
    const seeds = seedsOption(stringOption(values, 'seeds'));
    const kinds = stringOption(values, 'kinds');
    if (kinds !== undefined && !['all', 'weights', 'biases'].includes(kinds))
      throw new UsageError(`--kinds must be all, weights or biases, got '${kinds}'`);
    const components = list(stringOption(values, 'components'));
    const heads = selectorOption(stringOption(values, 'heads'));
    const neuronGroups = numberOption(values, 'neuron-groups', { min: 1, integer: true });
    const options: ScanOptions = {
      task: requiredOption(values, 'task'),
      data: requiredOption(values, 'data'),
      method: method as ScanOptions['method'],
      each: each as ScanEach,
      out: requiredOption(values, 'out'),
      ...(layers ? { layers: layers.length === 1 ? (layers[0] as number | string) : layers } : {}),
      ...(components ? { components } : {}),
      ...(kinds ? { kinds: kinds as 'all' } : {}),
      ...(heads !== undefined ? { heads } : {}),
      ...(neuronGroups !== undefined ? { neuronGroups } : {}),
      ...(seeds ? { seeds } : {}),
      ...(level !== undefined ? { level } : {}),
      ...(fraction !== undefined ? { fraction } : {}),
      ...(values.relative ? { relative: true } : {}),
      ...(stringOption(values, 'init') ? { init: stringOption(values, 'init') as 'kaiming-0' } : {}),
      ...(stringOption(values, 'bits') ? { bits: stringOption(values, 'bits') as 'any' } : {}),
      ...(stringOption(values, 'split') ? { split: stringOption(values, 'split') as string } : {}),
      ...(rows !== undefined ? { rows } : {}),
      ...(trainRows !== undefined ? { trainRows } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(maxLength !== undefined ? { maxLength } : {}),
      signal,
      onEvent: progress(io, { json: values.json === true }),
    };
    const dir = positionals[0] as string;
    const device = stringOption(values, 'device') ?? 'cpu';
    try {
      const { model, evaluation: resolved } = await loadScanModel(dir, {
        task: options.task,
        evaluation: evaluation as 'auto',
        device,
        dtype: await resolvedDtypeOption(values, device, 'float32', io),
        ...(values['untie-layers'] ? { untieLayers: true } : {}),
      });
      try {
        const result = await scan(model, { ...options, evaluation: resolved });
        io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatScanTable(result));
        if (!values.json && result.files) io.stdout.write(`wrote ${result.files.json}, ${result.files.csv}, ${result.files.svg}\n`);
        return 0;
      } finally {
        model.dispose();
      }
    } catch (error) {
      throw withFlag(error);
    }
  },
};
