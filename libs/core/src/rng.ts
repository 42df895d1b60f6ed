/**
 * Seeded, splittable random numbers.
 *
 * Every random function in ddinit takes an {@link Rng} (or a seed). A run has one
 * root seed; each layer, shard or worker gets its own stream with
 * `rng.derive('conv1')`, which depends only on the parent's seed and the name —
 * not on how many numbers the parent has drawn — so adding a layer never changes
 * the weights of another.
 *
 * The generator is xoshiro128** (Blackman & Vigna, 2018) seeded through
 * splitmix32; names are hashed with 32-bit FNV-1a mixed by murmur3's finalizer.
 *
 * @example
 * const rng = Rng.fromSeed(42);
 * const conv1 = rng.derive('conv1');
 * const x = conv1.normal();          // same value on every run with seed 42
 * const tfSeed = conv1.nextSeed();   // an integer seed for tf.randomNormal
 */

const UINT32 = 0x1_0000_0000;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** murmur3 fmix32: a bijective avalanche of a 32-bit integer. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(text: string, basis: number): number {
  let h = (0x811c9dc5 ^ basis) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  return mix32(state.s);
}

function checkSeed(seed: number): number {
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new RangeError(`seed must be a finite integer, got ${seed}`);
  }
  return seed >>> 0;
}

export class Rng {
  /** Identity of this stream: derived streams hash it with their name. */
  readonly key: readonly [number, number];
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  private constructor(key: readonly [number, number]) {
    this.key = key;
    const state = { s: (key[0] ^ rotl(key[1], 13)) >>> 0 };
    this.s0 = splitmix32(state);
    this.s1 = splitmix32(state) ^ key[1];
    this.s2 = splitmix32(state);
    this.s3 = splitmix32(state);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1;
  }

  /** A root stream for a run seed (any integer; negative seeds are taken modulo 2^32). */
  static fromSeed(seed: number): Rng {
    const s = checkSeed(seed);
    return new Rng([mix32(s ^ 0x5bd1e995), mix32(s + 0x27d4eb2f)]);
  }

  /**
   * An independent stream for `name` (a layer name, `shard-3`, `epoch-2`, …).
   * Depends only on this stream's seed and the name, never on draws made so far.
   */
  derive(name: string): Rng {
    return new Rng([hashString(name, this.key[0]), hashString(name, this.key[1] ^ 0x9e3779b9)]);
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). Unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > UINT32) {
      throw new RangeError(`int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    const limit = UINT32 - (UINT32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal N(0, 1) by the Box–Muller transform. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with N(mean, std²) draws and returns it. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A non-negative integer seed (< 2^31) for tfjs random ops, drawn from this stream. */
  nextSeed(): number {
    return this.nextUint32() >>> 1;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  shuffle<T extends Int32Array | Uint32Array | Float32Array>(items: T): T;
  shuffle<T>(items: T[] | Int32Array | Uint32Array | Float32Array): typeof items {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * `k` distinct integers from [0, n), in increasing order (Floyd's algorithm:
   * O(k) memory, whatever n is).
   */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`sampleWithoutReplacement needs 0 ≤ k ≤ n, got n=${n}, k=${k}`);
    }
    const chosen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const t = this.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return Int32Array.from(chosen).sort();
  }
}
