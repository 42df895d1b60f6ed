/**
 * Patch vectors from a layer's actual input, with its stride, padding and dilation
 * (docs/method.md#patches): an im2col of only the sampled output positions,
 * subsampled with a seeded RNG under a memory cap.
 *
 * For a convolution with kernel kh×kw, strides (s_h, s_w), dilation (d_h, d_w),
 * explicit paddings (top, left) and `groups` channel groups of cg = cin/groups channels,
 * the patch of output position (b, oy, ox) in group g is the vector of length
 * F = kh·kw·cg whose element (i·kw + j)·cg + c is
 *   x[b, oy·s_h + i·d_h − top, ox·s_w + j·d_w − left, g·cg + c]   (0 outside the image),
 * the element order of `kernelToFilterRows` (@ddinit/models), so that a filter row f
 * gives the layer's pre-activation f·patch + bias. A dense layer is the 1×1 case on
 * the flattened input (F = input units). A depthwise convolution has one group per
 * input channel (cg = 1, F = kh·kw).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, gatherPatchRows, ShapeError, type PatchWindow, type Rng } from '@ddinit/core';

/** Where patches are read from, in numbers: @ddinit/core's window without the output size (the caller's). */
export type PatchGeometry = Omit<PatchWindow, 'outputSize'>;

/** The geometry of a dense layer: 1×1, one group (the input is viewed as [P, 1, 1, units]). */
export const DENSE_GEOMETRY: PatchGeometry = { kernelSize: [1, 1], strides: [1, 1], dilation: [1, 1], padTop: 0, padLeft: 0, groups: 1 };

export interface PatchSamplingOptions {
  /** Draws the sampled positions. */
  rng: Rng;
  /** Rows per group at most. */
  maxRows: number;
  /** Bytes of all groups' rows at most (float32). */
  maxBytes: number;
  /** Names the layer in errors, e.g. `layer conv2`. */
  where: string;
}

export interface GatheredPatches {
  /** One [rows, F] matrix per group; the caller owns and disposes them. */
  groups: tf.Tensor2D[];
  /** Output positions available (images × output height × output width). */
  positions: number;
  /** Rows sampled (the same positions for every group). */
  rows: number;
  /** F, the patch length. */
  features: number;
}

function outputLength(input: number, kernel: number, stride: number, dilation: number, padBefore: number, outputSize: number): number {
  return outputSize > 0 ? outputSize : Math.floor((input + 2 * padBefore - (kernel - 1) * dilation - 1) / stride) + 1;
}

/**
 * Samples patch rows of a 4-D input `[n, h, w, cin]` (not disposed).
 *
 * @param outputSize [oh, ow] of the layer (the positions to sample from).
 * @throws ShapeError when the input is not 4-D or cin is not divisible by the groups;
 *   ConfigError for a non-positive cap.
 * @example
 * const { groups, rows } = gatherPatches(x, geometry, [55, 55], { rng, maxRows: 50_000, maxBytes: 32 << 20, where: 'layer conv1' });
 * // groups[0]: [rows, 363] for CaffeNet conv1
 */
export function gatherPatches(input: tf.Tensor, geometry: PatchGeometry, outputSize: [number, number], options: PatchSamplingOptions): GatheredPatches {
  const { where } = options;
  if (input.rank !== 4) throw new ShapeError('patch input must be [n, h, w, c]', { where, expected: 'rank 4', actual: input.shape });
  const [n, h, w, cin] = input.shape;
  const {
    kernelSize: [kh, kw],
    strides: [sh, sw],
    dilation: [dh, dw],
    padTop,
    padLeft,
    groups,
  } = geometry;
  if (cin % groups !== 0) throw new ShapeError('input channels are not divisible by the groups', { where, expected: `a multiple of ${groups}`, actual: cin });
  if (!(options.maxRows >= 1) || !(options.maxBytes >= 1)) {
    throw new ConfigError('patch caps must be positive', { where, actual: { maxRows: options.maxRows, maxBytes: options.maxBytes } });
  }
  const cg = cin / groups;
  const f = kh * kw * cg;
  const oh = outputLength(h, kh, sh, dh, padTop, outputSize[0]);
  const ow = outputLength(w, kw, sw, dw, padLeft, outputSize[1]);
  const positions = n * oh * ow;
  const cap = Math.max(1, Math.min(options.maxRows, Math.floor(options.maxBytes / (4 * f * groups))));
  const rows = Math.min(positions, cap);
  const chosen = rows < positions ? options.rng.sampleWithoutReplacement(positions, rows) : null;
  const window: PatchWindow = { ...geometry, outputSize: [oh, ow] };
  const indices = chosen === null ? Int32Array.from({ length: rows }, (_, r) => r) : Int32Array.from(chosen);
  const cut = gatherPatchRows(input as tf.Tensor4D, indices, window); // in place in the heap where the backend can
  if (cut !== undefined) {
    try {
      const parts = groups === 1 ? [cut] : tf.split(cut, groups, 0);
      const out = parts.map((part) => tf.reshape(part, [rows, f]) as tf.Tensor2D);
      tf.dispose(parts);
      return { groups: out, positions, rows, features: f };
    } finally {
      cut.dispose();
    }
  }
  const data = input.dataSync() as Float32Array;
  const out = Array.from({ length: groups }, () => new Float32Array(rows * f));
  const perImage = oh * ow;
  for (let r = 0; r < rows; r++) {
    const p = chosen === null ? r : chosen[r];
    const b = Math.floor(p / perImage);
    const rest = p - b * perImage;
    const oy = Math.floor(rest / ow);
    const ox = rest - oy * ow;
    for (let i = 0; i < kh; i++) {
      const y = oy * sh + i * dh - padTop;
      if (y < 0 || y >= h) continue; // zero padding: the row stays 0
      for (let j = 0; j < kw; j++) {
        const x = ox * sw + j * dw - padLeft;
        if (x < 0 || x >= w) continue;
        const source = ((b * h + y) * w + x) * cin;
        const target = r * f + (i * kw + j) * cg;
        for (let g = 0; g < groups; g++) out[g].set(data.subarray(source + g * cg, source + (g + 1) * cg), target);
      }
    }
  }
  return { groups: out.map((values) => tf.tensor2d(values, [rows, f])), positions, rows, features: f };
}
