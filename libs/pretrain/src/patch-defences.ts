/**
 * Defences against the shortcuts a network takes to solve a patch task without
 * learning about objects (Doersch et al. 2015, §3.1 and §4):
 * - colour: lenses focus colours at slightly different places (chromatic
 *   aberration), which tells where in the frame a patch was cut. `drop` keeps
 *   one random channel per patch (mean-subtracted) and replaces the others with
 *   Gaussian noise of that channel's standard deviation; `project` removes the
 *   green–magenta component, x ← x − (x·a)·a with a = (−1, 2, −1)/√6.
 * - resampling: a share of the patches is shrunk to a random side in
 *   [max(2, ⌈P/10⌉), P − 1] and enlarged back (bilinear), so that fine texture
 *   statistics alone do not match neighbours (the reference goes down to ~100 of 96² pixels).
 * - normalization: each patch to zero mean and unit standard deviation,
 *   (x − μ) / √(σ² + ε), so that brightness and contrast gradients across the image are no cue.
 * Applied in that order; on images with other than 3 channels the colour defence does nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, fillGaussian, type Rng } from '@ddinit/core';

export type ColourDefence = 'drop' | 'project' | 'none';

export interface PatchDefences {
  colour: ColourDefence;
  /** Share of the patches shrunk and enlarged back, in [0, 1]. */
  resampleShare: number;
  /** Normalize each patch to zero mean, unit standard deviation. */
  normalize: boolean;
}

const EPSILON = 1e-5;
const GREEN_MAGENTA = [-1 / Math.sqrt(6), 2 / Math.sqrt(6), -1 / Math.sqrt(6)];

/** @throws ConfigError naming the option for a colour or share out of range. */
export function checkDefences(d: PatchDefences, where: string): void {
  if (!['drop', 'project', 'none'].includes(d.colour)) {
    throw new ConfigError('unknown colour defence', { where: `${where}.colour`, expected: 'drop, project or none', actual: d.colour });
  }
  if (!(d.resampleShare >= 0 && d.resampleShare <= 1)) {
    throw new ConfigError('the resampled share is a fraction', { where: `${where}.resampleShare`, expected: 'a number in [0, 1]', actual: d.resampleShare });
  }
}

/** `patches` [m, P, P, C] with the defences applied (a new tensor; `patches` is not disposed). */
export function defendPatches(patches: tf.Tensor4D, d: PatchDefences, rng: Rng): tf.Tensor4D {
  return tf.tidy(() => {
    let x = patches;
    if (x.shape[3] === 3 && d.colour === 'drop') x = dropColours(x, rng);
    if (x.shape[3] === 3 && d.colour === 'project') x = projectColours(x);
    x = resampleShare(x, d.resampleShare, rng);
    if (d.normalize) x = normalizePatches(x);
    return x === patches ? tf.clone(x) : x;
  });
}

/**
 * One pass over the pixels: per patch, the kept channel centred on its mean, the others
 * N(0, σ²) noise with σ that channel's standard deviation (population, float64 sums). The
 * noise comes from core's ziggurat, one draw per replaced value: tfjs's randomNormal over
 * every value of the batch was half of a context batch's CPU time.
 */
function dropColours(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const [m, p, , channels] = x.shape;
  const kept = Array.from({ length: m }, () => rng.int(channels));
  const pixels = p * p;
  const values = x.dataSync() as Float32Array;
  const out = new Float32Array(values.length);
  const noise = fillGaussian(new Float32Array(m * pixels * (channels - 1)), rng);
  let drawn = 0;
  for (let i = 0; i < m; i++) {
    const start = i * pixels * channels;
    const k = kept[i];
    let sum = 0;
    for (let j = start + k; j < start + pixels * channels; j += channels) sum += values[j];
    const mean = sum / pixels;
    let squares = 0;
    for (let j = start + k; j < start + pixels * channels; j += channels) squares += (values[j] - mean) ** 2;
    const std = Math.sqrt(squares / pixels);
    for (let j = start; j < start + pixels * channels; j += channels) {
      for (let c = 0; c < channels; c++) out[j + c] = c === k ? values[j + c] - mean : noise[drawn++] * std;
    }
  }
  return tf.tensor4d(out, [m, p, p, channels]);
}

function projectColours(x: tf.Tensor4D): tf.Tensor4D {
  const axis = tf.tensor1d(GREEN_MAGENTA);
  const along = tf.sum(tf.mul(x, axis), 3, true);
  return tf.sub(x, tf.mul(along, axis)) as tf.Tensor4D;
}

/** round(share·m) patches drawn without replacement, each shrunk to its own random side and enlarged back. */
function resampleShare(x: tf.Tensor4D, share: number, rng: Rng): tf.Tensor4D {
  const [m, p] = x.shape;
  const smallest = Math.max(2, Math.ceil(p / 10));
  const count = Math.round(share * m);
  if (count === 0 || smallest > p - 1) return x;
  const bySide = new Map<number, number[]>();
  for (const i of rng.sampleWithoutReplacement(m, count)) {
    const side = smallest + rng.int(p - smallest);
    bySide.set(side, [...(bySide.get(side) ?? []), i]);
  }
  // One resize pair per side; then one gather puts every patch back in its place.
  const parts: tf.Tensor4D[] = [x];
  const source = Array.from({ length: m }, (_, i) => i);
  let offset = m;
  for (const [side, members] of bySide) {
    const group = tf.gather(x, tf.tensor1d(members, 'int32'));
    parts.push(tf.image.resizeBilinear(tf.image.resizeBilinear(group, [side, side], false, true), [p, p], false, true));
    members.forEach((i, j) => (source[i] = offset + j));
    offset += members.length;
  }
  return tf.gather(tf.concat(parts, 0), tf.tensor1d(source, 'int32'));
}

function normalizePatches(x: tf.Tensor4D): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [1, 2, 3], true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPSILON))) as tf.Tensor4D;
}
