/**
 * One composed scene: a few single-channel items (Fashion-MNIST: bright
 * objects on black) pasted at random positions and scales onto a textured
 * background, with the labels of VOC's three tasks — the classes present
 * (multi-hot), a class per pixel, and a box per item.
 *
 * Conventions (docs/shard-format.md, "Composed scenes"):
 * - class 0 is the background; source class k is class k + 1;
 * - an item's resampled pixel v is solid where v ≥ `solidLevel` and blended
 *   with the background by α = v / solidLevel below it (0 < v < solidLevel): the
 *   mask holds the class on solid pixels, 255 ("void", ignored by mIoU) on blended
 *   ones, and the background class where no item is;
 * - items do not overlap: their pasted squares keep at least `gap` pixels apart,
 *   so no item hides another and each box holds exactly one item;
 * - an item's box is the tight box of its solid pixels, in pixels, x0 ≤ x < x1.
 */
import type { Rng } from '@ddinit/core';
import type { Box } from '../format/example';
import { resizeBilinear, textureBackground } from './scene-painting';

/** Source items: `count` single-channel `height × width` images and their classes (0-based). */
export interface SceneItems {
  count: number;
  height: number;
  width: number;
  images: Uint8Array;
  labels: Int32Array;
}

export interface SceneParameters {
  /** Canvas size in pixels. */
  height: number;
  width: number;
  /** Items per scene are drawn uniformly from 1…maxItems. */
  maxItems: number;
  /** An item's scale (pasted side / source side) is drawn uniformly from [min, max]. */
  scale: { min: number; max: number };
  /** Resampled item pixels at or above this are solid (the item's class in the mask). */
  solidLevel: number;
  /** Least distance in pixels between two items' pasted squares. */
  gap: number;
  /** Draws of scale, position and item per item before it is left out. */
  placementTries: number;
}

export interface Scene {
  /** `height·width` grey bytes. */
  image: Uint8Array;
  /** `height·width` class indices: 0 background, k + 1 for source class k, 255 void. */
  mask: Uint8Array;
  boxes: Box[];
  /** Sorted classes present (the boxes' classes). */
  label: number[];
}

interface Placement {
  x: number;
  y: number;
  h: number;
  w: number;
}

/** The void mask value: blended borders, which mIoU ignores. */
export const SCENE_VOID = 255;

function overlaps(a: Placement, b: Placement, gap: number): boolean {
  return a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;
}

/**
 * Draws one scene from `rng` (the same stream gives the same scene).
 * The count n ~ U{1…maxItems} is drawn first; an item that finds no free place
 * with a solid pixel within `placementTries` draws is left out, so a scene may
 * hold fewer than n items (none only if every draw for the first item, on the empty
 * canvas, picks an item without a solid pixel at its scale).
 */
export function composeScene(items: SceneItems, p: SceneParameters, rng: Rng): Scene {
  const background = textureBackground(rng.derive('background'), p.height, p.width);
  const canvas = Float64Array.from(background);
  const mask = new Uint8Array(p.height * p.width);
  const placed: Placement[] = [];
  const boxes: Box[] = [];
  const draw = rng.derive('items');
  const n = 1 + draw.int(p.maxItems);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < p.placementTries; t++) {
      const s = p.scale.min + (p.scale.max - p.scale.min) * draw.uniform();
      const h = Math.max(1, Math.round(items.height * s));
      const w = Math.max(1, Math.round(items.width * s));
      const item = draw.int(items.count);
      if (h > p.height || w > p.width) continue;
      const at = { x: draw.int(p.width - w + 1), y: draw.int(p.height - h + 1), h, w };
      if (placed.some((other) => overlaps(at, other, p.gap))) continue;
      const pixels = resizeBilinear(
        items.images.subarray(item * items.height * items.width, (item + 1) * items.height * items.width),
        items.height,
        items.width,
        h,
        w,
      );
      const box = paste(canvas, mask, p, pixels, at, items.labels[item] + 1);
      if (box === undefined) continue;
      placed.push(at);
      boxes.push(box);
      break;
    }
  }
  const image = new Uint8Array(canvas.length);
  for (let i = 0; i < canvas.length; i++) image[i] = Math.min(255, Math.max(0, Math.round(canvas[i])));
  const label = [...new Set(boxes.map((b) => b.class))].sort((a, b) => a - b);
  return { image, mask, boxes, label };
}

/**
 * Pastes resampled item pixels at `at`: solid pixels replace the background and
 * take class `cls` in the mask; fainter ones blend (α = v / solidLevel) and are void.
 * @returns the tight box of the solid pixels, or undefined (nothing pasted) when there are none.
 */
function paste(canvas: Float64Array, mask: Uint8Array, p: SceneParameters, pixels: Uint8Array, at: Placement, cls: number): Box | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < at.h; y++) {
    for (let x = 0; x < at.w; x++) {
      if (pixels[y * at.w + x] < p.solidLevel) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
    }
  }
  if (x0 === Infinity) return undefined;
  for (let y = 0; y < at.h; y++) {
    for (let x = 0; x < at.w; x++) {
      const v = pixels[y * at.w + x];
      if (v === 0) continue;
      const q = (at.y + y) * p.width + at.x + x;
      const alpha = Math.min(1, v / p.solidLevel);
      canvas[q] = alpha * v + (1 - alpha) * canvas[q];
      mask[q] = v >= p.solidLevel ? cls : SCENE_VOID;
    }
  }
  return { class: cls, x0: at.x + x0, y0: at.y + y0, x1: at.x + x1, y1: at.y + y1 };
}
