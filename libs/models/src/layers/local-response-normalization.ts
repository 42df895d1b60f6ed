/**
 * Local response normalization across channels (Krizhevsky et al. 2012), as a
 * tfjs layer around `tf.localResponseNormalization`. No weights; shape-preserving
 * on `[batch, height, width, channels]`.
 *
 * tfjs computes, for channel d,
 *   y_d = x_d / (bias + alpha · Σ_{d' = d − depthRadius}^{d + depthRadius} x_{d'}²)^beta.
 * Caffe's LRN layer (ACROSS_CHANNELS) computes
 *   y_d = x_d / (k + (α / n) · Σ_{window of n channels centred on d} x²)^β.
 * The two agree exactly with depthRadius = (n − 1) / 2, bias = k, alpha = α / n and
 * beta = β: see {@link caffeLrnConfig}. CaffeNet's norm1/norm2 (n = 5, α = 1e-4,
 * β = 0.75, k = 1) become depthRadius 2, bias 1, alpha 2e-5, beta 0.75.
 *
 * @example
 * const norm1 = new LocalResponseNormalization({ name: 'norm1', ...caffeLrnConfig({ localSize: 5, alpha: 1e-4, beta: 0.75, k: 1 }) });
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** tfjs's LRN parameters. */
export interface LrnParameters {
  /** Half-width of the channel window (window = 2·depthRadius + 1 channels). */
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

export type LocalResponseNormalizationArgs = LayerArgs & Partial<LrnParameters>;

/** Caffe's LRN parameters (`lrn_param`). */
export interface CaffeLrnParameters {
  /** Channels in the window, odd (Caffe `local_size`). */
  localSize: number;
  alpha: number;
  beta: number;
  k: number;
}

/**
 * Maps Caffe's LRN parameters onto tfjs's: depthRadius = (n − 1)/2, bias = k,
 * alpha = α/n (Caffe divides α by the window size, tfjs does not), beta = β.
 *
 * @throws ConfigError when localSize is not a positive odd integer.
 */
export function caffeLrnConfig(caffe: CaffeLrnParameters): LrnParameters {
  const n = caffe.localSize;
  if (!Number.isInteger(n) || n < 1 || n % 2 === 0) {
    throw new ConfigError('Caffe LRN local_size must be a positive odd integer', { where: 'lrn_param.local_size', actual: n });
  }
  return { depthRadius: (n - 1) / 2, bias: caffe.k, alpha: caffe.alpha / n, beta: caffe.beta };
}

/** CaffeNet's norm1 and norm2: local_size 5, alpha 1e-4, beta 0.75, k 1. */
export const CAFFENET_LRN: LrnParameters = caffeLrnConfig({ localSize: 5, alpha: 1e-4, beta: 0.75, k: 1 });

export class LocalResponseNormalization extends tf.layers.Layer {
  static className = 'LocalResponseNormalization';

  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;

  /** Defaults are tfjs's (depthRadius 5, bias 1, alpha 1, beta 0.5); CaffeNet passes {@link CAFFENET_LRN}. */
  constructor(args: LocalResponseNormalizationArgs = {}) {
    super(args);
    this.depthRadius = args.depthRadius ?? 5;
    this.bias = args.bias ?? 1;
    this.alpha = args.alpha ?? 1;
    this.beta = args.beta ?? 0.5;
    if (!Number.isInteger(this.depthRadius) || this.depthRadius < 0) {
      throw new ConfigError('depthRadius must be a non-negative integer', { where: `layer ${this.name}`, actual: this.depthRadius });
    }
    this.inputSpec = [{ ndim: 4 }];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      return tf.localResponseNormalization(x, this.depthRadius, this.bias, this.alpha, this.beta);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta };
  }
}

tf.serialization.registerClass(LocalResponseNormalization);
