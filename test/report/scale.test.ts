/**
 * Reports of cluster-scale sweeps: the 12,288-cell folder (3 seeds x the clean model and all 4,095
 * layer subsets of a 12-layer model, written by bench/synthetic-results.ts as an index alone) gives a page
 * of summaries, not of rows: no figure lists the 4,095 subsets, tables show their first rows and say where
 * all are, and analysis.json is written in pieces that make exactly JSON.stringify's text.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DESIGNS, trueShapley, writeSyntheticFolder } from '../../bench/synthetic-results.js';
import { type Analysis, analyze } from '../../src/analysis/analyze.js';
import { buildFigures, figureSet } from '../../src/report/figures.js';
import { analysisJson, writeReport } from '../../src/report/render.js';
import { MAX_FIGURES_PER_KIND, MAX_PAGE_ROWS } from '../../src/report/scale.js';
import { writeSyntheticSweep } from '../analysis/helpers/synthetic-sweep.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'healbert-scale-'));
  dirs.push(dir);
  return dir;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let shared: Promise<{ dir: string; analysis: Analysis }> | undefined;
const large = () => {
  shared ??= (async () => {
    const dir = tempDir();
    writeSyntheticFolder(dir, { ...(DESIGNS['12k'] as (typeof DESIGNS)['12k']), resultFiles: false });
    return { dir, analysis: await analyze(dir, { resamples: 300 }) };
  })();
  return shared;
};

test('12,288 cells: summaries instead of a row per layer subset, a page of a few hundred kilobytes, every row in csv/', async (t) => {
  const { dir, analysis } = await large();
  t.is(analysis.cells.length, 12_288);
  const exact = analysis.shapley.find((s) => s.quantity === 'damage');
  t.is(exact?.estimator, 'exact');
  const truth = trueShapley('reinit');
  for (const v of exact?.values ?? []) t.true(Math.abs((v.value.mean as number) - (truth[v.layer] as number)) < 0.001, `layer ${v.layer}`);
  const figures = buildFigures(analysis);
  const kinds = new Set(figures.map((f) => f.kind));
  for (const kind of ['by-k', 'extremes', 'distribution', 'shapley', 'interactions', 'curves'] as const) t.true(kinds.has(kind), kind);
  t.false(kinds.has('heatmap'), 'no heatmap with a row per subset');
  for (const f of figures) t.true(f.data.rows.length <= 300, `${f.id}: ${f.data.rows.length} rows plotted`);
  const extremes = figures.find((f) => f.kind === 'extremes');
  t.is(new Set(extremes?.data.rows.map((r) => r.layers)).size, 40, 'the 20 most and 20 least harmful subsets');
  const out = join(dir, 'report');
  await writeReport(analysis, out, 'html');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.true(statSync(join(out, 'report.html')).size < 5e6, `${statSync(join(out, 'report.html')).size} bytes`);
  // The tables of 4,096 conditions and 12,288 cells: their first rows, and where all are.
  t.regex(html, new RegExp(`Data \\(12288 rows; ${MAX_PAGE_ROWS} here, unfinished cells first\\)`));
  t.regex(html, /<a href="csv\/cells\.csv">csv\/cells\.csv<\/a>/);
  t.is(
    readFileSync(join(out, 'csv', 'cells.csv'), 'utf8')
      .trim()
      .split('\r\n').length,
    1 + 12_288,
  );
  t.is(
    readFileSync(join(out, 'csv', 'layer-dose.csv'), 'utf8')
      .trim()
      .split('\r\n').length,
    1 + 4_095,
  );
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  t.regex(md, /_100 of 12288 rows \(unfinished cells first\); all in `csv\/cells\.csv` and analysis\.json\._/);
  t.true(existsSync(join(out, 'analysis.json')));
});

test('analysis.json written in pieces is exactly the JSON.stringify text', async (t) => {
  const small = tempDir();
  writeSyntheticSweep(small, { index: 40 });
  const analysis = await analyze(small, { resamples: 200 });
  const expected = `${JSON.stringify(analysis, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  t.is(analysisJson(analysis), expected);
  const out = join(small, 'json');
  await writeReport(analysis, out, 'json');
  t.is(readFileSync(join(out, 'analysis.json'), 'utf8'), expected);
  const { analysis: big } = await large();
  t.deepEqual(JSON.parse(analysisJson(big)).counts, big.counts);
});

test('figures of one kind beyond the cap: those with the most data stay, and the page says where the rest are', async (t) => {
  const dir = tempDir();
  // A head grid: one method context per head index, each with a heatmap, sensitivity and bottom-top figure.
  writeSyntheticFolder(dir, { seeds: 2, exact: 0, dose: false, heads: true, permutations: 0, resultFiles: false, unfinished: 0 });
  const analysis = await analyze(dir, { resamples: 200 });
  const { figures, omitted } = figureSet(analysis);
  const sensitivity = omitted.find((o) => o.kind === 'sensitivity');
  t.like(sensitivity, { shown: MAX_FIGURES_PER_KIND, total: 12, table: 'layer-dose' });
  t.is(figures.filter((f) => f.kind === 'sensitivity').length, MAX_FIGURES_PER_KIND);
  t.true(
    figures.some((f) => f.id.startsWith('heads-') || f.data.rows.length === 288),
    'the layer x head heatmap (288 rows) stays',
  );
  const out = join(dir, 'report');
  await writeReport(analysis, out, 'html');
  t.regex(readFileSync(join(out, 'report.html'), 'utf8'), /8 of 12 sensitivity figures shown .*csv\/layer-dose\.csv/);
});
