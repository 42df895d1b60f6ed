/**
 * The 3×3 grid of square patches that context prediction and jigsaw cut from an
 * image: patches of P px, G px apart, the grid placed at a random offset, each
 * patch moved by its own random jitter of up to ±J px per axis (so no two
 * patches line up exactly and low-level continuity across the gap is no cue).
 *
 * Cell (r, c), r, c ∈ {0, 1, 2}, reading order k = 3r + c, has its top-left at
 *   top  = oy + r·(P + G) + jy,   left = ox + c·(P + G) + jx,
 *   oy ∈ [J, H − S − J], ox ∈ [J, W − S − J], jy, jx ∈ [−J, J] (uniform integers),
 * with S = 3P + 2G the grid's side; the image must hold S + 2J px per axis.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError, type Rng } from '@ddinit/core';

export interface GridGeometry {
  /** Side of a patch, px. */
  patch: number;
  /** Space between neighbouring patches, px. */
  gap: number;
  /** Largest random shift of a patch per axis, px. */
  jitter: number;
}

/** Doersch, Gupta & Efros (ICCV 2015): 96-px patches, 48-px gaps, ±7 px jitter. */
export const CONTEXT_REFERENCE_GEOMETRY: Readonly<GridGeometry> = { patch: 96, gap: 48, jitter: 7 };

/**
 * Noroozi & Favaro (ECCV 2016) cut a 64-px tile anywhere in each 75-px cell of
 * a 225-px crop; centred 64-px tiles 11 px apart with ±5 px jitter span the same 224 px.
 */
export const JIGSAW_REFERENCE_GEOMETRY: Readonly<GridGeometry> = { patch: 64, gap: 11, jitter: 5 };

/** Patches in the grid. */
export const GRID_CELLS = 9;
/** Index of the centre cell in reading order. */
export const CENTRE_CELL = 4;

/** Pixels the grid needs per axis: 3P + 2G + 2J. */
export function gridExtent(g: GridGeometry): number {
  return 3 * g.patch + 2 * g.gap + 2 * g.jitter;
}

/**
 * The reference geometry when it fits a `side`-px image, else the reference
 * scaled down by s = side / (3P₀ + 2G₀ + 2J₀): P = ⌊s·P₀⌋, then G = round(P·G₀/P₀)
 * and J = max(1, round(P·J₀/P₀)) (the reference proportions, with at least a
 * pixel of jitter), P lowered until the grid fits. A 32-px image gets 7/4/1 for
 * context prediction and 8/1/1 for jigsaw; a 28-px image 6/3/1 and 8/1/1.
 * @throws ConfigError when not even 1-px patches fit.
 */
export function defaultGeometry(reference: Readonly<GridGeometry>, side: number): GridGeometry {
  if (gridExtent(reference) <= side) return { ...reference };
  const scaled = (patch: number): GridGeometry => ({
    patch,
    gap: Math.round((patch * reference.gap) / reference.patch),
    jitter: Math.max(1, Math.round((patch * reference.jitter) / reference.patch)),
  });
  for (let patch = Math.floor((side * reference.patch) / gridExtent(reference)); patch >= 1; patch--) {
    if (gridExtent(scaled(patch)) <= side) return scaled(patch);
  }
  throw new ConfigError('the image is too small for a 3×3 grid of patches', {
    where: 'patch geometry',
    expected: `at least ${gridExtent(scaled(1))} px per side`,
    actual: `${side} px`,
  });
}

/**
 * @throws ConfigError naming the sizes when the grid does not fit an `height`×`width` image,
 *   or a size is not a whole number (patch ≥ 1, gap and jitter ≥ 0).
 */
export function checkGeometry(g: GridGeometry, height: number, width: number, where: string): void {
  const whole = Number.isInteger(g.patch) && g.patch >= 1 && Number.isInteger(g.gap) && g.gap >= 0 && Number.isInteger(g.jitter) && g.jitter >= 0;
  if (!whole) {
    throw new ConfigError('patch, gap and jitter are whole pixels', {
      where,
      expected: 'patch ≥ 1, gap ≥ 0, jitter ≥ 0 (integers)',
      actual: `patch ${g.patch}, gap ${g.gap}, jitter ${g.jitter}`,
    });
  }
  const extent = gridExtent(g);
  if (extent > Math.min(height, width)) {
    throw new ConfigError('the patch grid does not fit the images', {
      where,
      expected: `3·patch + 2·gap + 2·jitter = 3·${g.patch} + 2·${g.gap} + 2·${g.jitter} = ${extent} px ≤ the image side`,
      actual: `${height}×${width} images`,
    });
  }
}

/** Top-left corners [top, left] of the 9 patches of one draw, in reading order (see the file doc). */
export function sampleGrid(g: GridGeometry, height: number, width: number, rng: Rng): [number, number][] {
  const span = 3 * g.patch + 2 * g.gap;
  const oy = g.jitter + rng.int(height - span - 2 * g.jitter + 1);
  const ox = g.jitter + rng.int(width - span - 2 * g.jitter + 1);
  const shift = () => rng.int(2 * g.jitter + 1) - g.jitter;
  return Array.from({ length: GRID_CELLS }, (_, k) => {
    const r = Math.floor(k / 3);
    const c = k % 3;
    return [oy + r * (g.patch + g.gap) + shift(), ox + c * (g.patch + g.gap) + shift()];
  });
}

/**
 * The `patch`-px squares at `corners[i]` of image `imageOf[i]`: [corners.length, P, P, C],
 * copied exactly (one gather over the flattened pixels, no resampling).
 */
export function cutPatches(images: tf.Tensor4D, imageOf: readonly number[], corners: readonly [number, number][], patch: number): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  const index = new Int32Array(corners.length * patch * patch);
  let at = 0;
  corners.forEach(([top, left], i) => {
    const image = imageOf[i];
    if (image < 0 || image >= n || top < 0 || left < 0 || top + patch > height || left + patch > width) {
      throw new ShapeError('a patch falls outside the images', {
        where: `patch ${i}`,
        expected: `inside ${n} images of ${height}×${width}`,
        actual: `image ${image} at ${top},${left}`,
      });
    }
    for (let y = 0; y < patch; y++) {
      const row = (image * height + top + y) * width + left;
      for (let x = 0; x < patch; x++) index[at++] = row + x;
    }
  });
  return tf.tidy(() => {
    const pixels = tf.reshape(images, [n * height * width, channels]);
    return tf.reshape(tf.gather(pixels, tf.tensor1d(index, 'int32')), [corners.length, patch, patch, channels]) as tf.Tensor4D;
  });
}
