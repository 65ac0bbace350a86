/**
 * Fleets fixed when a sweep is planned. A fleet member's result is its solo result up to round-off, and
 * the round-off depends on the fleet (its size K, the batched kernels): in bfloat16 a member differs from
 * the same cell solo in the training losses' fifth digit and now and then in an evaluation example. So a
 * cell's fleet must not depend on which worker claimed what first. The fleets here are a pure function of
 * the spec's cells and K: every worker, shard and resume computes the same ones, claims a fleet whole,
 * and recomputes a fleet with members still to run as that same fleet (keeping the results of members
 * already finished). Each result records its fleet (size, member, cells).
 */
import { fleetKey, type PlannedCell } from './cell.js';

/**
 * The fleets of a sweep: clean cells first (a finetuned baseline must exist before its cells heal its task
 * model), each cell with the next cells of its fleetKey in id order, up to `size(cell)` members.
 */
export function planFleets(cells: readonly PlannedCell[], size: (cell: PlannedCell) => number): PlannedCell[][] {
  const sorted = [...cells].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const order = [...sorted.filter((c) => !c.baselineId), ...sorted.filter((c) => c.baselineId)];
  const keys = new Map<string, { cells: PlannedCell[]; next: number }>();
  const keyOf = new Map<string, string>();
  for (const cell of order) {
    const key = fleetKey(cell);
    keyOf.set(cell.id, key);
    const group = keys.get(key);
    if (group) group.cells.push(cell);
    else keys.set(key, { cells: [cell], next: 0 });
  }
  // Walking in order, a cell not taken yet is the first one left of its key: its fleet is the next k.
  const taken = new Set<string>();
  const fleets: PlannedCell[][] = [];
  for (const cell of order) {
    if (taken.has(cell.id)) continue;
    const group = keys.get(keyOf.get(cell.id) as string) as { cells: PlannedCell[]; next: number };
    const fleet = group.cells.slice(group.next, group.next + Math.max(1, size(cell)));
    group.next += fleet.length;
    for (const c of fleet) taken.add(c.id);
    fleets.push(fleet);
  }
  return fleets;
}

/** The fleets of shard `index` of `count`: every count-th fleet, so a fleet never spans two machines. */
export function shardFleets<T>(fleets: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard) return [...fleets];
  return fleets.filter((_, i) => i % shard.count === shard.index);
}
