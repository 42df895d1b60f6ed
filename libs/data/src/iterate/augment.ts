/**
 * Simple augmentation of byte batches: random crop (with optional zero
 * padding, as in the CIFAR recipe of He et al., 2016) and random horizontal
 * flip. Pure: returns a new batch and never modifies its input. Masks get the
 * same crop and flip as their image; padded mask pixels get `maskPadValue`.
 * Boxes move with their image, are clipped to the crop, and a box the crop
 * leaves no area of is dropped.
 */
import { ConfigError, Rng } from '@ddinit/core';
import type { Box } from '../format/example';
import type { UintBatch } from './uint-batch';

export interface AugmentOptions {
  /** Output size of a random crop; must fit in the (padded) input. */
  crop?: { height: number; width: number; padding?: number };
  /** Flip each example left–right with probability 1/2. */
  flip?: boolean;
  /** Value of padded mask pixels. Default 255 (PASCAL VOC's "void"). */
  maskPadValue?: number;
}

/**
 * @param rng the augmentation stream of this batch, e.g.
 *   `Rng.fromSeed(seed).derive('epoch-3').derive('augment').derive('batch-17')`.
 * @throws ConfigError when the crop does not fit.
 * @example
 * const out = augmentBatch(batch, { crop: { height: 24, width: 24 }, flip: true }, rng);
 */
export function augmentBatch(batch: UintBatch, options: AugmentOptions, rng: Rng): UintBatch {
  const { height: H, width: W, channels: C, size: N } = batch;
  const padding = options.crop?.padding ?? 0;
  const outH = options.crop?.height ?? H;
  const outW = options.crop?.width ?? W;
  if (!Number.isInteger(padding) || padding < 0) throw new ConfigError('crop padding must be an integer ≥ 0', { where: 'crop.padding', actual: padding });
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1 || outH > H + 2 * padding || outW > W + 2 * padding) {
    throw new ConfigError('crop does not fit in the padded image', {
      where: 'crop',
      expected: `1…${H + 2 * padding} × 1…${W + 2 * padding}`,
      actual: `${outH} × ${outW}`,
    });
  }
  const images = new Uint8Array(N * outH * outW * C);
  const sourceMasks = batch.masks;
  const masks = sourceMasks ? new Uint8Array(N * outH * outW).fill(options.maskPadValue ?? 255) : undefined;
  const boxes: Box[][] | undefined = batch.boxes ? [] : undefined;
  for (let n = 0; n < N; n++) {
    const top = options.crop ? rng.int(H + 2 * padding - outH + 1) - padding : 0;
    const left = options.crop ? rng.int(W + 2 * padding - outW + 1) - padding : 0;
    const flip = options.flip === true && rng.uniform() < 0.5;
    if (boxes && batch.boxes) boxes.push(moveBoxes(batch.boxes[n], { top, left, flip, height: outH, width: outW }));
    const src = n * H * W;
    const dst = n * outH * outW;
    for (let y = 0; y < outH; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= H) continue;
      for (let x = 0; x < outW; x++) {
        const sx = left + (flip ? outW - 1 - x : x);
        if (sx < 0 || sx >= W) continue;
        const s = src + sy * W + sx;
        const d = dst + y * outW + x;
        for (let c = 0; c < C; c++) images[d * C + c] = batch.images[s * C + c];
        if (masks && sourceMasks) masks[d] = sourceMasks[s];
      }
    }
  }
  return { ...batch, height: outH, width: outW, images, ...(masks ? { masks } : {}), ...(boxes ? { boxes } : {}), ids: [...batch.ids] };
}

/**
 * Boxes of an image after cropping the window at (top, left) of `height × width`
 * out of it and, with `flip`, mirroring the window: x ↦ width − (x − left).
 * Clipped to the window; boxes without area in it are left out.
 */
export function moveBoxes(boxes: readonly Box[], crop: { top: number; left: number; flip: boolean; height: number; width: number }): Box[] {
  const out: Box[] = [];
  for (const box of boxes) {
    let x0 = box.x0 - crop.left;
    let x1 = box.x1 - crop.left;
    if (crop.flip) [x0, x1] = [crop.width - x1, crop.width - x0];
    const moved = {
      ...box,
      x0: Math.max(0, x0),
      x1: Math.min(crop.width, x1),
      y0: Math.max(0, box.y0 - crop.top),
      y1: Math.min(crop.height, box.y1 - crop.top),
    };
    if (moved.x0 < moved.x1 && moved.y0 < moved.y1) out.push(moved);
  }
  return out;
}

/**
 * The central `height × width` crop (evaluation counterpart of a random crop).
 * @throws ConfigError when the crop is larger than the image.
 */
export function centerCropBatch(batch: UintBatch, height: number, width: number): UintBatch {
  if (height > batch.height || width > batch.width) {
    throw new ConfigError('center crop is larger than the image', {
      where: 'crop',
      expected: `≤ ${batch.height} × ${batch.width}`,
      actual: `${height} × ${width}`,
    });
  }
  const top = Math.floor((batch.height - height) / 2);
  const left = Math.floor((batch.width - width) / 2);
  const { channels: C, size: N, height: H, width: W } = batch;
  const images = new Uint8Array(N * height * width * C);
  const sourceMasks = batch.masks;
  const masks = sourceMasks ? new Uint8Array(N * height * width) : undefined;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < height; y++) {
      const s = (n * H + top + y) * W + left;
      const d = (n * height + y) * width;
      images.set(batch.images.subarray(s * C, (s + width) * C), d * C);
      if (masks && sourceMasks) masks.set(sourceMasks.subarray(s, s + width), d);
    }
  }
  const boxes = batch.boxes?.map((list) => moveBoxes(list, { top, left, flip: false, height, width }));
  return { ...batch, height, width, images, ...(masks ? { masks } : {}), ...(boxes ? { boxes } : {}), ids: [...batch.ids] };
}

/** The augmentation stream of batch `index` of an epoch: `seed → epoch-E → augment → batch-I`. */
export function augmentRng(seed: number, epoch: number, index: number): Rng {
  return Rng.fromSeed(seed).derive(`epoch-${epoch}`).derive('augment').derive(`batch-${index}`);
}
