/**
 * The per-layer statistics of an initialized model on images it was not initialized
 * from. The within-layer normalization sets every channel to mean β and std 1 on the
 * sample exactly, whatever the sample's size; only a batch the weights never saw
 * shows whether that holds for the data (a layer whose k-means centres or whitening
 * were fitted to barely more rows than filters does not: its std on other images
 * can be several times 1).
 */
import type * as tf from '@tensorflow/tfjs';
import { GraphExecutor } from '@ddinit/models';
import { channelMoments, summarizeMoments } from './channel-moments';
import type { LayerInitStats } from './initialize-within-layers';

/** Channel averages of one layer's per-channel moments on a batch. */
export interface LayerMoments {
  name: string;
  /** (1/C) Σ_i μ_i of the pre-activation (batchnorm: of its output). */
  mean: number;
  /** (1/C) Σ_i σ_i (population σ over batch × height × width). */
  std: number;
}

/**
 * Runs `images` (`[n, h, w, c]`, or one tensor per model input; not disposed) through
 * `model` and returns the channel-averaged mean and std of each of `layers`, measured
 * where the within-layer initializer measured them: the pre-activation, or a
 * batchnorm's output. Layers are visited in the order given (topological, as
 * {@link initializeWithinLayers} reports them), freeing activations as it goes.
 *
 * @throws ShapeError when the images do not fit the model.
 * @example
 * const heldOut = measureLayerMoments(model, otherImages, report.layers);
 * heldOut.map((m, k) => m.std / report.layers[k].outStd!); // ≈ 1 when the init generalizes
 */
export function measureLayerMoments(
  model: tf.LayersModel,
  images: tf.Tensor | tf.Tensor[],
  layers: readonly Pick<LayerInitStats, 'name' | 'kind'>[],
): LayerMoments[] {
  const run = new GraphExecutor(model, images);
  try {
    return layers.map((layer) => {
      const z = layer.kind === 'batchnorm' ? run.layerOutput(layer.name) : run.preActivation(layer.name);
      try {
        const { mean, std } = summarizeMoments(channelMoments(z, `layer ${layer.name}`), 0);
        return { name: layer.name, mean, std };
      } finally {
        z.dispose();
        run.commit(layer.name);
      }
    });
  } finally {
    run.dispose();
  }
}
