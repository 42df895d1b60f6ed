/**
 * Composed scenes for the detection specs, made in memory with @ddinit/data's
 * `composeScene` from the embedded Fashion-MNIST sample (the scenes
 * `composeScenes` would write with the same seed and parameters, without the
 * shards): items at random positions and scales on a textured background, a
 * box per item, class 0 the background, source class k as k + 1.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
// eslint-disable-next-line @nx/enforce-module-boundaries -- spec data only: a stage library's specs may compose scenes from the embedded sample (devDependency)
import { COMPOSE_DEFAULTS, composeScene, type SceneParameters } from '@ddinit/data';
import type { HeadBatch, HeadBox } from '../heads/downstream-head';
import { fashionMnistSample } from './fashion-mnist-sample';

/** Background + the 10 Fashion-MNIST classes. */
export const SCENE_CLASSES = 11;

export interface SceneSet {
  /** `count · side²` grey bytes. */
  images: Uint8Array;
  boxes: HeadBox[][];
  count: number;
  side: number;
}

/** `count` scenes of `side` px with 1…`maxItems` items, from the sample's `split`, drawn as `composeScenes` with `seed` would. */
export async function composedSceneSet(split: 'train' | 'test', count: number, seed: number, side = 64, maxItems = 3): Promise<SceneSet> {
  const sample = await fashionMnistSample(split);
  const items = { count: sample.examples, height: 28, width: 28, images: sample.images, labels: sample.labels };
  const params: SceneParameters = { ...COMPOSE_DEFAULTS, height: side, width: side, maxItems, scale: { ...COMPOSE_DEFAULTS.scale } };
  const rng = Rng.fromSeed(seed).derive(split);
  const images = new Uint8Array(count * side * side);
  const boxes: HeadBox[][] = [];
  for (let i = 0; i < count; i++) {
    const scene = composeScene(items, params, rng.derive(`scene-${i}`));
    images.set(scene.image, i * side * side);
    boxes.push(scene.boxes.map((b) => ({ ...b })));
  }
  return { images, boxes, count, side };
}

/** Scenes `from … from + n` (wrapping around) as a head batch, pixels scaled to [0, 1]. */
export function sceneBatch(set: SceneSet, from: number, n: number): HeadBatch {
  const area = set.side * set.side;
  const pixels = new Float32Array(n * area);
  const boxes: HeadBox[][] = [];
  for (let i = 0; i < n; i++) {
    const k = (from + i) % set.count;
    for (let p = 0; p < area; p++) pixels[i * area + p] = set.images[k * area + p] / 255;
    boxes.push(set.boxes[k].map((b) => ({ ...b })));
  }
  return { images: tf.tensor4d(pixels, [n, set.side, set.side, 1]), boxes };
}
