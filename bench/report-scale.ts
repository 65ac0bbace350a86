/**
 * status, report and export on synthetic results folders of 1,000 to 100,000 cells (bench/synthetic-results.ts:
 * the results format, layer subsets, head grids, Monte-Carlo permutations, several methods and levels), each
 * command timed as a process with /usr/bin/time (wall seconds and peak resident memory), the HTML's size,
 * and the machine's load before each timed run (it waits up to --wait minutes for the 1-minute load to fall
 * below --quiet). Never part of `npm test`.
 *
 *   npx tsc -p tsconfig.build.json && node --import tsx bench/report-scale.ts [--sizes 1k,10k,100k] [--quiet 0.7] [--wait 20] [--keep]
 *
 * Writes bench/results/report-scale.json and prints the README's table. The folders go under the system's
 * temporary folder and are deleted afterwards (100,000 cells are 1.7 GB) unless --keep.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/native/binding.js';
import { flag, writeResult } from './common.js';
import { DESIGNS, writeSyntheticFolder } from './synthetic-results.js';

const sizes = flag('sizes', '1k,10k,100k').split(',');
const quiet = Number(flag('quiet', '0.7'));
const waitMinutes = Number(flag('wait', '20'));
const keep = process.argv.includes('--keep');
const cli = join(packageRoot, 'bin', 'healbert.js');

function cpu(): { model: string; family: number; modelNumber: number; cores: number } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1] ?? '?';
  return {
    model: field('model name'),
    family: Number(field('cpu family')),
    modelNumber: Number(field('model')),
    cores: info.match(/^processor\s*:/gm)?.length ?? 0,
  };
}

const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Waits (up to --wait minutes) for the 1-minute load to fall below --quiet; returns the load it started at. */
async function waitForQuiet(): Promise<{ load: number; quiet: boolean }> {
  const deadline = Date.now() + waitMinutes * 60_000;
  for (;;) {
    const load = load1();
    if (load < quiet) return { load, quiet: true };
    if (Date.now() > deadline) return { load, quiet: false };
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

interface Timed {
  seconds: number;
  peakMB: number;
  load: number;
  quiet: boolean;
}

async function timed(args: string[]): Promise<Timed> {
  const { load, quiet } = await waitForQuiet();
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const last = run.stderr.trim().split('\n').at(-1) ?? '';
  const [seconds, kb] = last.split(' ').map(Number);
  if (run.status !== 0 || !Number.isFinite(seconds)) throw new Error(`healbert ${args.join(' ')} failed:\n${run.stderr.slice(-2000)}`);
  return { seconds: seconds as number, peakMB: (kb as number) / 1024, load, quiet };
}

const machine = cpu();
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: packageRoot, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const rows: Record<string, unknown>[] = [];
for (const size of sizes) {
  const design = DESIGNS[size];
  if (!design) throw new Error(`--sizes: no design '${size}' (${Object.keys(DESIGNS).join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), `healbert-scale-${size}-`));
  try {
    const folder = join(dir, 'sweep');
    const start = process.hrtime.bigint();
    const written = writeSyntheticFolder(folder, design);
    const writeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    process.stderr.write(`${size}: ${written.cells} cells written in ${writeSeconds.toFixed(1)} s\n`);
    const permutations = design.permutations > 0 ? ['--permutations', String(design.permutations)] : [];
    const status = await timed(['status', folder]);
    const report = await timed(['report', folder, ...permutations]);
    const exportCsv = await timed(['export', folder, '--format', 'csv', '-o', join(dir, 'cells.csv')]);
    const exportJsonl = await timed(['export', folder, '--format', 'jsonl', '-o', join(dir, 'cells.jsonl')]);
    const html = statSync(join(folder, 'report', 'report.html')).size;
    const row = {
      size,
      cells: written.cells,
      finished: written.finished,
      resultBytes: written.bytes,
      indexBytes: statSync(join(folder, 'index.jsonl')).size,
      status,
      report,
      exportCsv,
      exportJsonl,
      htmlMB: html / 1e6,
    };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
const path = writeResult('report-scale', {
  cpu: machine,
  node: process.version,
  commit,
  date: new Date().toISOString(),
  quietBelow: quiet,
  rows,
});
const f = (x: number, digits = 1) => x.toFixed(digits);
const lines = [
  '| cells | status | report | report peak memory | export csv (peak) | export jsonl (peak) | report.html | load before runs |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => {
    const t = (k: string) => r[k] as Timed;
    const loads = ['status', 'report', 'exportCsv', 'exportJsonl'].map((k) => f(t(k).load, 2)).join(', ');
    return `| ${(r.cells as number).toLocaleString('en')} | ${f(t('status').seconds)} s | ${f(t('report').seconds)} s | ${f(t('report').peakMB, 0)} MB | ${f(t('exportCsv').seconds)} s (${f(t('exportCsv').peakMB, 0)} MB) | ${f(t('exportJsonl').seconds)} s (${f(t('exportJsonl').peakMB, 0)} MB) | ${f(r.htmlMB as number, 2)} MB | ${loads} |`;
  }),
];
process.stdout.write(
  `${machine.model} (family ${machine.family}, model ${machine.modelNumber}), ${machine.cores} cores, node ${process.version}, ${commit}\n${lines.join('\n')}\nwrote ${path}\n`,
);
