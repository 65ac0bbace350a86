/**
 * The report as one self-contained HTML page: inline CSS, figures as inline SVG, every figure's data as a
 * table and as a CSV download (a data: URL), the definitions, and no scripts, fonts or links that need
 * a network.
 */
import type { Analysis } from '../analysis/analyze.js';
import { healbertVersion } from '../version.js';
import type { figureSet } from './figures.js';
import type { RenderedFigure } from './render.js';
import { MAX_PAGE_ROWS, pageRows } from './scale.js';
import { htmlEscape, type Table, toCsv, toHtmlTable } from './table.js';

const STYLE = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; font-size: 14px; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; } h3 { font-size: 1.05em; }
.meta { color: #555; } .meta code { background: #f4f4f4; padding: 0 .3em; }
.warnings { background: #fff6e0; border: 1px solid #e8c060; padding: .5em 1em; border-radius: 4px; }
figure { margin: 1.5em 0; padding: 1em; border: 1px solid #e4e4e4; border-radius: 4px; overflow-x: auto; }
figure svg { display: block; max-width: none; }
figcaption { color: #444; margin: .5em 0; max-width: 900px; }
details { margin: .5em 0; } summary { cursor: pointer; color: #225; }
table { border-collapse: collapse; font-size: 12px; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; position: sticky; top: 0; }
tr.status-diverged td, tr.status-failed td { background: #fde8e8; } tr.status-running td, tr.status-pending td { background: #eef3fb; color: #555; }
.scroll { max-height: 420px; overflow: auto; }
.cut { color: #555; font-style: italic; }
dl dt { font-weight: bold; margin-top: .6em; } dl dd { margin-left: 1.5em; }
nav ul { columns: 2; }
`;

const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * A table's rows behind a disclosure, with its CSV: inline (a data: URL) when it is small; else its first
 * MAX_PAGE_ROWS rows and a link to the CSV file the report wrote beside the page (`path`), so that a page
 * of 100,000 cells stays a few megabytes.
 */
function dataBlock(table: Table, path: string): string {
  const n = table.rows.length;
  if (n <= MAX_PAGE_ROWS)
    return `<details><summary>Data (${n} rows) &middot; <a download="${htmlEscape(path.split('/').at(-1) as string)}" href="data:text/csv;base64,${base64(toCsv(table))}">CSV</a></summary><div class="scroll">${toHtmlTable(table)}</div></details>`;
  const shown = { ...table, rows: pageRows(table.rows) };
  return `<details><summary>Data (${n} rows; ${MAX_PAGE_ROWS} here, unfinished cells first) &middot; <a href="${htmlEscape(path)}">${htmlEscape(path)}</a></summary><p class="cut">All ${n} rows: <a href="${htmlEscape(path)}">${htmlEscape(path)}</a> and analysis.json, beside this page.</p><div class="scroll">${toHtmlTable(shown)}</div></details>`;
}

export function renderHtml(
  analysis: Analysis,
  figures: readonly RenderedFigure[],
  tables: readonly Table[],
  omitted: ReturnType<typeof figureSet>['omitted'] = [],
): string {
  const a = analysis;
  const title = `healbert report: ${a.name}`;
  const parts: string[] = [];
  parts.push(`<h1>${htmlEscape(title)}</h1>`);
  const depths = a.depths.map((d) => `${htmlEscape(d.model)}: ${d.layers ?? '?'} layers (${d.source})`).join('; ');
  parts.push(
    `<p class="meta">Results read from <code>${htmlEscape(a.dir)}/${a.source === 'index.jsonl' ? 'index.jsonl' : 'cells/*/result.json'}</code>; ${a.cells.length} cells: ${a.counts.done} done, ${a.counts.diverged} diverged, ${a.counts.failed} failed, ${a.counts.running} running, ${a.counts.pending} not started. ${depths}. Intervals: ${Math.round(a.options.level * 100)}% percentile bootstrap over seeds, ${a.options.resamples} resamples, seed ${a.options.seed}. healbert ${healbertVersion}.</p>`,
  );
  if (a.warnings.length)
    parts.push(
      `<div class="warnings" id="warnings"><strong>Read before the numbers:</strong><ul>${a.warnings.map((w) => `<li>${htmlEscape(w)}</li>`).join('')}</ul></div>`,
    );
  parts.push(
    `<nav><h2>Figures</h2><ul>${figures.map((f) => `<li><a href="#fig-${f.figure.id}">${htmlEscape(f.figure.title)}</a></li>`).join('')}</ul></nav>`,
  );
  for (const o of omitted)
    parts.push(
      `<p class="cut">${o.shown} of ${o.total} ${htmlEscape(o.kind)} figures shown (one per method context, those with the most data); the data of all are in <a href="csv/${o.table}.csv">csv/${o.table}.csv</a> and analysis.json.</p>`,
    );
  if (figures.length === 0) parts.push('<p class="empty">No figure: the sweep has no finished cells to plot yet.</p>');
  else if (a.counts.done === 0)
    parts.push('<p class="empty">No cell has finished yet: the figures show only what is planned and what is excluded.</p>');
  for (const { figure, svg } of figures) {
    parts.push(
      `<figure id="fig-${figure.id}" data-kind="${figure.kind}"><h3>${htmlEscape(figure.title)}</h3>${svg}<figcaption>${htmlEscape(figure.caption)}</figcaption>${dataBlock(figure.data, `csv/figures/${figure.id}.csv`)}</figure>`,
    );
  }
  parts.push('<h2 id="tables">Tables</h2>');
  for (const table of tables)
    parts.push(`<section id="section-${table.id}"><h3>${htmlEscape(table.title)}</h3>${dataBlock(table, `csv/${table.id}.csv`)}</section>`);
  parts.push(
    `<h2 id="definitions">Definitions</h2><dl>${Object.entries(a.definitions)
      .map(([k, v]) => `<dt>${htmlEscape(k)}</dt><dd>${htmlEscape(v)}</dd>`)
      .join('')}</dl>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="healbert ${healbertVersion}">
<title>${htmlEscape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${parts.join('\n')}
</body>
</html>
`;
}
