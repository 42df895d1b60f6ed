/**
 * How many images the init sample holds, and the checks on that number.
 *
 * A data-dependent weight source (k-means, PCA, ZCA, patches) fitted to barely more
 * rows than filters describes the sample, not the data: `vgg-plain-11` at 28 px
 * on 160 images gives std 1 on the sample and about 9 on other images
 * (docs/RESULTS.md, "Init sample size"). A layer with P output positions per image
 * and N filters per group gets n·P rows from n images. With `sample` unset (auto):
 *   - the sample is MIN_DEFAULT_SAMPLE images (at most the split less the held-out batch);
 *     every layer is normalized on it;
 *   - a data-dependent layer whose n·P rows fall short of ROWS_PER_FILTER·N draws its
 *     weights from ⌈ROWS_PER_FILTER·N / P⌉ images: the sample and the next images of the
 *     split after the held-out batch, run only through the layers below it
 *     (@ddinit/init-within-layer's SampleGrowth);
 *   - when the split holds too few, the layer takes what there is, and a layer left with
 *     fewer than N rows falls back (recorded in the report).
 * An explicit `sample` is used as given, without growth.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { drawsFromRows, filtersPerGroup, positionsPerImage, type LayerPlan } from '@ddinit/init-within-layer';
import { flattenModel } from '@ddinit/models';

/** Sampled rows per filter the default sample gives every data-dependent layer (measured: docs/RESULTS.md). */
export const ROWS_PER_FILTER = 8;
/** The reference's sample (10 batches × 16), the smallest default. */
export const MIN_DEFAULT_SAMPLE = 160;
/** Images kept aside, after the sample, to measure every layer on (docs/report.md). */
export const HELD_OUT_IMAGES = 256;
/**
 * Estimated activation memory a run may take. The wasm backend addresses at most
 * 4 GiB; 3 GiB leaves room for the weights, patch matrices and k-means buffers.
 */
export const WASM_ACTIVATION_BUDGET = 3 * 1024 ** 3;

/** What the model asks of the sample: images, and the layer that asks most. */
export interface SampleNeed {
  images: number;
  /** e.g. `4 rows × 128 filters of conv5_1 at 1 position per image`; null when no layer needs rows. */
  reason: string | null;
}

/** The most images a data-dependent, non-skipped layer needs for ROWS_PER_FILTER rows per filter (what the sample grows to). */
export function sampleNeed(plans: readonly LayerPlan[]): SampleNeed {
  let need: SampleNeed = { images: 0, reason: null };
  for (const { layer, method, skip } of plans) {
    if (skip || !drawsFromRows(layer, method)) continue;
    const filters = filtersPerGroup(layer);
    const positions = positionsPerImage(layer);
    const images = Math.ceil((ROWS_PER_FILTER * filters) / positions);
    if (images > need.images) {
      need = { images, reason: `${ROWS_PER_FILTER} rows × ${filters} filters of ${layer.name} at ${positions} position(s) per image` };
    }
  }
  return need;
}

/** The sample actually used, and why that many. */
export interface SampleChoice {
  size: number;
  heldOut: number;
  /** Images after the sample and the held-out batch that layers short of rows may draw from (0: no growth). */
  growth: number;
  /** How the size was chosen, for the log and the report. */
  rule: string;
  /** The model wanted more images than the split has (default size only). */
  capped: boolean;
}

/**
 * The sample size: `requested` when given, else MIN_DEFAULT_SAMPLE grown per layer (see
 * the module doc); the held-out batch takes up to HELD_OUT_IMAGES of what the split has
 * (at most half of it when the size is derived).
 */
export function chooseSampleSize(requested: number | undefined, plans: readonly LayerPlan[], examples: number): SampleChoice {
  if (requested !== undefined) {
    return {
      size: requested,
      heldOut: Math.max(0, Math.min(HELD_OUT_IMAGES, examples - requested)),
      growth: 0,
      rule: 'set by sample (--sample)',
      capped: false,
    };
  }
  const need = sampleNeed(plans);
  // The held-out batch is reserved first (at most half the split): a default sample never leaves the init unchecked.
  const heldOut = Math.min(HELD_OUT_IMAGES, Math.floor(examples / 2));
  const usable = examples - heldOut;
  const size = Math.min(MIN_DEFAULT_SAMPLE, usable);
  const growth = Math.max(0, Math.min(need.images, usable) - size);
  const capped = need.images > usable;
  const grown = growth === 0 ? '' : `, grown to ${size + growth} for ${need.reason}`;
  return {
    size,
    heldOut,
    growth,
    rule: `from the model: ${size} images${grown}${capped ? ` (${need.images} wanted), capped by the split's ${examples} examples` : ''}`,
    capped,
  };
}

const elements = (shape: tf.Shape): number => shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);

/**
 * Estimated bytes per sample image of the within-layer init, an upper bound: every
 * node's output of one image as if all were cached at once, the pre-activations of the
 * layers with a fused activation, and the largest convolution patch matrix
 * (kh·kw·cin/groups values per output position, as the im2col kernels build it), in
 * float32. Measured peak memory per image at 28 px (docs/RESULTS.md): vgg-plain-11
 * 0.34 MB, caffenet-small 0.66 MB, below this estimate (0.85 and 0.70 MB).
 */
export function activationBytesPerImage(model: tf.LayersModel, plans: readonly LayerPlan[]): number {
  let values = 0;
  for (const node of flattenModel(model).nodes) values += node.outputShapes.reduce((a, shape) => a + elements(shape), 0);
  let patches = 0;
  for (const { layer } of plans) {
    if (layer.activation !== 'linear') values += elements(layer.outputShape);
    const conv = layer.convolution;
    if (conv !== null) patches = Math.max(patches, conv.kernelSize[0] * conv.kernelSize[1] * (layer.inputChannels / layer.groups) * positionsPerImage(layer));
  }
  return 4 * (values + patches);
}

/**
 * Refuses a sample whose activations would not fit `budget` bytes, naming the size.
 * @throws ConfigError on field `sample`.
 */
export function checkSampleMemory(size: number, model: tf.LayersModel, plans: readonly LayerPlan[], budget: number, name: string): void {
  const perImage = activationBytesPerImage(model, plans);
  if (size * perImage <= budget) return;
  const gib = (b: number): string => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  throw new ConfigError(
    `a sample of ${size} images needs about ${gib(size * perImage)} of activations for model ${name} (${(perImage / 1024).toFixed(0)} KiB per image), more than the ${gib(budget)} this backend can hold`,
    {
      where: 'sample',
      expected: `at most ${Math.floor(budget / perImage)} images`,
      actual: size,
    },
  );
}
