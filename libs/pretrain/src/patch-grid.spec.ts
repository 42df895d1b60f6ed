import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_REFERENCE_GEOMETRY, JIGSAW_REFERENCE_GEOMETRY, checkGeometry, cutPatches, defaultGeometry, gridExtent, sampleGrid } from './patch-grid';
import { coordinateImages, decodeCoordinate } from './testing/scenes';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the patch grid', () => {
  it('keeps the reference geometry when it fits and scales it by the documented rule otherwise', () => {
    expect(gridExtent(CONTEXT_REFERENCE_GEOMETRY)).toBe(398);
    expect(gridExtent(JIGSAW_REFERENCE_GEOMETRY)).toBe(224);
    expect(defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, 400)).toEqual({ patch: 96, gap: 48, jitter: 7 });
    expect(defaultGeometry(JIGSAW_REFERENCE_GEOMETRY, 224)).toEqual({ patch: 64, gap: 11, jitter: 5 });
    expect(defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, 32)).toEqual({ patch: 7, gap: 4, jitter: 1 });
    expect(defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, 28)).toEqual({ patch: 6, gap: 3, jitter: 1 });
    expect(defaultGeometry(JIGSAW_REFERENCE_GEOMETRY, 32)).toEqual({ patch: 8, gap: 1, jitter: 1 });
    expect(defaultGeometry(JIGSAW_REFERENCE_GEOMETRY, 28)).toEqual({ patch: 8, gap: 1, jitter: 1 });
    // Half the reference side: 48/24/4 would need 200 px, so P drops to 47 (G = round(23.5), J = round(3.4)).
    expect(defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, 199)).toEqual({ patch: 47, gap: 24, jitter: 3 });
    for (const reference of [CONTEXT_REFERENCE_GEOMETRY, JIGSAW_REFERENCE_GEOMETRY]) {
      for (let side = 7; side < 400; side++) {
        const g = defaultGeometry(reference, side);
        expect(gridExtent(g)).toBeLessThanOrEqual(side);
        expect(g.jitter).toBeGreaterThanOrEqual(1);
      }
    }
    expect(() => defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, 6)).toThrow(
      /patch geometry: the image is too small for a 3×3 grid of patches \(expected at least 7 px per side, got 6 px\)/,
    );
  });

  it('refuses a grid that does not fit, naming the sizes', () => {
    const g = { patch: 10, gap: 4, jitter: 1 };
    expect(() => checkGeometry(g, 32, 40, 'context prediction')).toThrow(ConfigError);
    expect(() => checkGeometry(g, 32, 40, 'context prediction')).toThrow(
      'context prediction: the patch grid does not fit the images (expected 3·patch + 2·gap + 2·jitter = 3·10 + 2·4 + 2·1 = 40 px ≤ the image side, got 32×40 images)',
    );
    expect(() => checkGeometry(g, 40, 40, 'context prediction')).not.toThrow();
    expect(() => checkGeometry({ patch: 2.5, gap: 1, jitter: 1 }, 40, 40, 'jigsaw')).toThrow(/jigsaw: patch, gap and jitter are whole pixels/);
  });

  it('places 9 patches in reading order, P + G apart up to the jitter, every offset and jitter reachable', () => {
    const g = { patch: 5, gap: 3, jitter: 2 };
    const rng = Rng.fromSeed(7);
    const jitters = new Set<number>();
    const centres = { top: new Set<number>(), left: new Set<number>() };
    for (let draw = 0; draw < 400; draw++) {
      const corners = sampleGrid(g, 30, 33, rng);
      // The jitter of the top-left patch is unknown, but every patch lies within ±J of its cell on the grid through the offset.
      const minTop = Math.min(...corners.map(([t]) => t));
      const minLeft = Math.min(...corners.map(([, l]) => l));
      corners.forEach(([top, left], k) => {
        expect(top).toBeGreaterThanOrEqual(0);
        expect(left).toBeGreaterThanOrEqual(0);
        expect(top + g.patch).toBeLessThanOrEqual(30);
        expect(left + g.patch).toBeLessThanOrEqual(33);
        const dy = top - minTop - Math.floor(k / 3) * (g.patch + g.gap);
        const dx = left - minLeft - (k % 3) * (g.patch + g.gap);
        expect(dy).toBeGreaterThanOrEqual(-2 * g.jitter);
        expect(dy).toBeLessThanOrEqual(2 * g.jitter);
        expect(dx).toBeLessThanOrEqual(2 * g.jitter);
        jitters.add(corners[4][0] - corners[1][0] - (g.patch + g.gap)); // jitter difference of two patches in [−2J, 2J]
      });
      centres.top.add(corners[4][0]);
      centres.left.add(corners[4][1]);
    }
    expect([...jitters].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    // Offsets oy ∈ [J, H − S − J] = [2, 7], ox ∈ [2, 10] (S = 21); the centre patch at offset + 8 ± 2.
    expect([Math.min(...centres.top), Math.max(...centres.top)]).toEqual([8, 17]);
    expect([Math.min(...centres.left), Math.max(...centres.left)]).toEqual([8, 20]);
  });

  it('cuts patches exactly: each pixel of a patch is its image pixel at origin + offset', () => {
    const images = coordinateImages(3, 12, 10);
    const corners: [number, number][] = [
      [0, 0],
      [7, 5],
      [3, 2],
    ];
    const patches = cutPatches(images, [2, 0, 1], corners, 5);
    const values = patches.dataSync();
    expect(patches.shape).toEqual([3, 5, 5, 1]);
    corners.forEach(([top, left], i) => {
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 5; x++) expect(decodeCoordinate(values[(i * 5 + y) * 5 + x], 12, 10)).toEqual({ image: [2, 0, 1][i], y: top + y, x: left + x });
      }
    });
    expect(() => cutPatches(images, [0], [[8, 0]], 5)).toThrow(/patch 0: a patch falls outside the images/);
    tf.dispose([images, patches]);
  });
});
