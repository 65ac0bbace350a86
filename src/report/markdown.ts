/** The report as Markdown: warnings, each figure (an SVG file beside it) with its caption and data, every table, the definitions. */
import type { Analysis } from '../analysis/analyze.js';
import { healbertVersion } from '../version.js';
import type { RenderedFigure } from './render.js';
import { type Table, toMarkdown } from './table.js';

export function renderMarkdown(
  a: Analysis,
  figures: readonly RenderedFigure[],
  tables: readonly Table[],
  options: { figureDir?: string | null } = {},
): string {
  const out: string[] = [`# healbert report: ${a.name}`, ''];
  out.push(
    `Results read from \`${a.dir}/${a.source === 'index.jsonl' ? 'index.jsonl' : 'cells/*/result.json'}\`; ${a.cells.length} cells: ${a.counts.done} done, ${a.counts.diverged} diverged, ${a.counts.failed} failed, ${a.counts.running} running, ${a.counts.pending} not started. Intervals: ${Math.round(a.options.level * 100)}% percentile bootstrap over seeds (${a.options.resamples} resamples, seed ${a.options.seed}). healbert ${healbertVersion}.`,
    '',
  );
  if (a.warnings.length) out.push('**Read before the numbers:**', '', ...a.warnings.map((w) => `- ${w}`), '');
  out.push('## Figures', '');
  for (const { figure } of figures) {
    out.push(`### ${figure.title}`, '');
    if (options.figureDir !== null) out.push(`![${figure.title}](${options.figureDir ?? 'figures'}/${figure.id}.svg)`, '');
    out.push(figure.caption, '');
    if (options.figureDir !== null) out.push(`Data: \`csv/figures/${figure.id}.csv\``, '');
    out.push(toMarkdown(figure.data, { heading: false }));
  }
  out.push('## Tables', '');
  for (const table of tables) out.push(toMarkdown(table));
  out.push('## Definitions', '', ...Object.entries(a.definitions).map(([k, v]) => `- **${k}**: ${v}`), '');
  return out.join('\n');
}
