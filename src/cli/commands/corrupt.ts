import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CorruptionReport, corrupt } from '../../corruption/corrupt.js';
import type { CorruptionSpec, TargetSpec } from '../../corruption/spec.js';
import { HealbertError } from '../../errors.js';
import { readRawConfig } from '../../model/config.js';
import { Model } from '../../model/model.js';
import { type Command, type CommandContext, numberOption, selectorOption, stringOption, UsageError } from '../command.js';

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** The spec from --spec, or from the flags. */
async function specFrom(values: CommandContext['values']): Promise<unknown> {
  const file = stringOption(values, 'spec');
  if (file) {
    for (const flag of [
      'method',
      'layers',
      'heads',
      'neurons',
      'components',
      'kinds',
      'include',
      'names',
      'fraction',
      'sigma',
      'level',
      'init',
      'bits',
    ]) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} cannot be combined with --spec (put it in the spec file)`);
    }
    try {
      return JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new HealbertError('ERR_CONFIG', `${file}: ${(error as Error).message}`);
    }
  }
  const method = stringOption(values, 'method');
  if (!method) throw new UsageError('--method (or --spec) is required');
  const targets: TargetSpec = {};
  for (const key of ['layers', 'heads', 'neurons'] as const) {
    const selector = selectorOption(stringOption(values, key));
    if (selector !== undefined) targets[key] = selector;
  }
  Object.assign(targets, {
    ...(list(stringOption(values, 'components')) ? { components: list(stringOption(values, 'components')) as string[] } : {}),
    ...(stringOption(values, 'kinds') ? { kinds: stringOption(values, 'kinds') as TargetSpec['kinds'] & string } : {}),
    ...(list(stringOption(values, 'include')) ? { include: list(stringOption(values, 'include')) as string[] } : {}),
    ...(list(stringOption(values, 'names')) ? { names: list(stringOption(values, 'names')) as string[] } : {}),
  });
  const level = numberOption(values, 'sigma') ?? numberOption(values, 'level');
  const fraction = numberOption(values, 'fraction');
  const spec: Record<string, unknown> = { method, targets };
  if (level !== undefined) spec.level = level;
  if (fraction !== undefined) spec.fraction = fraction;
  if (values.relative) spec.relative = true;
  for (const key of ['init', 'bits', 'snapshot'] as const) {
    const v = stringOption(values, key);
    if (v !== undefined) spec[key] = v;
  }
  return spec as unknown as CorruptionSpec;
}

const num = (x: number | null, digits = 4) => (x === null ? 'n/a' : x.toPrecision(digits));

export function formatCorruptionReport(r: CorruptionReport): string {
  const lines = [
    `${r.spec.method}${r.spec.level ? ` (level ${r.spec.level})` : ''} on ${r.tensors.length} tensors, seed ${r.seed}, ${r.milliseconds.toFixed(1)} ms on ${r.device}`,
  ];
  const rows: [string, CorruptionReport['total']][] = [
    ...r.groups.map((g): [string, CorruptionReport['total']] => [g.group, g]),
    ['total', r.total],
  ];
  if (r.heads) {
    lines.push(`  changed entries per head (layer x head):`);
    const layers = [...new Set(r.heads.map((h) => h.layer))];
    const heads = [...new Set(r.heads.map((h) => h.head))].sort((a, b) => a - b);
    lines.push(`  ${'layer'.padEnd(7)}${heads.map((h) => `h${h}`.padStart(9)).join('')}`);
    for (const l of layers) {
      const cell = (h: number) => String(r.heads?.find((x) => x.layer === l && x.head === h)?.changed ?? '-');
      lines.push(`  ${String(l).padEnd(7)}${heads.map((h) => cell(h).padStart(9)).join('')}`);
    }
  }
  lines.push(
    `  ${'group'.padEnd(12)} ${'entries'.padStart(10)} ${'changed'.padStart(10)} ${'|W| before'.padStart(11)} ${'|change|'.padStart(11)} ${'relative'.padStart(9)}`,
  );
  for (const [name, g] of rows) {
    lines.push(
      `  ${String(name).padEnd(12)} ${String(g.numel).padStart(10)} ${String(g.changed ?? 'n/a').padStart(10)} ${num(g.normBefore).padStart(11)} ${num(g.normChange).padStart(11)} ${num(g.relativeChange, 3).padStart(9)}`,
    );
  }
  if ((r.total.nonFinite ?? 0) > 0) lines.push(`  warning: ${r.total.nonFinite} entries are now NaN or infinite`);
  if (r.total.bitsFlipped > 0) lines.push(`  bits flipped: ${r.total.bitsFlipped}`);
  for (const note of r.notes ?? []) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}

export const corruptCommand: Command = {
  name: 'corrupt',
  summary: 'Corrupt chosen parameters of a model and write the corrupted model plus a report of what changed.',
  args: '<model-dir>',
  positionals: { min: 1, max: 1 },
  description:
    'Methods: reinit, gaussian, zero, uniform, scale, sign-flip, bit-flip (revert needs a snapshot: library only).\n' +
    'Layers: all, none, 3, 2-5, bottom:3, top:2, bottom:0.25 (a share of the depth), or a comma-separated list.\n' +
    'Heads and neurons take the same selectors: --heads 3 corrupts head 3 (its rows of query, key and value, its\n' +
    'columns of the attention output weight) in every selected layer (default all); --neurons 0-99 rows of the\n' +
    'FFN intermediate weight and the matching columns of the FFN output weight. Output biases stay.\n' +
    'Components: attention, attention.query|key|value|qkv|pos_key|pos_query|position|output, attention.layernorm, ffn,\n' +
    'ffn.intermediate, ffn.output, ffn.layernorm, layernorm (ModernBERT: attention.qkv is its fused Wqkv, a head three\n' +
    'row runs of it; a GLU neuron is its input and gate rows). Include: embeddings[.word|.position|.token_type|\n' +
    '.layernorm|.projection], rel_embeddings, encoder.layernorm (DeBERTa, ModernBERT), pooler, classifier.\n' +
    'ALBERT shares tensors between layers: a layer selection must take every layer of a shared group, or\n' +
    '--untie-layers gives each layer its own copy first (the saved folder then has one group per layer).',
  options: {
    spec: { type: 'string', valueName: 'file.json', description: 'a corruption spec (instead of the flags below)' },
    method: { type: 'string', valueName: 'name', description: 'corruption method' },
    layers: { type: 'string', valueName: 'sel', description: 'encoder layers to corrupt' },
    heads: { type: 'string', valueName: 'sel', description: 'attention heads of those layers (slices)' },
    neurons: { type: 'string', valueName: 'sel', description: 'FFN neurons of those layers (slices)' },
    components: { type: 'string', valueName: 'list', description: 'components within the layers', defaultText: 'all' },
    kinds: { type: 'string', valueName: 'k', description: 'all, weights or biases', defaultText: 'all' },
    include: { type: 'string', valueName: 'list', description: 'parts outside the layers' },
    names: { type: 'string', valueName: 'globs', description: 'parameter-name globs, comma-separated' },
    sigma: { type: 'string', valueName: 's', description: 'gaussian sigma (alias of --level)' },
    level: { type: 'string', valueName: 'x', description: 'sigma, lambda (uniform), factor (scale) or rate (bit-flip)' },
    relative: { type: 'boolean', description: 'gaussian: sigma relative to each tensor std' },
    fraction: { type: 'string', valueName: 'p', description: 'share of entries corrupted in each tensor', defaultText: '1' },
    init: {
      type: 'string',
      valueName: 'v',
      description: 'reinit: kaiming-sqrt5, kaiming-0 or bert (N(0, initializer_range); also bert-normal)',
      defaultText: 'kaiming-sqrt5',
    },
    bits: { type: 'string', valueName: 'b', description: 'bit-flip: any or exponent', defaultText: 'any' },
    seed: { type: 'string', valueName: 'n', description: 'random seed (required)', required: true },
    out: { type: 'string', valueName: 'dir', description: 'where to write the corrupted model (required)', required: true },
    device: { type: 'string', valueName: 'device', description: "'cpu', 'cuda' or 'cuda:<n>'", defaultText: 'cpu' },
    'save-dtype': { type: 'string', valueName: 'dtype', description: 'float32, float16 or bfloat16 on disk', defaultText: 'float32' },
    'untie-layers': { type: 'boolean', description: 'ALBERT: a copy of its shared group for every layer, before corrupting' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  examples: [
    'healbert corrupt ./bert --method reinit --layers bottom:3 --seed 1 --out ./bert-reinit-bottom3',
    'healbert corrupt ./bert --method gaussian --sigma 0.05 --relative --layers all --fraction 0.5 --seed 7 --out ./noisy',
    'healbert corrupt ./bert --method zero --layers 3 --heads 5,7 --seed 1 --out ./bert-no-heads',
    'healbert corrupt ./bert --spec spec.json --seed 1 --out ./corrupted',
  ],
  async run({ positionals, values, io }) {
    const seed = numberOption(values, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
    const out = stringOption(values, 'out');
    if (seed === undefined) throw new UsageError('--seed is required (corruption is always seeded)');
    if (!out) throw new UsageError('--out is required');
    const saveDtype = stringOption(values, 'save-dtype') ?? 'float32';
    if (!['float32', 'float16', 'bfloat16'].includes(saveDtype))
      throw new UsageError(`--save-dtype must be float32, float16 or bfloat16, got '${saveDtype}'`);
    const spec = await specFrom(values);
    const dir = positionals[0] as string;
    // A masked-LM checkpoint (BERT's pre-trained form) stays one: its MLM head is loaded, kept and saved,
    // and the folder says BertForMaskedLM as the source did.
    const raw = await readRawConfig(dir);
    const maskedLm =
      raw.model_type === 'bert' && Array.isArray(raw.architectures) && raw.architectures.some((a) => /ForMaskedLM$/.test(String(a)));
    const model = await Model.load(dir, {
      device: stringOption(values, 'device') ?? 'cpu',
      mlmHead: maskedLm,
      ...(values['untie-layers'] ? { untieLayers: true } : {}),
    });
    try {
      const report = await corrupt(model, spec, { seed });
      await model.save(out, { dtype: saveDtype as 'float32', ...(maskedLm ? { architecture: 'BertForMaskedLM' } : {}) });
      const record = { model: dir, out, ...report };
      await writeFile(join(out, 'corruption-report.json'), `${JSON.stringify(record, null, 2)}\n`);
      io.stdout.write(
        values.json
          ? `${JSON.stringify(record, null, 2)}\n`
          : `${formatCorruptionReport(report)}wrote ${out} (model and corruption-report.json)\n`,
      );
      return 0;
    } finally {
      model.dispose();
    }
  },
};
