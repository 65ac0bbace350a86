/**
 * Shapley values of layers in a corruption game: the players are encoder layers, a coalition S is the set
 * of layers corrupted together, and v(S) is the damage (or residual gap) measured when exactly S is
 * corrupted; v(empty) = 0 (the clean model against itself). A layer's Shapley value is its average
 * marginal contribution over all orders in which layers could be corrupted; the values add up to v(all).
 *
 * Coalitions are bit masks (bit i = layer i). Pure functions: the caller maps cells to v.
 */
import { seededRandom, shuffleInPlace } from '../data/random.js';

/** The value v(S) of a coalition S of layers, given as a bit mask (bit i = layer i). */
export type ValueFunction = (mask: number) => number;

export const fullMask = (players: number) => (1 << players) - 1;

export function maskOf(layers: readonly number[]): number {
  let mask = 0;
  for (const l of layers) mask |= 1 << l;
  return mask;
}

export function layersOfMask(mask: number): number[] {
  const layers: number[] = [];
  for (let i = 0; mask >> i; i++) if (mask & (1 << i)) layers.push(i);
  return layers;
}

const popcount = (mask: number) => layersOfMask(mask).length;

function factorials(n: number): number[] {
  const f = [1];
  for (let i = 1; i <= n; i++) f.push((f[i - 1] as number) * i);
  return f;
}

/** Exact Shapley values: phi_i = sum over S not containing i of |S|!(n-|S|-1)!/n! (v(S+i) - v(S)). Needs all 2^n coalitions. */
export function exactShapley(players: number, value: ValueFunction): number[] {
  if (players > 20)
    throw new RangeError(`exact Shapley over ${players} players needs 2^${players} coalitions; sample permutations instead`);
  const f = factorials(players);
  const phi = new Array<number>(players).fill(0);
  for (let mask = 0; mask <= fullMask(players); mask++) {
    const size = popcount(mask);
    const vS = value(mask);
    for (let i = 0; i < players; i++) {
      if (mask & (1 << i)) continue;
      const weight = ((f[size] as number) * (f[players - size - 1] as number)) / (f[players] as number);
      phi[i] = (phi[i] as number) + weight * (value(mask | (1 << i)) - vS);
    }
  }
  return phi;
}

/**
 * The Shapley interaction index of two players (Grabisch 1997): their joint marginal contribution
 * v(S+ij) - v(S+i) - v(S+j) + v(S), averaged over coalitions S of the others with weights
 * |S|!(n-|S|-2)!/(n-1)!. Positive: corrupting both hurts more than the sum of each alone.
 */
export function shapleyInteraction(players: number, value: ValueFunction, i: number, j: number): number {
  const f = factorials(players);
  const others = fullMask(players) & ~(1 << i) & ~(1 << j);
  let total = 0;
  for (let mask = 0; mask <= others; mask++) {
    if ((mask & others) !== mask) continue;
    const size = popcount(mask);
    const weight = ((f[size] as number) * (f[players - size - 2] as number)) / (f[players - 1] as number);
    total += weight * (value(mask | (1 << i) | (1 << j)) - value(mask | (1 << i)) - value(mask | (1 << j)) + value(mask));
  }
  return total;
}

/** The permutations a Monte-Carlo estimate samples: seeded, so the plan and the analysis draw the same ones. */
export function samplePermutations(players: number, count: number, seed: number): number[][] {
  const random = seededRandom(seed, 0x5ba9);
  return Array.from({ length: count }, () =>
    shuffleInPlace(
      Array.from({ length: players }, (_, i) => i),
      random,
    ),
  );
}

/** Every coalition the estimate evaluates: the prefixes of each permutation (or all 2^n for the exact value), empty set excluded. */
export function coalitionsNeeded(players: number, permutations?: readonly (readonly number[])[]): number[] {
  if (!permutations) return Array.from({ length: fullMask(players) }, (_, i) => i + 1);
  const masks = new Set<number>();
  for (const order of permutations) {
    let mask = 0;
    for (const player of order) {
      mask |= 1 << player;
      masks.add(mask);
    }
  }
  return [...masks].sort((a, b) => popcount(a) - popcount(b) || a - b);
}

/** A Monte-Carlo Shapley estimate: each player's value and its standard error over the sampled permutations. */
export interface ShapleyEstimate {
  values: number[];
  /** Standard error of each value over the sampled permutations (sd / sqrt(permutations)). */
  standardErrors: number[];
}

/** Monte-Carlo permutation estimate (Castro et al. 2009): each permutation gives every player one marginal contribution. */
export function permutationShapley(players: number, permutations: readonly (readonly number[])[], value: ValueFunction): ShapleyEstimate {
  const m = permutations.length;
  const sum = new Array<number>(players).fill(0);
  const sumSq = new Array<number>(players).fill(0);
  for (const order of permutations) {
    let mask = 0;
    let previous = value(0);
    for (const player of order) {
      mask |= 1 << player;
      const current = value(mask);
      const contribution = current - previous;
      sum[player] = (sum[player] as number) + contribution;
      sumSq[player] = (sumSq[player] as number) + contribution * contribution;
      previous = current;
    }
  }
  const values = sum.map((s) => s / m);
  const standardErrors = values.map((mu, i) => {
    if (m < 2) return Number.NaN;
    const variance = Math.max(0, ((sumSq[i] as number) - m * mu * mu) / (m - 1));
    return Math.sqrt(variance / m);
  });
  return { values, standardErrors };
}
