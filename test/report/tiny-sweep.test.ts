/**
 * End to end: the sweeps issue's tiny CPU sweep (a tiny BERT on real SST-2 rows, 8 cells), then
 * `healbert report` on its folder, then the page in headless Chromium.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { main } from '../../src/cli/main.js';
import { buildFigures } from '../../src/report/figures.js';
import { runSweep } from '../../src/sweep/run.js';
import { tempDir } from '../helpers/checkpoints.js';
import { makeTinyModel, tinySpec } from '../helpers/sweep.js';
import { checkReportInBrowser, chromiumPath } from './helpers/chromium.js';

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a report of the tiny CPU sweep has every quantity and opens in Chromium with every plot', async (t) => {
  const work = tempDir('healbert-tiny-report-');
  dirs.push(work);
  const out = join(work, 'sweep');
  const summary = await runSweep(tinySpec(await makeTinyModel()), { out });
  t.like(summary, { total: 8, done: 8 });

  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  t.is(await main(['report', out, '--resamples', '300'], io, new AbortController().signal), 0, stderr);
  t.regex(stdout, /8 cells \(8 done, 0 diverged, 0 failed, 0 running, 0 not started\)/);

  const analysis = await analyze(out, { resamples: 300 });
  t.deepEqual(analysis.depths, [{ model: 'tiny', layers: 2, source: 'config' }]);
  // Two clean cells and six corrupted ones (reinit bottom:1, noise on bottom:1 and top:1; seeds 0 and 1), all measured.
  t.is(analysis.groups.length, 4);
  for (const c of analysis.cells) {
    t.is(c.status, 'done');
    t.true(c.damage !== null && c.residualGap !== null && c.recovered !== null, `${c.label} seed ${c.seed}: ${c.note}`);
  }
  t.true(
    analysis.bottomTop.some((r) => r.k === 1 && r.difference.n === 2),
    'noise on bottom:1 against top:1, paired by seed',
  );
  t.true(analysis.layerDose.some((r) => r.context === 'reinit' && r.layers === '0'));

  const figures = buildFigures(analysis);
  t.deepEqual(new Set(figures.map((f) => f.kind)), new Set(['heatmap', 'curves', 'sensitivity', 'bottom-top']));
  if (!chromiumPath() && !process.env.CI) {
    t.log('Chromium not found: the browser check is skipped (CI runs it)');
    return;
  }
  await checkReportInBrowser(t, join(out, 'report', 'report.html'), figures.length);
});
