/**
 * Growing the sample for the layers that need more rows than it gives (docs/method.md#within-layer).
 *
 * A layer with N filters per group and P output positions per image gets n·P patch rows
 * from n sample images. A data-dependent source (k-means, PCA, ZCA, patches) needs at
 * least N rows (fewer: the configured fallback) and describes the sample rather than the
 * data below about 5 rows per filter (docs/RESULTS.md, "Init sample size"). With a
 * {@link SampleGrowth}, such a layer's rows come from the sample plus
 *
 *   e = min(available, ⌈rowsPerFilter·N / P⌉ − n)   extra images (when positive),
 *
 * further capped so their inputs to the layer take at most `maxPatchBytes`, and 0 when even
 * then the sample and the extra images give fewer than N rows (the layer falls back either
 * way, and growing would only cost the forwards through the layers below). The extra
 * images run, batch by batch, through the layers below (already initialized) on a
 * throw-away executor: the sample, every layer below and their weights are untouched, and
 * the layer's normalization (step 2) still uses the sample.
 */
import * as tf from '@tensorflow/tfjs';
import { GraphExecutor, type ModelGraph, type ParameterLayer } from '@ddinit/models';
import { outputKernel } from './output-channels';
import { isRandomMethod, type WithinMethod } from './within-layer-options';

/** Images beyond the sample a layer may draw rows from (the pipeline's `sample: auto`). */
export interface SampleGrowth {
  /** Rows per filter a data-dependent layer is grown to. */
  rowsPerFilter: number;
  /** How many images {@link SampleGrowth.batches} yields in all. */
  available: number;
  /**
   * The images, prepared like the sample (same normalization), never in it, in the same
   * order on every call, in batches (one tensor per model input); the consumer disposes each batch.
   */
  batches(): AsyncIterable<tf.Tensor | tf.Tensor[]>;
}

/** Output positions per image of a layer (1 for dense). */
export function positionsPerImage(layer: ParameterLayer): number {
  return layer.outputShape.slice(1, -1).reduce<number>((a, d) => a * (d ?? 1), 1);
}

/** Filters per group of the layer's output kernel (N of the rule). */
export function filtersPerGroup(layer: ParameterLayer): number {
  return layer.outputChannels / outputKernel(layer).groups;
}

/** Whether `method` on `layer` draws from patch rows (and so can need more images). */
export function drawsFromRows(layer: ParameterLayer, method: WithinMethod): boolean {
  return !isRandomMethod(method) && layer.kind !== 'batchnorm' && layer.kind !== 'transposed' && layer.kernels.length > 0;
}

/**
 * Extra images `layer` gets beyond `sampleImages` (the module doc's e; 0 when the sample
 * is enough, the method needs no rows, there is no growth, or the growth cannot reach N rows).
 */
export function extraImagesFor(layer: ParameterLayer, method: WithinMethod, sampleImages: number, growth: SampleGrowth | undefined, maxBytes: number): number {
  if (growth === undefined || !drawsFromRows(layer, method)) return 0;
  const wanted = Math.ceil((growth.rowsPerFilter * filtersPerGroup(layer)) / positionsPerImage(layer)) - sampleImages;
  const bytesPerImage = 4 * layer.inputShape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  const extra = Math.max(0, Math.min(wanted, growth.available, Math.floor(maxBytes / bytesPerImage)));
  // Images that still leave fewer than N rows buy only the fallback the sample alone gives, after
  // running them through every layer below (CaffeNet's fc6 at the default 32 MiB: 910 images, 15 s).
  return (sampleImages + extra) * positionsPerImage(layer) < filtersPerGroup(layer) ? 0 : extra;
}

/**
 * The input of layer `name` on the first `count` images of `growth` ([count, …inputShape];
 * fewer when the batches end early, null when none came), computed batch by batch with the
 * model's current weights; the caller owns the result.
 */
export async function grownLayerInput(model: tf.LayersModel, graph: ModelGraph, name: string, growth: SampleGrowth, count: number): Promise<tf.Tensor | null> {
  const parts: tf.Tensor[] = [];
  let collected = 0;
  try {
    for await (const batch of growth.batches()) {
      const list = Array.isArray(batch) ? batch : [batch];
      try {
        const take = Math.min(count - collected, list[0].shape[0]);
        const head = list.map((t) => (take < t.shape[0] ? tf.slice(t, 0, take) : t));
        const run = new GraphExecutor(model, head, { graph });
        try {
          parts.push(run.layerInput(name));
        } finally {
          run.dispose();
          tf.dispose(head.filter((t) => !list.includes(t)));
        }
        collected += take;
      } finally {
        tf.dispose(list);
      }
      if (collected >= count) break;
    }
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0].clone() : tf.concat(parts);
  } finally {
    tf.dispose(parts);
  }
}
