/**
 * Which examples one worker reads in one epoch, and in which order.
 *
 * Shuffling is deterministic per (seed, epoch): the shard order is a
 * permutation drawn from `Rng.fromSeed(seed).derive('epoch-E').derive('shards')`,
 * and the rows of shard `s` are permuted by `….derive('shard-s')`. Examples of a
 * shard stay together (a shard is read once per epoch), which keeps reads
 * sequential and memory at about one shard.
 *
 * Worker partitioning (Kubernetes Indexed Jobs: worker = JOB_COMPLETION_INDEX,
 * workers = completions) makes the workers' subsets disjoint and their union
 * the whole split:
 * - `example` (default): the epoch's sequence of examples is dealt round-robin,
 *   position p going to worker p mod N; subsets differ in size by at most one;
 *   every worker reads every shard.
 * - `shard`: shards are dealt round-robin in the epoch's shard order; each
 *   worker reads only its own shards (needs at least N non-empty shards).
 */
import { ConfigError, DataError, Rng } from '@ddinit/core';

export interface EpochOptions {
  /** Run seed. Default 0. */
  seed?: number;
  /** Epoch number (≥ 0): a different shuffle per epoch. Default 0. */
  epoch?: number;
  /** Shuffle shards and rows. Default true. */
  shuffle?: boolean;
  /** This worker's index, 0 ≤ worker < workers. Default 0. */
  worker?: number;
  /** Number of workers. Default 1. */
  workers?: number;
  /** How the split is divided among workers. Default `example`. */
  partition?: 'example' | 'shard';
}

export interface PlannedShard {
  /** Index of the shard in the split's shard list. */
  shard: number;
  /** Rows of the shard this worker takes, in the order to emit them. */
  rows: Int32Array;
}

function range(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Checks worker options; a bad value is a ConfigError listing what is allowed. */
export function checkWorkerOptions(options: EpochOptions): { worker: number; workers: number } {
  const workers = options.workers ?? 1;
  const worker = options.worker ?? 0;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new ConfigError('workers must be an integer ≥ 1', { where: 'workers', actual: workers });
  }
  if (!Number.isInteger(worker) || worker < 0 || worker >= workers) {
    throw new ConfigError('worker must be an integer in [0, workers)', { where: 'worker', expected: `0…${workers - 1}`, actual: worker });
  }
  const partition = options.partition ?? 'example';
  if (partition !== 'example' && partition !== 'shard') {
    throw new ConfigError('unknown partition', { where: 'partition', expected: "'example' or 'shard'", actual: partition });
  }
  const epoch = options.epoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw new ConfigError('epoch must be an integer ≥ 0', { where: 'epoch', actual: epoch });
  return { worker, workers };
}

/**
 * @param shardSizes example count of each shard of the split.
 * @param where the split, for messages.
 * @throws DataError when this worker gets no example (never an empty epoch).
 * @example
 * planEpoch([1000, 1000, 500], { seed: 7, epoch: 2, worker: 1, workers: 4 });
 */
export function planEpoch(shardSizes: readonly number[], options: EpochOptions = {}, where = 'split'): PlannedShard[] {
  const { worker, workers } = checkWorkerOptions(options);
  const shuffle = options.shuffle ?? true;
  const partition = options.partition ?? 'example';
  const rng = Rng.fromSeed(options.seed ?? 0).derive(`epoch-${options.epoch ?? 0}`);
  const nonEmpty = shardSizes.map((_, i) => i).filter((i) => shardSizes[i] > 0);
  const order = shuffle ? Array.from(rng.derive('shards').permutation(nonEmpty.length), (i) => nonEmpty[i]) : nonEmpty;
  const rowsOf = (shard: number): Int32Array => (shuffle ? rng.derive(`shard-${shard}`).permutation(shardSizes[shard]) : range(shardSizes[shard]));

  const plan: PlannedShard[] = [];
  if (partition === 'shard') {
    if (order.length < workers) {
      throw new DataError('fewer non-empty shards than workers for partition by shard', {
        where,
        expected: `≥ ${workers} shards`,
        actual: `${order.length} shards`,
      });
    }
    order.forEach((shard, position) => {
      if (position % workers === worker) plan.push({ shard, rows: rowsOf(shard) });
    });
  } else {
    let position = 0;
    for (const shard of order) {
      const rows = rowsOf(shard);
      // Positions position … position+n−1; this worker's are those ≡ worker (mod workers).
      const first = (((worker - position) % workers) + workers) % workers;
      const mine = new Int32Array(first >= rows.length ? 0 : Math.ceil((rows.length - first) / workers));
      for (let i = 0, r = first; r < rows.length; i++, r += workers) mine[i] = rows[r];
      position += rows.length;
      if (mine.length > 0) plan.push({ shard, rows: mine });
    }
  }
  if (plan.length === 0) {
    throw new DataError('no examples for this worker', { where, expected: `≥ 1 example for worker ${worker} of ${workers}`, actual: 0 });
  }
  return plan;
}
