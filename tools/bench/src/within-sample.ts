/** The within-layer benchmarks' sample: random crops of the @ddinit/data photo corpus. */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
import { loadNaturalPhotos } from '@ddinit/data';

/** `count` random size×size crops of the photo corpus (downscaled to `maxSide`), [count, size, size, channels], values/255 − 0.5. */
export async function photoCrops(count: number, size: number, channels: 1 | 3, maxSide: number, seed: number): Promise<tf.Tensor4D> {
  const photos = await loadNaturalPhotos({ channels, maxSide });
  const rng = Rng.fromSeed(seed).derive(`crops-${size}`);
  const out = new Float32Array(count * size * size * channels);
  for (let k = 0; k < count; k++) {
    const photo = photos[rng.int(photos.length)];
    const top = rng.int(photo.height - size + 1);
    const left = rng.int(photo.width - size + 1);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < channels; c++) {
          out[((k * size + y) * size + x) * channels + c] = photo.data[((top + y) * photo.width + left + x) * photo.channels + c] / 255 - 0.5;
        }
      }
    }
  }
  return tf.tensor4d(out, [count, size, size, channels]);
}
