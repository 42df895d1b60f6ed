/**
 * The parameter layers of a model (the layers ddinit initializes), in
 * topological order, each with what an initializer needs to know about it:
 * kind, kernel layout and groups, shapes, convolution geometry, fused
 * activation and bias.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { axisPadding, type PaddingMode } from '../layers/conv-geometry';
import type { ParameterLayerKind } from './layer-kinds';
import { flattenModel, type GraphNode, type ModelGraph } from './model-graph';
import type { KernelLayout } from './kernel-layout';

/** A layer's weights by meaning (the tfjs variable name's last part, camel-cased). */
export type WeightRole = 'kernel' | 'bias' | 'depthwiseKernel' | 'pointwiseKernel' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance';

/** The tfjs layer classes ddinit understands, and their kind. */
const KIND_OF_CLASS: Record<string, ParameterLayerKind> = {
  Conv2D: 'conv',
  GroupedConv2D: 'conv',
  Dense: 'dense',
  DepthwiseConv2D: 'depthwise',
  SeparableConv2D: 'separable',
  Conv2DTranspose: 'transposed',
  BatchNormalization: 'batchnorm',
};

/** One kernel of a parameter layer, in a layout {@link kernelToFilterRows} accepts. */
export interface KernelInfo {
  role: 'kernel' | 'depthwiseKernel' | 'pointwiseKernel';
  layout: KernelLayout;
  shape: number[];
  /** Groups to pass to `kernelToFilterRows` (conv: channel groups; otherwise 1). */
  groups: number;
}

/** Stride, dilation and padding of a convolution, with the padding in numbers. */
export interface ConvolutionGeometry {
  kernelSize: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: PaddingMode;
  /**
   * Zero rows/columns added around the layer's input (TensorFlow's `same` rule;
   * all 0 for `valid`), so that output (oh, ow) reads input rows
   * oh·s_h + i·d_h − top. `null` for transposed convolutions and unknown input sizes.
   */
  pads: { top: number; bottom: number; left: number; right: number } | null;
}

export interface ParameterLayer {
  /** Qualified name (`block/conv1` inside a nested model). */
  name: string;
  /** Id of the layer's node in the flattened graph. */
  node: number;
  layer: tf.layers.Layer;
  className: string;
  kind: ParameterLayerKind;
  /** Layout of the `kernel` role (`null` for separable and batchnorm: see `kernels`). */
  kernelLayout: KernelLayout | null;
  /** Shape of the `kernel` role, e.g. `[kh, kw, cin/groups, cout]` (`null` as kernelLayout). */
  kernelShape: number[] | null;
  /** Channel groups (1 except grouped convolutions; depthwise: see `kernels`). */
  groups: number;
  /** Every kernel (separable: depthwise then pointwise; batchnorm: none). */
  kernels: KernelInfo[];
  /** Symbolic input/output shapes, batch first (`null` when free). */
  inputShape: tf.Shape;
  outputShape: tf.Shape;
  inputChannels: number;
  outputChannels: number;
  /** Activation fused into the layer (`linear` when none). */
  activation: string;
  hasBias: boolean;
  /** Convolution geometry (`null` for dense and batchnorm). */
  convolution: ConvolutionGeometry | null;
  /** Every weight of the layer, in the layer's own order. */
  weights: { role: WeightRole; shape: number[] }[];
}

const ROLE_OF_SUFFIX: Record<string, WeightRole> = {
  kernel: 'kernel',
  bias: 'bias',
  depthwise_kernel: 'depthwiseKernel',
  pointwise_kernel: 'pointwiseKernel',
  gamma: 'gamma',
  beta: 'beta',
  moving_mean: 'movingMean',
  moving_variance: 'movingVariance',
};

/**
 * The role of a weight variable of `layer`. A DepthwiseConv2D's only kernel
 * (`depthwise_kernel`) has the role `kernel`.
 */
export function roleOfVariable(layer: tf.layers.Layer, variable: tf.LayerVariable): WeightRole | undefined {
  const suffix = variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
  if (suffix === 'depthwise_kernel' && layer.getClassName() === 'DepthwiseConv2D') return 'kernel';
  return ROLE_OF_SUFFIX[suffix];
}

function pairOf(value: unknown, fallback: number): [number, number] {
  if (value === undefined || value === null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  const v = value as number[];
  return [v[0], v[v.length > 1 ? 1 : 0]];
}

function describeNode(node: GraphNode): ParameterLayer {
  const layer = node.layer;
  const className = layer.getClassName();
  const where = `layer ${node.name}`;
  const kind = KIND_OF_CLASS[className];
  if (kind === undefined) {
    throw new ConfigError('unsupported parameter layer class', {
      where,
      expected: `one of ${Object.keys(KIND_OF_CLASS).join(', ')} (or a layer without weights)`,
      actual: className,
    });
  }
  const config = layer.getConfig();
  if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') {
    throw new ConfigError('only channelsLast layers are supported', { where, actual: config['dataFormat'] });
  }
  const inputShape = node.inputShapes[0];
  const outputShape = node.outputShapes[0];
  const weights = layer.weights.map((v) => {
    const role = roleOfVariable(layer, v);
    if (role === undefined) throw new ConfigError('unknown weight variable', { where, actual: v.originalName });
    return { role, shape: [...v.shape] as number[] };
  });
  const shapeOf = (role: WeightRole): number[] => {
    const w = weights.find((x) => x.role === role);
    if (w === undefined) throw new ConfigError(`the layer has no ${role}`, { where, actual: weights.map((x) => x.role) });
    return w.shape;
  };
  const groups = kind === 'conv' ? Number(config['groups'] ?? 1) : 1;
  const kernels: KernelInfo[] =
    kind === 'batchnorm'
      ? []
      : kind === 'separable'
        ? [
            { role: 'depthwiseKernel', layout: 'depthwise', shape: shapeOf('depthwiseKernel'), groups: 1 },
            { role: 'pointwiseKernel', layout: 'conv', shape: shapeOf('pointwiseKernel'), groups: 1 },
          ]
        : [{ role: 'kernel', layout: kind, shape: shapeOf('kernel'), groups }];
  const main = kernels.length === 1 ? kernels[0] : null;

  let convolution: ConvolutionGeometry | null = null;
  if (kind !== 'dense' && kind !== 'batchnorm') {
    const kernelSize = pairOf(config['kernelSize'], 1);
    const strides = pairOf(config['strides'], 1);
    const dilation = pairOf(config['dilationRate'], 1);
    const padding = config['padding'] as PaddingMode;
    const [height, width] = [inputShape[1], inputShape[2]];
    const pads =
      kind === 'transposed' || height == null || width == null
        ? null
        : (() => {
            const v = axisPadding(height, kernelSize[0], strides[0], padding, dilation[0]);
            const h = axisPadding(width, kernelSize[1], strides[1], padding, dilation[1]);
            return { top: v.before, bottom: v.after, left: h.before, right: h.after };
          })();
    convolution = { kernelSize, strides, dilation, padding, pads };
  }

  return {
    name: node.name,
    node: node.id,
    layer,
    className,
    kind,
    kernelLayout: main?.layout ?? null,
    kernelShape: main?.shape ?? null,
    groups,
    kernels,
    inputShape,
    outputShape,
    inputChannels: inputShape[inputShape.length - 1] ?? 0,
    outputChannels: outputShape[outputShape.length - 1] ?? 0,
    activation: typeof config['activation'] === 'string' ? config['activation'] : 'linear',
    hasBias: weights.some((w) => w.role === 'bias'),
    convolution,
    weights,
  };
}

/**
 * The parameter layers of `model` in topological order (see {@link flattenModel}
 * for the order and the qualified names of layers inside nested models).
 * Layers without weights are left out.
 *
 * @throws ConfigError for a layer with weights of an unsupported class (the
 *   message lists the supported ones), for a channelsFirst layer, and for a
 *   parameter layer called more than once (shared weights have no single input).
 * @example
 * parameterLayers(buildModel('caffenet-small')).map((p) => `${p.name}:${p.kind}`);
 * // ['conv1:conv', 'conv2:conv', …, 'fc8:dense']
 */
export function parameterLayers(model: tf.LayersModel | ModelGraph): ParameterLayer[] {
  const graph = model instanceof tf.LayersModel ? flattenModel(model) : model;
  const seen = new Map<tf.layers.Layer, string>();
  const result: ParameterLayer[] = [];
  for (const node of graph.nodes) {
    if (node.isInput || node.layer.weights.length === 0) continue;
    const first = seen.get(node.layer);
    if (first !== undefined) {
      throw new ConfigError('a parameter layer called more than once is not supported', {
        where: `layer ${node.name}`,
        expected: 'one call per parameter layer',
        actual: `also called as ${first}`,
      });
    }
    seen.set(node.layer, node.name);
    result.push(describeNode(node));
  }
  return result;
}
