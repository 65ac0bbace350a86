import { inspectModel, type ModelSummary } from '../../model/inspect.js';
import type { Command } from '../command.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The structure where it is not BERT's: attention kind, norms, FFN, pooling (absent for BERT-like models). */
function structureLine(c: ModelSummary['config']): string | undefined {
  const parts: string[] = [];
  if (c.relative) {
    const r = c.relative;
    const terms = [r.c2p ? 'c2p' : '', r.p2c ? 'p2c' : ''].filter(Boolean).join('+');
    parts.push(
      `disentangled attention (${terms}${r.shareKeys ? ', shared key/query projections' : ''}, ${
        r.buckets > 0 ? `${r.buckets} log buckets over ${r.maxRelative} positions` : `relative positions up to ${r.maxRelative}`
      })`,
    );
  }
  if (c.rotary) {
    const r = c.rotary;
    const local = r.localLayers.length;
    parts.push(
      `rotary attention (theta ${r.globalTheta} global${local ? `, ${r.localTheta} in the ${local} sliding-window layers, |i - j| <= ${r.window}` : ''})`,
    );
  }
  if (c.structure.norm === 'pre') parts.push('pre-norm with a final norm');
  if (c.structure.ffn === 'glu') parts.push(`GLU FFN (${c.activation})`);
  if (c.structure.pooling === 'mean') parts.push('mean pooling');
  return parts.length > 0 ? `  structure: ${parts.join('; ')}` : undefined;
}

export function formatSummary(s: ModelSummary): string {
  const c = s.config;
  const lines = [
    `${s.dir}`,
    `  ${s.modelType} (${c.arch}): ${c.numLayers} layers${c.sharedLayerGroups ? ` sharing ${c.sharedLayerGroups} group${c.sharedLayerGroups > 1 ? 's' : ''} of tensors` : ''}, hidden ${c.hiddenSize}${c.embeddingSize !== c.hiddenSize ? ` (embeddings ${c.embeddingSize})` : ''}, ${c.numHeads} heads, FFN ${c.intermediateSize}, vocabulary ${fmt(c.vocabSize)}, ${c.maxPositions} positions`,
    `  head: ${c.head === 'regression' ? 'regression (1 output)' : `classification, ${c.numLabels} labels`}; activation ${c.activation}; dropout ${c.hiddenDropout}/${c.attentionDropout}/${c.classifierDropout} (hidden/attention/classifier)`,
    ...(structureLine(c) ? [structureLine(c) as string] : []),
    `  parameters: ${fmt(s.totalParameters)}`,
    ...s.files.map((f) => `  weights: ${f.path} (${(f.bytes / 2 ** 20).toFixed(1)} MiB, ${f.dtypes.join(', ')})`),
    '',
  ];
  const components = [...new Set(s.groups.flatMap((g) => Object.keys(g.byComponent)))];
  const width = Math.max(...s.groups.map((g) => g.group.length), 5);
  lines.push(`  ${'group'.padEnd(width)}  ${'parameters'.padStart(12)}  components`);
  for (const g of s.groups) {
    const parts = components.filter((k) => g.byComponent[k] !== undefined).map((k) => `${k} ${fmt(g.byComponent[k] as number)}`);
    lines.push(`  ${g.group.padEnd(width)}  ${fmt(g.parameters).padStart(12)}  ${parts.join(', ')}`);
  }
  if (s.initialised.length) lines.push('', `  not in the checkpoint, initialised fresh when loaded: ${s.initialised.join(', ')}`);
  if (s.ignored.length)
    lines.push(
      `  in the checkpoint but unused by a classifier: ${s.ignored.length} tensors (${s.ignored.slice(0, 4).join(', ')}${s.ignored.length > 4 ? ', ...' : ''})`,
    );
  for (const note of s.notes) lines.push(`    (${note})`);
  if (s.unexpected.length) lines.push(`  unrecognised tensors (not loaded): ${s.unexpected.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show a model folder: architecture, parameter counts by layer and component, checkpoint contents.',
  args: '<model-dir>',
  positionals: { min: 1, max: 1 },
  options: {
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  examples: ['healbert inspect ./bert-base-uncased', 'healbert inspect ./my-model --json'],
  async run({ positionals, values, io }) {
    const summary = await inspectModel(positionals[0] as string);
    io.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    return 0;
  },
};
