/**
 * A scan folder on disk: scan.json, rewritten atomically after every run (a crash loses at most the run in
 * flight), and the table and figure written from it. A rerun with the same folder resumes only when the
 * resolved configuration is the same; otherwise it refuses and says what differs.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { HealbertError } from '../errors.js';
import { renderSvg } from '../report/render-svg.js';
import { type Table, toCsv } from '../report/table.js';
import { canonicalJson } from '../sweep/expand.js';
import { scanFigure } from './figure.js';
import { describeCorruption } from './format.js';
import type { ScanConfig, ScanFile, ScanRow } from './types.js';

/** The files a scan writes in its output folder. */
export const scanPaths = (out: string) => ({ json: join(out, 'scan.json'), csv: join(out, 'scan.csv'), svg: join(out, 'scan.svg') });

export const configHash = (config: ScanConfig) => createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);

/** Dotted paths where two JSON values differ, with both values ("corruption.method: zero there, reinit here"). */
export function configDifferences(there: unknown, here: unknown, path = ''): string[] {
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(there) && isObject(here)) {
    const a = there as Record<string, unknown>;
    const b = here as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .flatMap((k) => configDifferences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (canonicalJson(there) === canonicalJson(here)) return [];
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
  return [`${path || '(config)'}: ${show(there)} there, ${show(here)} here`];
}

/** The scan.json in `out` to continue (its config equal to `config`), or undefined when there is none. */
export async function readResumable(out: string, config: ScanConfig): Promise<ScanFile | undefined> {
  const path = scanPaths(out).json;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HealbertError('ERR_IO', `cannot read ${path}: ${(error as Error).message}`);
  }
  let file: ScanFile;
  try {
    file = JSON.parse(text) as ScanFile;
  } catch (error) {
    throw new HealbertError('ERR_DATA', `${path}: not valid JSON (${(error as Error).message}); move it away to start the scan over`);
  }
  if (file?.kind !== 'healbert-scan' || file.format !== 1 || !file.config || !Array.isArray(file.targets))
    throw new HealbertError('ERR_DATA', `${path} is not a healbert scan (format 1); use another --out`);
  const differences = configDifferences(file.config, config);
  if (differences.length > 0) {
    const stream = differences.some((d) => d.startsWith('corruption.streamVersion:'))
      ? `The corruption random stream differs (${file.config.corruption?.streamVersion ?? 'unversioned'} there, ${config.corruption.streamVersion} here): ` +
        'that scan was made by another healbert engine, whose corruptions draw other random numbers, so its runs cannot be mixed with new ones.\n'
      : '';
    throw new HealbertError(
      'ERR_CONFIG',
      `scan.out: ${out} holds a scan with another configuration, so it cannot be resumed:\n  ${differences.join('\n  ')}\n` +
        stream +
        `Use another --out, or delete ${path} to start over there.`,
    );
  }
  return file;
}

export async function saveScanFile(out: string, file: ScanFile): Promise<void> {
  await mkdir(out, { recursive: true });
  file.updatedAt = new Date().toISOString();
  await writeAtomic(scanPaths(out).json, `${JSON.stringify(file, null, 2)}\n`);
}

/** The table as the report's Table: the clean model first, then the targets in scan order. */
export function scanTable(config: ScanConfig, clean: number, rows: ScanRow[]): Table {
  const num = (key: string, title: string) => ({ key, title, kind: 'num' as const });
  return {
    id: 'scan',
    title: `${describeCorruption(config.corruption, config.kinds)} per ${config.each}: ${config.model.name} on ${config.task.name} ${config.task.split} (${config.metric})`,
    columns: [
      { key: 'target', title: 'target' },
      { key: 'layer', title: 'layer', kind: 'int' },
      { key: 'component', title: 'component' },
      ...(config.each === 'head' ? [{ key: 'head', title: 'head', kind: 'int' as const }] : []),
      ...(config.each === 'neuron' ? [{ key: 'neurons', title: 'neurons' }] : []),
      { key: 'seeds', title: 'seeds' },
      { key: 'n', title: 'n', kind: 'int' },
      num('mean', 'mean'),
      num('sd', 'sd'),
      num('ci_low', 'CI low (95%, t)'),
      num('ci_high', 'CI high (95%, t)'),
      num('drop', 'drop (clean - mean)'),
      { key: 'non_finite', title: 'non-finite', kind: 'int' },
      num('seconds', 'seconds'),
    ],
    rows: [
      {
        target: 'clean',
        layer: null,
        component: null,
        seeds: '',
        n: 1,
        mean: clean,
        sd: null,
        ci_low: null,
        ci_high: null,
        drop: 0,
        non_finite: Number.isFinite(clean) ? 0 : 1,
        seconds: null,
      },
      ...rows.map((r) => ({
        target: r.target,
        layer: r.layer,
        component: r.component,
        ...(config.each === 'head' ? { head: r.head ?? null } : {}),
        ...(config.each === 'neuron' ? { neurons: r.neurons ? `${r.neurons[0]}-${r.neurons[1] - 1}` : null } : {}),
        seeds: r.seeds.join(' '),
        n: r.n,
        mean: r.mean,
        sd: r.sd,
        ci_low: r.ci?.low ?? null,
        ci_high: r.ci?.high ?? null,
        drop: r.drop,
        non_finite: r.nonFinite,
        seconds: r.seconds,
      })),
    ],
  };
}

/** scan.csv and scan.svg from the finished table. */
export async function writeScanOutputs(out: string, config: ScanConfig, clean: number, rows: ScanRow[]): Promise<void> {
  const paths = scanPaths(out);
  await writeAtomic(paths.csv, toCsv(scanTable(config, clean, rows)));
  await writeAtomic(paths.svg, await renderSvg(scanFigure(config, clean, rows), 'scan'));
}
