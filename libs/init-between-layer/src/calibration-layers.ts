/**
 * Which parameter layers the between-layer calibration scales, which it leaves
 * alone (and why), and which layers break the positive homogeneity the step
 * relies on.
 */
import { parameterLayers, type ModelGraph, type ParameterLayer } from '@ddinit/models';
import type { GraphTop } from './graph-forward';

/** A parameter layer the calibration does not scale, and the reason. */
export interface UncalibratedLayer {
  layer: string;
  reason: string;
}

export interface CalibrationLayers {
  /** Layers with one kernel W_k that get a change rate and a scale, in topological order. */
  calibrated: ParameterLayer[];
  /** Every parameter layer up to the top, calibrated or not, by node id (for bias corrections). */
  byNode: Map<number, ParameterLayer>;
  uncalibrated: UncalibratedLayer[];
  /** Layers on the way to the top that are not positively homogeneous of degree 1, with their class/activation. */
  nonHomogeneous: { layer: string; what: string }[];
}

/** Weightless layer classes with f(c·x) = c·f(x) for c > 0. */
const HOMOGENEOUS_CLASSES = new Set([
  'InputLayer',
  'MaxPooling2D',
  'AveragePooling2D',
  'MaxPooling1D',
  'AveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling1D',
  'GlobalMaxPooling1D',
  'Flatten',
  'Reshape',
  'Permute',
  'Dropout',
  'SpatialDropout1D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Add',
  'Average',
  'Maximum',
  'Minimum',
  'Concatenate',
]);

const HOMOGENEOUS_ACTIVATIONS = new Set(['linear', 'relu']);

function activationName(config: Record<string, unknown>): string {
  return typeof config['activation'] === 'string' ? config['activation'] : 'linear';
}

/**
 * Sorts the parameter layers up to `top` into calibrated and uncalibrated ones.
 * Not calibrated: batch normalization (γ/β are not change-rate weights; its
 * moving mean and β follow the input scale instead), separable convolutions (two
 * kernels, no single rate), and layers named in `exclude`.
 */
export function classifyLayers(graph: ModelGraph, top: GraphTop, exclude: readonly string[]): CalibrationLayers {
  const needed = new Set(top.needed);
  const all = parameterLayers(graph).filter((p) => needed.has(p.node));
  const excluded = new Set(exclude);
  const calibrated: ParameterLayer[] = [];
  const uncalibrated: UncalibratedLayer[] = [];
  const byNode = new Map<number, ParameterLayer>();
  for (const p of all) {
    byNode.set(p.node, p);
    if (excluded.has(p.name)) uncalibrated.push({ layer: p.name, reason: 'excluded by options.excludeLayers' });
    else if (p.kind === 'batchnorm') {
      uncalibrated.push({ layer: p.name, reason: 'batch normalization: gamma/beta are not calibrated; its moving mean and beta follow the input scale' });
    } else if (p.kind === 'separable') {
      uncalibrated.push({
        layer: p.name,
        reason: 'separable convolution: two kernels (depthwise, pointwise), no single change rate; its bias follows the input scale',
      });
    } else calibrated.push(p);
  }
  const nonHomogeneous: { layer: string; what: string }[] = [];
  for (const id of top.needed) {
    const node = graph.nodes[id];
    const className = node.layer.getClassName();
    const config = node.layer.getConfig() as Record<string, unknown>;
    const isTop = id === top.node.id;
    if (byNode.has(id)) {
      const activation = activationName(config);
      if (!isTop && !HOMOGENEOUS_ACTIVATIONS.has(activation)) nonHomogeneous.push({ layer: node.name, what: `activation ${activation}` });
    } else if (className === 'ReLU') {
      if (config['maxValue'] != null) nonHomogeneous.push({ layer: node.name, what: `ReLU with maxValue ${String(config['maxValue'])}` });
    } else if (className === 'Activation') {
      const activation = activationName(config);
      if (!HOMOGENEOUS_ACTIVATIONS.has(activation)) nonHomogeneous.push({ layer: node.name, what: `activation ${activation}` });
    } else if (!HOMOGENEOUS_CLASSES.has(className)) {
      nonHomogeneous.push({ layer: node.name, what: className });
    }
  }
  return { calibrated, byNode, uncalibrated, nonHomogeneous };
}
