import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type Analysis, analyze } from '../../src/analysis/analyze.js';
import { buildFigures } from '../../src/report/figures.js';
import { writeReport } from '../../src/report/render.js';
import { formatCell, type Table, toCsv, toMarkdown } from '../../src/report/table.js';
import { allTables } from '../../src/report/tables.js';
import { writeSyntheticSweep } from '../analysis/helpers/synthetic-sweep.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-report-'));
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let shared: Promise<{ dir: string; analysis: Analysis }> | undefined;
const sweep = () => {
  shared ??= (async () => {
    const dir = tempDir();
    writeSyntheticSweep(dir, { index: 40 });
    return { dir, analysis: await analyze(dir, { resamples: 300 }) };
  })();
  return shared;
};

test('tables: CSV keeps full precision and quotes what needs quoting; Markdown rounds and escapes pipes', (t) => {
  const table: Table = {
    id: 't',
    title: 'T',
    columns: [
      { key: 'name', title: 'name' },
      { key: 'x', title: 'x', kind: 'num' },
      { key: 'p', title: 'p', kind: 'p' },
    ],
    rows: [
      { name: 'a, "b"', x: 0.123456789, p: 0.00001234 },
      { name: 'c|d', x: null, p: 0.5 },
    ],
  };
  t.is(toCsv(table), 'name,x,p\r\n"a, ""b""",0.123456789,0.00001234\r\nc|d,,0.5\r\n');
  t.is(
    toMarkdown(table, { heading: false }),
    '| name | x | p |\n| --- | ---: | ---: |\n| a, "b" | 0.1235 | 1.2e-5 |\n| c\\|d |  | 0.50 |\n',
  );
  t.is(formatCell(true), 'yes');
  t.is(formatCell(123456789, 'num'), '1.235e+8');
  t.is(formatCell(7.6, 'int'), '8');
});

test('html writes a self-contained page, its Markdown, SVG figures, CSV for every figure and table, and the JSON', async (t) => {
  const { analysis } = await sweep();
  const out = tempDir();
  const written = await writeReport(analysis, out, 'html');
  const figures = buildFigures(analysis);
  t.true(figures.length >= 7);
  for (const f of figures) {
    t.true(existsSync(join(out, 'figures', `${f.id}.svg`)), f.id);
    t.true(existsSync(join(out, 'csv', 'figures', `${f.id}.csv`)), f.id);
  }
  t.true(readdirSync(join(out, 'csv')).includes('groups.csv'));
  t.true(written.includes(join(out, 'report.html')));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  // Self-contained: no scripts, stylesheets, images or fonts fetched from anywhere.
  t.notRegex(html, /<script|<link|<img|@import|url\(http/i);
  t.deepEqual([...new Set(html.match(/https?:\/\/[^"'\s)]+/g))].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
  t.is(html.match(/<figure /g)?.length, figures.length);
  // Ids inside the SVGs are unique across the page.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  t.is(new Set(ids).size, ids.length);
  // The diverged and running cells are on the page as such, and the definitions are printed.
  t.regex(html, /<tr class="status-diverged">/);
  t.regex(html, /<tr class="status-running">/);
  t.regex(html, /not finished: 1 cells in flight/);
  t.regex(html, /<dt>recovery ratio<\/dt>/);
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  t.regex(md, /!\[Residual gap by corrupted layers and level: gaussian relative\]\(figures\/heatmap-gaussian-relative\.svg\)/);
  t.regex(md, /\| reinit \| 1 \| 1 \| damage \|/);
  const json = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as Analysis;
  t.deepEqual(json.counts, analysis.counts);
  // A figure's CSV holds exactly the rows it plots.
  const heat = figures.find((f) => f.id === 'heatmap-reinit');
  const csv = readFileSync(join(out, 'csv', 'figures', 'heatmap-reinit.csv'), 'utf8')
    .trim()
    .split('\r\n');
  t.is(csv.length, 1 + (heat?.data.rows.length ?? 0));
});

test('md, json and csv write only their own files; the same seed writes the same bytes', async (t) => {
  const { analysis } = await sweep();
  const md = tempDir();
  await writeReport(analysis, md, 'md');
  t.deepEqual(readdirSync(md).sort(), ['figures', 'report.md']);
  const json = tempDir();
  await writeReport(analysis, json, 'json');
  t.deepEqual(readdirSync(json), ['analysis.json']);
  const csv = tempDir();
  await writeReport(analysis, csv, 'csv');
  t.deepEqual(readdirSync(csv), ['csv']);
  const again = tempDir();
  await writeReport(analysis, again, 'md');
  t.is(readFileSync(join(md, 'report.md'), 'utf8'), readFileSync(join(again, 'report.md'), 'utf8'));
  await t.throwsAsync(writeReport(analysis, again, 'pdf' as 'md'), { code: 'ERR_ARGUMENT' });
});

test('a sweep with nothing finished still gives a report that says so', async (t) => {
  const dir = tempDir();
  writeSyntheticSweep(dir);
  for (const id of readdirSync(join(dir, 'cells'))) rmSync(join(dir, 'cells', id, 'result.json'), { force: true });
  const analysis = await analyze(dir, { resamples: 200 });
  t.is(analysis.counts.pending, 99);
  t.is(analysis.counts.running, 1);
  t.is(
    analysis.groups.every((g) => g.damage.n === 0),
    true,
  );
  const out = tempDir();
  await writeReport(analysis, out, 'html');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.regex(html, /No cell has finished yet/);
  // Only the heatmaps, which show the planned grid and what each cell of it is waiting for.
  t.deepEqual([...new Set([...html.matchAll(/data-kind="([^"]+)"/g)].map((m) => m[1]))], ['heatmap']);
  t.regex(html, /no data/);
  t.regex(html, /1 cells in flight and 99 not started/);
});

test('tables and figures that show the residual gap say which protocol; finetuned tables add the control and the uncontrolled gap', async (t) => {
  const { analysis: pretrained } = await sweep();
  const dir = tempDir();
  writeSyntheticSweep(dir, { protocol: 'finetuned', clean: true });
  const finetuned = await analyze(dir, { resamples: 200 });
  const gapTables = ['groups', 'cells', 'layer-dose', 'bottom-top', 'shapley', 'interactions', 'trends'];
  const uncontrolled = 'gap to the task model before healing (no control)';
  for (const [a, protocol] of [
    [pretrained, 'pretrained'],
    [finetuned, 'finetuned'],
  ] as const) {
    const tables = allTables(a);
    for (const id of gapTables) {
      const table = tables.find((x) => x.id === id);
      t.regex(table?.title ?? '', new RegExp(`\\[${protocol} protocol: residual gap = `), `${protocol} ${id}`);
    }
    const groups = tables.find((x) => x.id === 'groups') as Table;
    const titles = groups.columns.map((c) => c.title);
    t.is(titles.includes(`${uncontrolled} mean`), protocol === 'finetuned');
    t.is(titles.includes('control score mean'), protocol === 'finetuned');
    const heatmaps = buildFigures(a).filter((f) => f.id.startsWith('heatmap'));
    t.true(heatmaps.length > 0 && heatmaps.every((f) => f.caption.includes(`${protocol} protocol: residual gap = `)));
  }
  t.regex(allTables(finetuned).find((x) => x.id === 'groups')?.title ?? '', /control final - corrupted final/);
});
