/**
 * The input normalization a network was initialized with, as a layer:
 *
 *   y[…, c] = (x[…, c] · scale − mean[c]) / std[c]
 *
 * so a model that starts with it takes images as a dataset stores them (pixel
 * values 0–255, NHWC). It has no weights (the statistics are configuration), so
 * training never moves them and adding it changes no weight manifest.
 * Registered with `tf.serialization.registerClass` on import.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Per-channel statistics: what `report.json` `data.normalization` records. */
export interface InputNormalizationConfig {
  /** Multiplies the raw values first (1/255 maps bytes to [0, 1]). */
  scale: number;
  /** Per-channel mean of the scaled values. */
  mean: number[];
  /** Per-channel standard deviation of the scaled values (each > 0). */
  std: number[];
}

export type InputNormalizationArgs = LayerArgs & InputNormalizationConfig;

export class InputNormalization extends tf.layers.Layer {
  static className = 'InputNormalization';

  readonly scale: number;
  readonly mean: number[];
  readonly std: number[];

  constructor(args: InputNormalizationArgs) {
    super(args);
    const where = `layer ${this.name}`;
    if (!(Number.isFinite(args.scale) && args.scale > 0)) throw new ConfigError('scale must be a positive number', { where, actual: args.scale });
    if (args.mean.length === 0 || args.mean.length !== args.std.length) {
      throw new ConfigError('mean and std must give one value per channel', {
        where,
        expected: `equal, non-zero lengths`,
        actual: `${args.mean.length} means, ${args.std.length} stds`,
      });
    }
    const badStd = args.std.findIndex((s) => !(Number.isFinite(s) && s > 0));
    if (badStd >= 0) throw new ConfigError('std must be positive and finite', { where: `${where}, channel ${badStd}`, actual: args.std[badStd] });
    if (args.mean.some((m) => !Number.isFinite(m))) throw new ConfigError('mean must be finite', { where, actual: args.mean.join(', ') });
    this.scale = args.scale;
    this.mean = [...args.mean];
    this.std = [...args.std];
    this.trainable = false;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels !== null && channels !== undefined && channels !== this.mean.length) {
      throw new ConfigError('the input has another number of channels than the normalization', {
        where: `layer ${this.name}`,
        expected: this.mean.length,
        actual: channels,
      });
    }
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.cast((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor, 'float32');
      return tf.div(tf.sub(tf.mul(x, this.scale), tf.tensor1d(this.mean)), tf.tensor1d(this.std));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, mean: this.mean, std: this.std };
  }
}
tf.serialization.registerClass(InputNormalization);
