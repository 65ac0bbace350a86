/** The scan table as text, the way the CLI prints it. Pure. */
import type { ScanConfig, ScanResult } from './types.js';

/** "reinit (kaiming-sqrt5)", "gaussian sigma 0.5 (relative), fraction 0.5, weights only". */
export function describeCorruption(c: ScanConfig['corruption'], kinds: ScanConfig['kinds'] = 'all'): string {
  const level: Record<string, string> = { gaussian: 'sigma', uniform: 'lambda', scale: 'factor', 'bit-flip': 'rate' };
  const parts = [c.method === 'reinit' ? `reinit (${c.init})` : level[c.method] ? `${c.method} ${level[c.method]} ${c.level}` : c.method];
  if (c.relative) parts[0] += ' (relative)';
  if (c.method === 'bit-flip' && c.bits === 'exponent') parts.push('exponent bits');
  if (c.fraction !== 1) parts.push(`fraction ${c.fraction}`);
  if (kinds !== 'all') parts.push(`${kinds} only`);
  return parts.join(', ');
}

const fixed = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? 'n/a' : Number.isFinite(x) ? x.toFixed(digits) : 'NaN';

/**
 * The scan's table as printed: one row per target with its mean score, interval, drop and seconds, and a layer x
 * head grid for head scans.
 */
export function formatScanTable(result: ScanResult): string {
  const { config, clean, rows } = result;
  const seeds = config.seeds.length;
  const lines = [
    `${describeCorruption(config.corruption, config.kinds)} per ${config.each} of ${config.model.name}; ${config.task.name} ${config.task.split}, ${config.task.examples} rows, ${config.evaluation === 'head' ? 'task head' : `linear probe (trained on ${config.task.trainRows ?? 'all'} train rows)`}`,
    `${config.metric}: mean over ${seeds === 1 ? `seed ${config.seeds[0]}` : `seeds ${config.seeds.join(', ')}`}; ${seeds > 1 ? '95% t-interval over seeds' : 'no interval (one seed)'}; drop = clean - mean (positive: damage)`,
    '',
  ];
  const width = Math.max(12, ...rows.map((r) => r.target.length)) + 2;
  const ciWidth = seeds > 1 ? 20 : 14;
  lines.push(
    `${'target'.padEnd(width)}${config.metric.padStart(9)}   ${'95% CI'.padEnd(ciWidth)}${'drop'.padStart(8)}${'s/target'.padStart(10)}`,
  );
  lines.push(
    `${'clean'.padEnd(width)}${fixed(clean.score).padStart(9)}   ${''.padEnd(ciWidth)}${''.padStart(8)}${clean.seconds.toFixed(2).padStart(10)}`,
  );
  for (const r of rows) {
    const ci = r.ci ? `[${fixed(r.ci.low)}, ${fixed(r.ci.high)}]` : r.n <= 1 ? `n/a (${r.n} seed${r.n === 1 ? '' : 's'})` : 'n/a';
    const drop = r.drop === null ? 'n/a' : `${r.drop >= 0 ? '+' : ''}${fixed(r.drop)}`;
    const nan = r.nonFinite > 0 ? `  (${r.nonFinite} of ${r.scores.length} runs non-finite, left out)` : '';
    lines.push(
      `${r.target.padEnd(width)}${fixed(r.mean).padStart(9)}   ${ci.padEnd(ciWidth)}${drop.padStart(8)}${r.seconds.toFixed(2).padStart(10)}${nan}`,
    );
  }
  if (config.each === 'head') lines.push('', ...headGrid(rows));
  for (const note of result.notes) lines.push(`note: ${note}`);
  if (result.resumed > 0) lines.push(`resumed: ${result.resumed} runs were already done in the output folder, ${result.ran} ran now`);
  return `${lines.join('\n')}\n`;
}

/** The drops of a head scan as a layer x head grid, the top layer first (as scan.svg draws it). */
export function headGrid(rows: ScanResult['rows']): string[] {
  const layers = [...new Set(rows.map((r) => r.layer as number))].sort((a, b) => b - a);
  const heads = [...new Set(rows.map((r) => r.head as number))].sort((a, b) => a - b);
  const cell = (l: number, h: number) => {
    const r = rows.find((x) => x.layer === l && x.head === h);
    return r?.drop === null || r?.drop === undefined ? 'n/a' : `${r.drop >= 0 ? '+' : ''}${fixed(r.drop, 3)}`;
  };
  return [
    'drop per layer x head:',
    `${'layer'.padEnd(7)}${heads.map((h) => `h${h}`.padStart(8)).join('')}`,
    ...layers.map((l) => `${String(l).padEnd(7)}${heads.map((h) => cell(l, h).padStart(8)).join('')}`),
  ];
}
