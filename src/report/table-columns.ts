/** Column groups shared by the tables: a summary's mean, interval and n; the count of cells by state. */
import type { Summary } from '../analysis/stats.js';
import type { Cell, Column } from './table.js';

/** mean, CI low, CI high and n of a summary under one prefix. */
export function summaryColumns(prefix: string, title: string): Column[] {
  return [
    { key: `${prefix}`, title: `${title} mean`, kind: 'num' },
    { key: `${prefix}_low`, title: 'CI low', kind: 'num' },
    { key: `${prefix}_high`, title: 'CI high', kind: 'num' },
    { key: `${prefix}_n`, title: 'n', kind: 'int' },
  ];
}

export function summaryCells(prefix: string, s: Summary): Record<string, Cell> {
  return { [prefix]: s.mean, [`${prefix}_low`]: s.ci?.low ?? null, [`${prefix}_high`]: s.ci?.high ?? null, [`${prefix}_n`]: s.n };
}

export const countColumns: Column[] = [
  { key: 'done', title: 'done', kind: 'int' },
  { key: 'diverged', title: 'diverged', kind: 'int' },
  { key: 'failed', title: 'failed', kind: 'int' },
  { key: 'running', title: 'running', kind: 'int' },
  { key: 'pending', title: 'pending', kind: 'int' },
];
