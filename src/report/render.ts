/**
 * Writes a report in one of four formats:
 *   html  report.html (self-contained) plus everything below
 *   md    report.md with figures/<id>.svg beside it
 *   json  analysis.json (the analysis as data)
 *   csv   csv/<table>.csv for every table and csv/figures/<figure>.csv for every figure's data
 * html writes all of them, so the page, its Markdown tables and its CSV files always agree.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Analysis } from '../analysis/analyze.js';
import { HealbertError } from '../errors.js';
import { buildFigures, type Figure, figureSet } from './figures.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderSvg } from './render-svg.js';
import { type Table, toCsv } from './table.js';
import { allTables } from './tables.js';

export type ReportFormat = 'html' | 'md' | 'json' | 'csv';
export const REPORT_FORMATS: ReportFormat[] = ['html', 'md', 'json', 'csv'];

export interface RenderedFigure {
  figure: Figure;
  svg: string;
}

export async function renderFigures(analysis: Analysis, figures: readonly Figure[] = buildFigures(analysis)): Promise<RenderedFigure[]> {
  const rendered: RenderedFigure[] = [];
  for (const figure of figures) rendered.push({ figure, svg: await renderSvg(figure.spec, figure.id) });
  return rendered;
}

const finiteOrNull = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value);

/** JSON of the analysis: NaN and infinities become null. */
export function analysisJson(analysis: Analysis): string {
  return [...analysisJsonChunks(analysis)].join('');
}

/**
 * analysisJson's text in pieces, one per element of each top-level list: at 100,000 cells the whole text
 * is hundreds of megabytes, near the longest string V8 makes, so it is written piece by piece.
 */
export function* analysisJsonChunks(analysis: Analysis): Generator<string> {
  const entries = Object.entries(analysis).filter(([, v]) => v !== undefined && typeof v !== 'function');
  yield '{';
  for (const [i, [key, value]] of entries.entries()) {
    yield `${i ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (Array.isArray(value) && value.length > 0) {
      yield '[';
      for (const [j, item] of value.entries()) {
        const text = JSON.stringify(item, finiteOrNull, 2) ?? 'null';
        yield `${j ? ',' : ''}\n    ${text.replace(/\n/g, '\n    ')}`;
      }
      yield '\n  ]';
    } else yield (JSON.stringify(value, finiteOrNull, 2) as string).replace(/\n/g, '\n  ');
  }
  yield entries.length ? '\n}\n' : '}\n';
}

/** Writes analysis.json in pieces (analysisJsonChunks), a megabyte at a time. */
async function writeAnalysisJson(path: string, analysis: Analysis, written: string[]): Promise<void> {
  try {
    const handle = await open(path, 'w');
    try {
      let buffer = '';
      for (const chunk of analysisJsonChunks(analysis)) {
        buffer += chunk;
        if (buffer.length >= 1 << 20) {
          await handle.writeFile(buffer);
          buffer = '';
        }
      }
      await handle.writeFile(buffer);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new HealbertError('ERR_IO', `${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  written.push(path);
}

async function write(path: string, text: string, written: string[]): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new HealbertError('ERR_IO', `${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  written.push(path);
}

async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new HealbertError('ERR_IO', `${path}: cannot create (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

async function writeCsv(outDir: string, tables: readonly Table[], figures: readonly RenderedFigure[], written: string[]): Promise<void> {
  await makeDir(join(outDir, 'csv', 'figures'));
  for (const t of tables) await write(join(outDir, 'csv', `${t.id}.csv`), toCsv(t), written);
  for (const { figure } of figures) await write(join(outDir, 'csv', 'figures', `${figure.id}.csv`), toCsv(figure.data), written);
}

/** Writes the report into outDir (created if needed) and returns the files written. */
export async function writeReport(analysis: Analysis, outDir: string, format: ReportFormat = 'html'): Promise<string[]> {
  if (!REPORT_FORMATS.includes(format))
    throw new HealbertError('ERR_ARGUMENT', `format must be one of ${REPORT_FORMATS.join(', ')}, got '${format}'`);
  await makeDir(outDir);
  const written: string[] = [];
  const tables = allTables(analysis);
  if (format === 'json') {
    await writeAnalysisJson(join(outDir, 'analysis.json'), analysis, written);
    return written;
  }
  const set = figureSet(analysis);
  const figures = format === 'csv' ? set.figures.map((figure) => ({ figure, svg: '' })) : await renderFigures(analysis, set.figures);
  if (format === 'csv' || format === 'html') await writeCsv(outDir, tables, figures, written);
  if (format === 'md' || format === 'html') {
    await makeDir(join(outDir, 'figures'));
    for (const { figure, svg } of figures) await write(join(outDir, 'figures', `${figure.id}.svg`), svg, written);
    await write(join(outDir, 'report.md'), renderMarkdown(analysis, figures, tables, { omitted: set.omitted }), written);
  }
  if (format === 'html') {
    await write(join(outDir, 'report.html'), renderHtml(analysis, figures, tables, set.omitted), written);
    await writeAnalysisJson(join(outDir, 'analysis.json'), analysis, written);
  }
  return written;
}
