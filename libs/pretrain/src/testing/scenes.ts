/**
 * Images for the pretext specs: one whose pixels encode where they are (so a
 * patch's origin can be read back from it), and scenes whose structure gives
 * away where a patch was cut — a task whose labels match its patches can learn
 * them well above chance, one whose labels are mixed up cannot.
 */
import * as tf from '@tensorflow/tfjs';

/** [n, h, w, 1] with pixel (b, y, x) = (b·h + y)·w + x: exact in float32 for up to 2^24 pixels. */
export function coordinateImages(n: number, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.range(0, n * height * width, 1, 'float32'), [n, height, width, 1]) as tf.Tensor4D);
}

/** The (image, y, x) a pixel value of `coordinateImages` encodes. */
export function decodeCoordinate(value: number, height: number, width: number): { image: number; y: number; x: number } {
  const v = Math.round(value);
  return { image: Math.floor(v / (height * width)), y: Math.floor(v / width) % height, x: v % width };
}

/**
 * [n, side, side, channels] blobs: exp(−r² / 2σ²) around a point drawn near the
 * image centre (±side/16), σ = side/4, every channel scaled by its own
 * brightness in [0.5, 1.5], plus uniform noise of amplitude 0.1. Which side of
 * the blob a patch shows tells where it was cut.
 */
export function blobScenes(n: number, side: number, channels: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const centre = tf.randomUniform([n, 1, 1, 2], side / 2 - side / 16, side / 2 + side / 16, 'float32', seed);
    const ys = tf.reshape(tf.range(0, side, 1, 'float32'), [1, side, 1]);
    const xs = tf.reshape(tf.range(0, side, 1, 'float32'), [1, 1, side]);
    const [cy, cx] = tf.split(tf.reshape(centre, [n, 1, 1, 2]), 2, 3).map((t) => tf.reshape(t, [n, 1, 1]));
    const r2 = tf.add(tf.square(tf.sub(ys, cy)), tf.square(tf.sub(xs, cx)));
    const sigma = side / 4;
    const blob = tf.expandDims(tf.exp(tf.div(r2, -2 * sigma * sigma)), 3);
    const brightness = tf.randomUniform([n, 1, 1, channels], 0.5, 1.5, 'float32', seed + 1);
    const noise = tf.randomUniform([n, side, side, channels], -0.1, 0.1, 'float32', seed + 2);
    return tf.add(tf.mul(blob, brightness), noise) as tf.Tensor4D;
  });
}
