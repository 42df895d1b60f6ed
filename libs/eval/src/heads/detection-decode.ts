/**
 * From the detection head's output to scored boxes: per cell, channel 0 the
 * objectness logit o, channels 1–4 the box (t_x, t_y logits of the centre's
 * offset in the cell, t_w, t_h log sizes in cells, detection-targets.ts), then
 * one logit z_c per class. A cell's score for class c is
 *
 *   score_c = σ(o) · softmax(z)_c,
 *
 * kept when ≥ `scoreThreshold`; per class, greedy non-maximum suppression at
 * `nmsIoU`; then the `maxPerImage` highest over all classes.
 */
import { boxIoU, type PixelBox, type ScoredBox } from '../metrics/box-average-precision';
import { decodeBox, type DetectionGrid } from './detection-targets';

/** Channels per cell: objectness, 4 box values, then the class logits. */
export const detectionChannels = (classes: number): number => 5 + classes;

export interface DecodeOptions {
  /** Least score of a detection. Default 0.05 (low, so the ranking AP needs reaches far into recall). */
  scoreThreshold?: number;
  /** IoU above which NMS drops the lower-scored box of a class. Default 0.5. */
  nmsIoU?: number;
  /** Detections kept per image, highest scores first. Default 100. */
  maxPerImage?: number;
}

export const DECODE_DEFAULTS = { scoreThreshold: 0.05, nmsIoU: 0.5, maxPerImage: 100 } as const;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Greedy NMS: boxes by decreasing score (ties: lower index first); a box is kept unless
 * its IoU with a kept box exceeds `iouThreshold`; at most `maxOutput` kept.
 * @returns indices of the kept boxes, highest score first.
 */
export function nonMaxSuppression(boxes: readonly PixelBox[], scores: ArrayLike<number>, iouThreshold: number, maxOutput = Infinity): number[] {
  const order = Array.from(boxes, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxOutput) break;
    if (kept.every((k) => boxIoU(boxes[k], boxes[i]) <= iouThreshold)) kept.push(i);
  }
  return kept;
}

/**
 * The detections of one image.
 * @param output the head's output for the image, `[rows · cols · (5 + classes)]` row-major (cell by cell).
 */
export function decodeDetections(output: ArrayLike<number>, grid: DetectionGrid, classes: number, options: DecodeOptions = {}): ScoredBox[] {
  const { scoreThreshold, nmsIoU, maxPerImage } = { ...DECODE_DEFAULTS, ...options };
  const channels = detectionChannels(classes);
  const byClass: ScoredBox[][] = Array.from({ length: classes }, () => []);
  const probabilities = new Float64Array(classes);
  for (let cell = 0; cell < grid.rows * grid.cols; cell++) {
    const at = cell * channels;
    const objectness = sigmoid(output[at]);
    if (objectness < scoreThreshold) continue; // score_c ≤ σ(o)
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, output[at + 5 + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += probabilities[c] = Math.exp(output[at + 5 + c] - max);
    const t = [sigmoid(output[at + 1]), sigmoid(output[at + 2]), output[at + 3], output[at + 4]];
    if (!t.every((v) => !Number.isNaN(v))) continue; // a diverged cell has no box (and would fail the metric's checks)
    const box = decodeBox(Math.floor(cell / grid.cols), cell % grid.cols, t, grid);
    for (let c = 0; c < classes; c++) {
      const score = (objectness * probabilities[c]) / sum;
      if (score >= scoreThreshold) byClass[c].push({ class: c, score, ...box });
    }
  }
  const kept = byClass.flatMap((candidates) =>
    nonMaxSuppression(
      candidates,
      candidates.map((d) => d.score),
      nmsIoU,
    ).map((i) => candidates[i]),
  );
  return kept.sort((a, b) => b.score - a.score).slice(0, maxPerImage);
}
