/**
 * Opens pages in Debian's Chromium (the `chromium` package; no downloaded browser) through playwright-core,
 * headless, with everything that could reach a network turned off, in a fresh profile (playwright makes a
 * temporary one per launch).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ExecutionContext } from 'ava';
import { type Browser, chromium, type Page } from 'playwright-core';

export function chromiumPath(): string | null {
  const candidates = [process.env.HEALBERT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}

export interface PageCheck {
  /** Console errors, uncaught exceptions and failed or refused requests, in order. */
  problems: string[];
  /** Requests for anything but file: and data: URLs (all refused). */
  network: string[];
}

/** Runs `inspect` on a local page; collects console errors and any attempt to reach the network. */
export async function withPage<T>(
  url: string,
  inspect: (page: Page, check: PageCheck) => Promise<T>,
  viewport = { width: 1280, height: 900 },
): Promise<T> {
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error("Chromium not found: install Debian's chromium (scripts/bootstrap-debian.sh does) or set HEALBERT_CHROMIUM");
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    const page = await browser.newPage({ viewport });
    const check: PageCheck = { problems: [], network: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') check.problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => check.problems.push(`exception: ${e.message}`));
    page.on('requestfailed', (r) => check.problems.push(`request failed: ${r.url()}`));
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
      check.network.push(u);
      return route.abort();
    });
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    return await inspect(page, check);
  } finally {
    await browser?.close();
  }
}

interface FigureInfo {
  id: string;
  kind: string;
  width: number;
  height: number;
  marks: number;
}

/** Opens a report in headless Chromium: no console error, no request leaves the machine, every figure drawn. */
export async function checkReportInBrowser(t: ExecutionContext, html: string, expectedFigures: number): Promise<FigureInfo[]> {
  return withPage(pathToFileURL(html).href, async (page, check) => {
    const figures = await page.$$eval('figure[data-kind]', (nodes) =>
      nodes.map((node) => {
        const svg = node.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: node.id,
          kind: node.getAttribute('data-kind') ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0,
        };
      }),
    );
    t.deepEqual(check.problems, [], 'no console errors, exceptions or failed requests');
    t.deepEqual(check.network, [], 'nothing requested from a network');
    t.is(figures.length, expectedFigures);
    for (const f of figures) t.true(f.width > 100 && f.height > 50 && f.marks > 10, `${f.id}: ${f.width}x${f.height}, ${f.marks} marks`);
    return figures;
  });
}
