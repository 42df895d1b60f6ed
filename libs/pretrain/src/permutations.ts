/**
 * The permutation set of the jigsaw task (Noroozi & Favaro 2016, §3.2): the
 * network classifies which of N fixed permutations shuffled the 9 tiles, so
 * the permutations should differ in many places — two that swap only two
 * tiles would make the task hinge on one tile pair.
 *
 * Greedy farthest-point choice with the Hamming distance d(p, q) = #{i : p_i ≠ q_i}:
 * start from a candidate drawn with the seed, then repeatedly add the candidate
 * whose minimum distance to the chosen ones is largest (the first such
 * candidate in lexicographic order on ties), which keeps the set's minimum
 * pairwise distance high. Candidates: all 9! = 362 880 permutations, or a
 * sample of them drawn with the seed (faster; the distances reached are lower).
 * Deterministic given (count, seed, candidates).
 */
import { ConfigError, Rng } from '@ddinit/core';

export const TILES = 9;
const ALL = 362_880; // 9!

export interface PermutationSetOptions {
  /** N, the number of permutations (classes). */
  count: number;
  seed: number;
  /** Size of the candidate pool sampled from the 9! permutations (default all). */
  candidates?: number;
}

/** d(p, q) = #{i : p_i ≠ q_i}. */
export function hammingDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) d++;
  return d;
}

/** min over pairs p ≠ q of the set of d(p, q). */
export function minimumHammingDistance(set: readonly ArrayLike<number>[]): number {
  let least = Infinity;
  for (let a = 0; a < set.length; a++) for (let b = a + 1; b < set.length; b++) least = Math.min(least, hammingDistance(set[a], set[b]));
  return least;
}

/**
 * N permutations of 0…8 (see the file doc). Permutation p shows tile p[i] (reading order in the image) in slot i.
 * @throws ConfigError when N < 2 or N exceeds the candidate pool.
 */
export function permutationSet(options: PermutationSetOptions): Uint8Array[] {
  const pool = options.candidates ?? ALL;
  if (!Number.isInteger(pool) || pool < 2 || pool > ALL) {
    throw new ConfigError('the candidate pool is a number of permutations of 9 tiles', {
      where: 'jigsaw.candidates',
      expected: `an integer in [2, ${ALL}]`,
      actual: pool,
    });
  }
  if (!Number.isInteger(options.count) || options.count < 2 || options.count > pool) {
    throw new ConfigError('the jigsaw task needs at least 2 permutations and no more than its candidates', {
      where: 'jigsaw.permutations',
      expected: `an integer in [2, ${pool}]`,
      actual: options.count,
    });
  }
  const rng = Rng.fromSeed(options.seed).derive('jigsaw-permutations');
  const candidates = candidatePool(pool, rng);
  const m = candidates.length / TILES;
  // Tiles 0–7 of each candidate packed 4 bits apiece, so one XOR compares 8 places (see mismatches).
  const low = new Uint32Array(m);
  const last = new Uint8Array(m);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < 8; i++) low[c] |= candidates[c * TILES + i] << (4 * i);
    last[c] = candidates[c * TILES + 8];
  }
  const nearest = new Uint8Array(m).fill(TILES + 1);
  const chosen: Uint8Array[] = [];
  let next = rng.int(m);
  while (chosen.length < options.count) {
    chosen.push(candidates.slice(next * TILES, (next + 1) * TILES));
    const pLow = low[next];
    const pLast = last[next];
    let best = 0;
    let farthest = -1;
    for (let c = 0; c < m; c++) {
      const d = Math.min(nearest[c], mismatches(low[c] ^ pLow) + (last[c] !== pLast ? 1 : 0));
      nearest[c] = d;
      if (d > farthest) [best, farthest] = [c, d];
    }
    next = best;
  }
  return chosen;
}

/** Non-zero 4-bit groups of `v`: fold each group onto its lowest bit, then sum the 8 bits with one multiply. */
function mismatches(v: number): number {
  const folded = (v | (v >>> 1) | (v >>> 2) | (v >>> 3)) & 0x11111111;
  return Math.imul(folded, 0x11111111) >>> 28;
}

/** `size` permutations of 0…8 in lexicographic order, all of them or a seeded sample, packed 9 a row. */
function candidatePool(size: number, rng: Rng): Uint8Array {
  const keep = size === ALL ? null : new Set(rng.sampleWithoutReplacement(ALL, size));
  const out = new Uint8Array(size * TILES);
  const p = Uint8Array.from({ length: TILES }, (_, i) => i);
  for (let rank = 0, at = 0; rank < ALL; rank++) {
    if (keep === null || keep.has(rank)) {
      out.set(p, at);
      at += TILES;
    }
    nextPermutation(p);
  }
  return out;
}

/** Steps `p` to the next permutation in lexicographic order (the last one wraps to the first). */
function nextPermutation(p: Uint8Array): void {
  let i = p.length - 2;
  while (i >= 0 && p[i] >= p[i + 1]) i--;
  if (i >= 0) {
    let j = p.length - 1;
    while (p[j] <= p[i]) j--;
    swap(p, i, j);
  }
  for (let a = i + 1, b = p.length - 1; a < b; a++, b--) swap(p, a, b);
}

function swap(p: Uint8Array, i: number, j: number): void {
  const t = p[i];
  p[i] = p[j];
  p[j] = t;
}
