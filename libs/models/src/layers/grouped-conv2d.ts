/**
 * A 2-D convolution with channel groups (Caffe's `group`, PyTorch's `groups`),
 * which tfjs-layers' Conv2D lacks. CaffeNet's conv2, conv4 and conv5 use 2 groups.
 *
 * Layout: input `[batch, height, width, cin]` (channels last), kernel
 * `[kh, kw, cin/groups, filters]`, bias `[filters]`, output
 * `[batch, outHeight, outWidth, filters]`. Group g reads input channels
 * `[g·cin/groups, (g+1)·cin/groups)` and writes output channels
 * `[g·filters/groups, (g+1)·filters/groups)`: the kernel's last axis is split
 * into `groups` consecutive blocks. With `groups: 1` it is exactly `tf.layers.conv2d`.
 *
 * Computed by @ddinit/core's `groupedConv2d` (one kernel with the bias and a ReLU fused, each
 * group one sgemm on the native addon) where the backend has it, else by tfjs ops: conv2d (per
 * group, split and concatenated), add the bias, apply the activation.
 * Registered with `tf.serialization.registerClass`, so models containing it
 * save to model.json and load back (import this module before loading).
 *
 * @example
 * const conv2 = new GroupedConv2D({ name: 'conv2', filters: 256, kernelSize: 5, padding: 'same', groups: 2, activation: 'relu' });
 * const y = conv2.apply(tf.input({ shape: [27, 27, 96] })); // kernel [5, 5, 48, 256]
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError, groupedConv2d } from '@ddinit/core';
import { convOutputLength, type PaddingMode } from './conv-geometry';
import {
  activationByName,
  initializerFrom,
  serializeInitializer,
  type ActivationFunction,
  type Initializer,
  type InitializerConfig,
} from './registered-objects';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Pair = [number, number];

export interface GroupedConv2DArgs extends LayerArgs {
  /** Output channels; divisible by `groups`. */
  filters: number;
  kernelSize: number | Pair;
  /** Default 1. */
  strides?: number | Pair;
  /** Default `valid`. */
  padding?: PaddingMode;
  /** Default 1. Dilation and stride cannot both exceed 1 (a tfjs limit). */
  dilationRate?: number | Pair;
  /** Channel groups; divides both input and output channels. Default 1. */
  groups?: number;
  /** A tfjs activation name (`relu`, `linear`, …). Default `linear`. */
  activation?: string;
  /** Default true. */
  useBias?: boolean;
  /** Default `glorotUniform` (tfjs's Conv2D default). */
  kernelInitializer?: Initializer | InitializerConfig | string;
  /** Default `zeros`. */
  biasInitializer?: Initializer | InitializerConfig | string;
}

function pair(value: number | Pair | undefined, fallback: number, field: string, where: string): Pair {
  const p: Pair = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ConfigError(`${field} must be positive integers`, { where, actual: value });
  }
  return p;
}

export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';

  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingMode;
  readonly dilationRate: Pair;
  readonly groups: number;
  readonly useBias: boolean;
  /** The fused activation; the graph executor swaps it for `linear` to read pre-activations. */
  activation: ActivationFunction;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    const where = `layer ${this.name}`;
    this.filters = args.filters;
    this.groups = args.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw new ConfigError('groups must be a positive integer', { where, actual: args.groups });
    }
    if (!Number.isInteger(this.filters) || this.filters < 1 || this.filters % this.groups !== 0) {
      throw new ConfigError('filters must be a positive multiple of groups', {
        where,
        expected: `a multiple of ${this.groups}`,
        actual: args.filters,
      });
    }
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize', where);
    this.strides = pair(args.strides, 1, 'strides', where);
    this.dilationRate = pair(args.dilationRate, 1, 'dilationRate', where);
    if (Math.max(...this.strides) > 1 && Math.max(...this.dilationRate) > 1) {
      throw new ConfigError('strides and dilationRate cannot both exceed 1', { where, actual: { strides: this.strides, dilationRate: this.dilationRate } });
    }
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') {
      throw new ConfigError('unknown padding', { where, expected: 'valid or same', actual: this.padding });
    }
    this.useBias = args.useBias ?? true;
    this.activation = activationByName(args.activation ?? 'linear', where);
    this.kernelInitializer = initializerFrom(args.kernelInitializer ?? 'glorotUniform', where);
    this.biasInitializer = initializerFrom(args.biasInitializer ?? 'zeros', where);
    this.inputSpec = [{ ndim: 4 }];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = shape[3];
    if (shape.length !== 4 || cin == null || cin % this.groups !== 0) {
      throw new ShapeError('input must be [batch, height, width, channels] with channels divisible by groups', {
        where: `layer ${this.name}`,
        expected: `[batch, height, width, k·${this.groups}]`,
        actual: shape,
      });
    }
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', [kh, kw, cin / this.groups, this.filters], 'float32', this.kernelInitializer, undefined, true);
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer, undefined, true);
    }
    this.inputSpec = [{ ndim: 4, axes: { [-1]: cin } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (n: number | null, axis: 0 | 1): number | null =>
      n == null ? null : convOutputLength(n, this.kernelSize[axis], this.strides[axis], this.padding, this.dilationRate[axis]);
    return [shape[0], out(shape[1], 0), out(shape[2], 1), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (this.kernel === null) throw new ShapeError('layer is not built', { where: `layer ${this.name}` });
      const kernel = this.kernel.read() as tf.Tensor4D;
      const fused = this.fusedCall(x, kernel);
      if (fused !== undefined) return fused;
      let y: tf.Tensor =
        this.groups === 1
          ? this.conv(x, kernel)
          : (groupedConv2d(x, kernel, { strides: this.strides, pad: this.padding, dilations: this.dilationRate, groups: this.groups }) ??
            this.splitConv(x, kernel));
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      return this.activation.apply(y);
    });
  }

  /**
   * The whole layer as one kernel (convolution, bias, ReLU) on backends that have it, for any
   * groups; undefined for other activations and backends. The same floats as the ops below.
   */
  private fusedCall(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor | undefined {
    const activation = this.activation.getClassName().toLowerCase();
    if (activation !== 'relu' && activation !== 'linear') return undefined;
    const attrs = { strides: this.strides, pad: this.padding, dilations: this.dilationRate, groups: this.groups, activation } as const;
    return groupedConv2d(x, kernel, attrs, this.bias?.read() as tf.Tensor1D | undefined);
  }

  private conv(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
    return tf.conv2d(x, kernel, this.strides, this.padding, 'NHWC', this.dilationRate);
  }

  /** The groups by tfjs ops, on backends without the grouped kernel: split the channels and the kernel, one conv2d per group, concat. */
  private splitConv(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor {
    const xs = tf.split(x, this.groups, 3) as tf.Tensor4D[];
    const ks = tf.split(kernel, this.groups, 3) as tf.Tensor4D[];
    return tf.concat(
      xs.map((xg, g) => this.conv(xg, ks[g])),
      3,
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dilationRate: [...this.dilationRate],
      groups: this.groups,
      activation: this.activation.getClassName(),
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDict,
      biasInitializer: serializeInitializer(this.biasInitializer) as unknown as tf.serialization.ConfigDict,
    };
  }
}

tf.serialization.registerClass(GroupedConv2D);
