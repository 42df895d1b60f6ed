import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '@ddinit/core';
import { planEpoch } from './epoch-plan';

const sizes = [50, 0, 37, 64, 13];
const flatten = (plan: ReturnType<typeof planEpoch>) => plan.flatMap((p) => Array.from(p.rows, (r) => `${p.shard}:${r}`));

describe('planEpoch', () => {
  it('visits every example once, in a permuted order that depends only on (seed, epoch)', () => {
    const a = flatten(planEpoch(sizes, { seed: 3, epoch: 1 }));
    expect(a.length).toBe(164);
    expect(new Set(a).size).toBe(164);
    expect(flatten(planEpoch(sizes, { seed: 3, epoch: 1 }))).toEqual(a);
    expect(flatten(planEpoch(sizes, { seed: 3, epoch: 2 }))).not.toEqual(a);
    expect(flatten(planEpoch(sizes, { seed: 4, epoch: 1 }))).not.toEqual(a);
    const ordered = flatten(planEpoch(sizes, { shuffle: false }));
    expect(ordered.slice(0, 3)).toEqual(['0:0', '0:1', '0:2']);
    expect(new Set(a)).toEqual(new Set(ordered));
    // Shards are visited whole (consecutive rows of one shard), in a permuted shard order.
    const shardOrder = planEpoch(sizes, { seed: 3, epoch: 1 }).map((p) => p.shard);
    expect([...shardOrder].sort()).toEqual([0, 2, 3, 4]);
  });

  it.each(['example', 'shard'] as const)('splits an epoch among workers disjointly and completely (partition by %s)', (partition) => {
    const workers = 3;
    const parts = Array.from({ length: workers }, (_, worker) => flatten(planEpoch(sizes, { seed: 9, epoch: 5, worker, workers, partition })));
    const all = parts.flat();
    expect(all.length).toBe(164);
    expect(new Set(all).size).toBe(164);
    if (partition === 'example') {
      const lengths = parts.map((p) => p.length);
      expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(1);
      // Dealt round-robin from the single-worker order.
      const single = flatten(planEpoch(sizes, { seed: 9, epoch: 5 }));
      expect(parts[1]).toEqual(single.filter((_, i) => i % workers === 1));
    } else {
      const shardsOf = (w: number) => new Set(planEpoch(sizes, { seed: 9, epoch: 5, worker: w, workers, partition }).map((p) => p.shard));
      expect([...shardsOf(0)].filter((s) => shardsOf(1).has(s))).toEqual([]);
    }
  });

  it('rejects bad worker settings and empty shares', () => {
    expect(() => planEpoch(sizes, { worker: 3, workers: 3 })).toThrow(ConfigError);
    expect(() => planEpoch(sizes, { worker: 3, workers: 3 })).toThrow('worker: worker must be an integer in [0, workers) (expected 0…2, got 3)');
    expect(() => planEpoch(sizes, { workers: 0 })).toThrow('workers must be an integer ≥ 1');
    expect(() => planEpoch(sizes, { epoch: -1 })).toThrow('epoch must be an integer ≥ 0');
    expect(() => planEpoch(sizes, { worker: 4, workers: 5, partition: 'shard' }, 'split train')).toThrow(
      'split train: fewer non-empty shards than workers for partition by shard (expected ≥ 5 shards, got 4 shards)',
    );
    expect(() => planEpoch([0, 0], {}, 'split x')).toThrow(DataError);
  });
});
