/**
 * Makes docs/report-screenshot.png: the report of the synthetic sweep (test/analysis/helpers), rendered by
 * headless Chromium. Not a test; run it when the report's look changes:
 *   node --import=tsx test/report/make-screenshot.ts [sweep-dir]
 * With a sweep folder, the screenshot shows that sweep's report instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyze } from '../../src/analysis/analyze.js';
import { packageRoot } from '../../src/native/binding.js';
import { writeReport } from '../../src/report/render.js';
import { writeSyntheticSweep } from '../analysis/helpers/synthetic-sweep.js';
import { withPage } from './helpers/chromium.js';

const work = mkdtempSync(join(tmpdir(), 'healbert-screenshot-'));
try {
  const sweep = process.argv[2] ?? join(work, 'synthetic-sweep');
  if (!process.argv[2]) writeSyntheticSweep(sweep, { index: 40 });
  await writeReport(await analyze(sweep), join(work, 'report'), 'html');
  const out = join(packageRoot, 'docs', 'report-screenshot.png');
  await withPage(
    pathToFileURL(join(work, 'report', 'report.html')).href,
    async (page, check) => {
      if (check.problems.length || check.network.length) throw new Error([...check.problems, ...check.network].join('\n'));
      await page.screenshot({ path: out, fullPage: false });
    },
    { width: 1100, height: 1500 },
  );
  process.stdout.write(`wrote ${out}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
