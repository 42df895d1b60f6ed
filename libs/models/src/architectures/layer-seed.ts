/**
 * Per-layer seeds: each layer's random initial weights (and dropout masks)
 * depend only on the run seed and the layer's name, so adding or renaming one
 * layer never changes the weights of another.
 */
import { Rng } from '@ddinit/core';

/**
 * The tfjs seed of layer `layerName` in a run with seed `seed`:
 * `Rng.fromSeed(seed).derive(layerName).nextSeed()`, an integer in [0, 2^31).
 *
 * @example tf.initializers.heNormal({ seed: layerSeed(42, 'conv1') })
 */
export function layerSeed(seed: number, layerName: string): number {
  return Rng.fromSeed(seed).derive(layerName).nextSeed();
}
