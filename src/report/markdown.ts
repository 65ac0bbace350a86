/** The report as Markdown: warnings, each figure (an SVG file beside it) with its caption and data, every table, the definitions. */
import type { Analysis } from '../analysis/analyze.js';
import { healbertVersion } from '../version.js';
import type { figureSet } from './figures.js';
import type { RenderedFigure } from './render.js';
import { MAX_PAGE_ROWS, pageRows } from './scale.js';
import { type Table, toMarkdown } from './table.js';

/** MAX_PAGE_ROWS rows of a table (pageRows), and where all are (the CSV the report wrote). */
function capped(table: Table, path: string | null): string {
  if (table.rows.length <= MAX_PAGE_ROWS) return toMarkdown(table, { heading: false });
  const where = path ? `\`${path}\` and analysis.json` : 'the CSV and JSON outputs (`--format csv`, `--format json`)';
  return `${toMarkdown({ ...table, rows: pageRows(table.rows) }, { heading: false })}\n_${MAX_PAGE_ROWS} of ${table.rows.length} rows (unfinished cells first); all in ${where}._\n`;
}

export function renderMarkdown(
  a: Analysis,
  figures: readonly RenderedFigure[],
  tables: readonly Table[],
  options: { figureDir?: string | null; omitted?: ReturnType<typeof figureSet>['omitted'] } = {},
): string {
  const out: string[] = [`# healbert report: ${a.name}`, ''];
  out.push(
    `Results read from \`${a.dir}/${a.source === 'index.jsonl' ? 'index.jsonl' : 'cells/*/result.json'}\`; ${a.cells.length} cells: ${a.counts.done} done, ${a.counts.diverged} diverged, ${a.counts.failed} failed, ${a.counts.running} running, ${a.counts.pending} not started. Intervals: ${Math.round(a.options.level * 100)}% percentile bootstrap over seeds (${a.options.resamples} resamples, seed ${a.options.seed}). healbert ${healbertVersion}.`,
    '',
  );
  if (a.warnings.length) out.push('**Read before the numbers:**', '', ...a.warnings.map((w) => `- ${w}`), '');
  out.push('## Figures', '');
  for (const o of options.omitted ?? [])
    out.push(
      `_${o.shown} of ${o.total} ${o.kind} figures shown (one per method context, those with the most data); the data of all are in csv/${o.table}.csv and analysis.json._`,
      '',
    );
  for (const { figure } of figures) {
    out.push(`### ${figure.title}`, '');
    if (options.figureDir !== null) out.push(`![${figure.title}](${options.figureDir ?? 'figures'}/${figure.id}.svg)`, '');
    out.push(figure.caption, '');
    if (options.figureDir !== null) out.push(`Data: \`csv/figures/${figure.id}.csv\``, '');
    out.push(capped(figure.data, options.figureDir !== null ? `csv/figures/${figure.id}.csv` : null));
  }
  out.push('## Tables', '');
  for (const table of tables) out.push(`### ${table.title}`, '', capped(table, options.figureDir !== null ? `csv/${table.id}.csv` : null));
  out.push('## Definitions', '', ...Object.entries(a.definitions).map(([k, v]) => `- **${k}**: ${v}`), '');
  return out.join('\n');
}
