/**
 * How cells are grouped. A condition is everything that decides a cell except its seed (seeds of one
 * condition are replicates). A context is a condition without the corrupted layer set and the dose
 * (level or fraction): within one context, cells differ only in which layers were corrupted and how
 * strongly, which is what layer attribution and dose-response compare.
 */
import type { CellConfig } from '../sweep/types.js';

/** JSON with sorted keys, so equal objects give equal strings. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type Corruption = NonNullable<CellConfig['corruption']>;

/** Methods whose level is a strength (more is worse); `scale` is not (1 is clean; both sides hurt). */
const STRENGTH_LEVEL = new Set(['gaussian', 'uniform', 'bit-flip']);

export interface Dose {
  /** level for methods that have one, fraction (share of entries corrupted) for the others. */
  name: 'level' | 'fraction';
  value: number;
  /** Whether more dose means more corruption, so that a monotone curve may be fitted. */
  monotone: boolean;
}

export function doseOf(corruption: Corruption): Dose {
  if (STRENGTH_LEVEL.has(corruption.method) || corruption.method === 'scale') {
    return { name: 'level', value: corruption.level, monotone: corruption.method !== 'scale' };
  }
  return { name: 'fraction', value: corruption.fraction ?? 1, monotone: true };
}

/** Everything but the seed. */
export function conditionKey(config: CellConfig): string {
  const { seed: _seed, ...rest } = config;
  const corruption = rest.corruption ? { ...rest.corruption, label: undefined } : null;
  return stableStringify({ ...rest, corruption });
}

/** The clean cell a corrupted cell is compared with has this key too. */
export function baselineKey(config: CellConfig): string {
  return stableStringify({ ...config, corruption: null, control: undefined });
}

/** A finetuned corrupted cell's control has this key too: its config, uncorrupted, marked as the control. */
export function controlKey(config: CellConfig): string {
  return stableStringify({ ...config, corruption: null, control: true });
}

/** Everything but the seed, the corrupted layers, the dose and the label. */
export function contextKey(config: CellConfig): string | null {
  const c = config.corruption;
  if (!c) return null;
  const { seed: _seed, ...rest } = config;
  const dose = doseOf(c).name;
  const corruption: Record<string, unknown> = { ...c, label: undefined, [dose]: undefined, targets: { ...c.targets, layers: undefined } };
  return stableStringify({ ...rest, corruption });
}

/** A short description of a corruption without its layers and dose: "gaussian relative", "reinit attention". */
export function describeMethod(c: Corruption): string {
  const parts: string[] = [c.method];
  if (c.relative) parts.push('relative');
  if (c.method === 'reinit' && c.init && c.init !== 'kaiming-sqrt5') parts.push(c.init);
  if (c.method === 'bit-flip' && c.bits === 'exponent') parts.push('exponent bits');
  if (c.targets.components?.length) parts.push(c.targets.components.join('+'));
  if (c.targets.heads !== undefined) parts.push(`heads ${[c.targets.heads].flat().join(',')}`);
  if (c.targets.neurons !== undefined) parts.push(`neurons ${[c.targets.neurons].flat().join(',')}`);
  if (c.targets.kinds && c.targets.kinds !== 'all') parts.push(c.targets.kinds);
  if (doseOf(c).name === 'level' && (c.fraction ?? 1) !== 1) parts.push(`fraction ${c.fraction}`);
  if (c.targets.include?.length) parts.push(`+${c.targets.include.join('+')}`);
  if (c.targets.names?.length) parts.push(`names ${c.targets.names.join(',')}`);
  return parts.join(' ');
}
