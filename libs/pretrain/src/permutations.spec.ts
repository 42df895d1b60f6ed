import { ConfigError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { hammingDistance, minimumHammingDistance, permutationSet } from './permutations';

const isPermutationOf9 = (p: Uint8Array) => [...p].sort((a, b) => a - b).join() === '0,1,2,3,4,5,6,7,8';

describe('the jigsaw permutation set', () => {
  it('has N distinct permutations of the 9 tiles, far apart, the same for the same seed', () => {
    const set = permutationSet({ count: 100, seed: 1 });
    expect(set).toHaveLength(100);
    expect(set.every(isPermutationOf9)).toBe(true);
    expect(new Set(set.map((p) => p.join())).size).toBe(100);
    // 100 random permutations have pairs only 2 apart (one swap); the greedy set keeps every pair ≥ 6 apart.
    expect(minimumHammingDistance(set)).toBeGreaterThanOrEqual(6);
    expect(permutationSet({ count: 100, seed: 1 }).map((p) => p.join())).toEqual(set.map((p) => p.join()));
    expect(permutationSet({ count: 100, seed: 2 }).map((p) => p.join())).not.toEqual(set.map((p) => p.join()));
  });

  it('greedily keeps the minimum distance as high as any choice could: small sets are all 9 apart', () => {
    // Among 9! permutations there are sets of 9 that differ everywhere (rows of a Latin square), and greedy finds one.
    const set = permutationSet({ count: 9, seed: 3 });
    expect(minimumHammingDistance(set)).toBe(9);
    expect(hammingDistance([0, 1, 2], [0, 2, 1])).toBe(2);
  });

  it('chooses from a seeded sample of the 9! space when asked, deterministically', () => {
    const a = permutationSet({ count: 30, seed: 4, candidates: 2000 });
    const b = permutationSet({ count: 30, seed: 4, candidates: 2000 });
    expect(a.map((p) => p.join())).toEqual(b.map((p) => p.join()));
    expect(new Set(a.map((p) => p.join())).size).toBe(30);
    expect(minimumHammingDistance(a)).toBeGreaterThanOrEqual(6);
  });

  it('refuses a set larger than its candidates', () => {
    expect(() => permutationSet({ count: 50, seed: 1, candidates: 20 })).toThrow(ConfigError);
    expect(() => permutationSet({ count: 50, seed: 1, candidates: 20 })).toThrow(
      'jigsaw.permutations: the jigsaw task needs at least 2 permutations and no more than its candidates (expected an integer in [2, 20], got 50)',
    );
    expect(() => permutationSet({ count: 1, seed: 1 })).toThrow(/expected an integer in \[2, 362880\], got 1/);
  });
});
