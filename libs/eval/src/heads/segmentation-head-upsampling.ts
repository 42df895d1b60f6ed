/**
 * Bilinear upsampling of a feature map to a fixed size, as a layer, written as two
 * matrix products:
 *
 *   y[n, Y, X, k] = Σ_{i, j} A_H[Y, i] · A_W[X, j] · x[n, i, j, k]
 *
 * where row Y of A_H holds the two weights of linear interpolation at the source
 * coordinate s = (Y + ½)·h/H − ½ (half-pixel centres, clamped to [0, h − 1]: the
 * geometry of PyTorch's `align_corners=False` and of tf.image.resizeBilinear with
 * `halfPixelCenters`). A matrix product has an exact gradient on every backend;
 * tfjs 4.22's ResizeBilinearGrad does not: it ignores `halfPixelCenters` on wasm
 * and cpu (a gradient of another map), and on cpu it fails for non-square maps.
 * No weights; registered with `tf.serialization.registerClass` so a saved model loads.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface BilinearUpsamplingArgs extends LayerArgs {
  /** Output size in pixels. */
  height: number;
  width: number;
}

/** The `[to, from]` matrix of 1-D linear interpolation with half-pixel centres. */
export function interpolationMatrix(from: number, to: number): Float32Array {
  const matrix = new Float32Array(to * from);
  for (let y = 0; y < to; y++) {
    const s = Math.min(Math.max(((y + 0.5) * from) / to - 0.5, 0), from - 1);
    const i0 = Math.floor(s);
    const i1 = Math.min(i0 + 1, from - 1);
    const t = s - i0;
    matrix[y * from + i0] += 1 - t;
    matrix[y * from + i1] += t;
  }
  return matrix;
}

export class BilinearUpsampling extends tf.layers.Layer {
  static className = 'DdinitBilinearUpsampling';

  readonly height: number;
  readonly width: number;

  constructor(args: BilinearUpsamplingArgs) {
    super(args);
    for (const side of ['height', 'width'] as const) {
      if (!Number.isInteger(args[side]) || args[side] < 1)
        throw new ConfigError(`the ${side} must be a positive integer`, { where: `layer ${this.name}`, actual: args[side] });
    }
    this.height = args.height;
    this.width = args.width;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], this.height, this.width, shape[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, k] = x.shape;
      const rows = tf.tensor2d(interpolationMatrix(h, this.height), [this.height, h]);
      const columns = tf.tensor2d(interpolationMatrix(w, this.width), [this.width, w]);
      // [n, h, w, k] → [n·k·h, w] · A_Wᵀ → [n, k, h, W] → [n·k·W, h] · A_Hᵀ → [n, k, W, H] → [n, H, W, k].
      const alongWidth = tf.matMul(tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * k * h, w]), columns, false, true);
      const swapped = tf.reshape(tf.transpose(tf.reshape(alongWidth, [n, k, h, this.width]), [0, 1, 3, 2]), [n * k * this.width, h]);
      const alongHeight = tf.matMul(swapped, rows, false, true);
      return tf.transpose(tf.reshape(alongHeight, [n, k, this.width, this.height]), [0, 3, 2, 1]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
tf.serialization.registerClass(BilinearUpsampling);
