import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { analyze } from '../../src/analysis/analyze.js';
import { writeReport } from '../../src/report/render.js';
import { writeSyntheticSweep } from '../analysis/helpers/synthetic-sweep.js';
import { checkReportInBrowser, chromiumPath } from './helpers/chromium.js';

// CI (a clean Debian 12, where scripts/bootstrap-debian.sh installs chromium) always runs this test; elsewhere a
// machine without Chromium skips it, saying so, and HEALBERT_SKIP_BROWSER=1 skips it anywhere.
const skip =
  process.env.HEALBERT_SKIP_BROWSER === '1' ? 'HEALBERT_SKIP_BROWSER=1' : !chromiumPath() && !process.env.CI ? 'Chromium not found' : null;
const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the report opens in headless Chromium with no console errors and every plot drawn', async (t) => {
  if (skip) {
    t.log('HEALBERT_SKIP_BROWSER=1: skipped');
    t.pass();
    return;
  }
  t.truthy(
    chromiumPath(),
    "Debian's chromium is needed (scripts/bootstrap-debian.sh installs it); HEALBERT_SKIP_BROWSER=1 skips this test",
  );
  const dir = mkdtempSync(join(tmpdir(), 'healbert-browser-'));
  dirs.push(dir);
  writeSyntheticSweep(dir, { index: 40 });
  const analysis = await analyze(dir, { resamples: 300 });
  await writeReport(analysis, join(dir, 'report'), 'html');
  const { buildFigures } = await import('../../src/report/figures.js');
  const expected = buildFigures(analysis).length;
  const figures = await checkReportInBrowser(t, join(dir, 'report', 'report.html'), expected);
  t.deepEqual(
    new Set(figures.map((f) => f.kind)),
    new Set(['heatmap', 'curves', 'sensitivity', 'bottom-top', 'shapley', 'interactions', 'dose-response']),
  );
});
