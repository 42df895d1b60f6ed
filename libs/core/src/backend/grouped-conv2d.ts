/**
 * A 2-D convolution with channel groups as one tfjs kernel (`DdinitGroupedConv2D`) with a
 * registered gradient, for backends that have it: the native addon computes every group
 * with one sgemm on column blocks, where tfjs ops need a split of the input and the
 * filter, a convolution per group and a concat, and their gradients as many copies
 * (Concat + SplitV were a twentieth of a caffenet-small step, docs/RESULTS.md "Training step
 * (issue 13)"). {@link groupedConv2d} returns undefined on a backend without the kernel, and
 * the caller keeps its split-and-concat path. This module imports only tfjs.
 *
 * Layout: x `[batch, h, w, cin]`, filter `[kh, kw, cin/groups, cout]`, y `[batch, oh, ow, cout]`;
 * group g reads input channels [g·cin/groups, (g+1)·cin/groups) and writes output channels
 * [g·cout/groups, (g+1)·cout/groups) (the filter's last axis in `groups` consecutive blocks).
 *
 * A bias `[cout]` and a ReLU are fused into the same kernel, y = relu(conv(x, W) + b), so a
 * convolution layer is one kernel forward instead of three (conv, Add, Relu), and backward
 * the mask dy·[y > 0] is one kernel ({@link RELU_GRAD}) instead of Step, Cast and Multiply;
 * the bias gradient is Σ over batch, height and width of that masked dy.
 */
import * as tf from '@tensorflow/tfjs';

export const GROUPED_CONV2D = 'DdinitGroupedConv2D';
export const GROUPED_CONV2D_BACKPROP_INPUT = 'DdinitGroupedConv2DBackpropInput';
export const GROUPED_CONV2D_BACKPROP_FILTER = 'DdinitGroupedConv2DBackpropFilter';
/** dx = dy · [y > 0]: the gradient through y = relu(x), from y. */
export const RELU_GRAD = 'DdinitReluGrad';

/** The activations the kernel fuses. */
export type GroupedConv2DActivation = 'linear' | 'relu';

export interface GroupedConv2DAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
  dilations: [number, number];
  groups: number;
  /** Fused after the bias; default `linear`. */
  activation?: GroupedConv2DActivation;
}

const GRADIENT_KEY = Symbol.for('ddinit.groupedConv2dGradient');

/** Registers the gradient once per tfjs registry (a second copy of this module finds it registered). */
function registerGradientOnce(): void {
  const registry = globalThis as { [GRADIENT_KEY]?: boolean };
  if (registry[GRADIENT_KEY] === true || tf.getGradient(GROUPED_CONV2D) !== undefined) return;
  registry[GRADIENT_KEY] = true;
  tf.registerGradient({
    kernelName: GROUPED_CONV2D,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const dyActivation = attrs.activation === 'relu' ? (tf.engine().runKernel(RELU_GRAD, { y, dy: dy as tf.Tensor }) as tf.Tensor) : (dy as tf.Tensor);
      return {
        x: () => tf.engine().runKernel(GROUPED_CONV2D_BACKPROP_INPUT, { dy: dyActivation, filter }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel(GROUPED_CONV2D_BACKPROP_FILTER, { x, dy: dyActivation }, { ...attrs, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(dyActivation, [0, 1, 2]),
      };
    },
  });
}

/** True when the active backend has the grouped convolution and both its gradients. */
export function hasGroupedConv2d(): boolean {
  const backend = tf.getBackend();
  return [GROUPED_CONV2D, GROUPED_CONV2D_BACKPROP_INPUT, GROUPED_CONV2D_BACKPROP_FILTER, RELU_GRAD].every((name) => tf.getKernel(name, backend) !== undefined);
}

/**
 * relu?(conv(x, filter) + bias) with channel groups (see the file doc), or undefined when the active
 * backend lacks the kernels. `bias`, when given, is `[cout]`.
 */
export function groupedConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, attrs: GroupedConv2DAttrs, bias?: tf.Tensor1D): tf.Tensor4D | undefined {
  if (!hasGroupedConv2d()) return undefined;
  registerGradientOnce();
  const inputs: tf.NamedTensorMap = bias === undefined ? { x, filter } : { x, filter, bias };
  return tf.engine().runKernel(GROUPED_CONV2D, inputs, { ...attrs, activation: attrs.activation ?? 'linear' } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

const RELU_GRADIENT_TAG = Symbol.for('ddinit.reluGradient');
type GradConfig = Parameters<typeof tf.registerGradient>[0];

/**
 * Makes tfjs's Relu gradient use {@link RELU_GRAD} on backends that have it: dy · [x > 0] in one
 * kernel instead of Step, Cast and Multiply (three passes and three tensors of the activation's
 * size; tfjs runs a layer's fused conv + bias + ReLU unfused while it records gradients, so a
 * tfjs-layers Conv2D with ReLU pays them on every training step). Other backends keep tfjs's own
 * gradient, which it wraps. Idempotent, once per tfjs registry. The masks agree except on NaN
 * inputs (tfjs's step keeps NaN, the mask takes 0), where the loss is not finite anyway.
 */
export function useReluGradKernel(): void {
  const original = tf.getGradient(tf.Relu) as (GradConfig & { [RELU_GRADIENT_TAG]?: true }) | undefined;
  if (original === undefined || original[RELU_GRADIENT_TAG] === true) return;
  const gradFunc: GradConfig['gradFunc'] = (dy, saved, attrs) => {
    if (tf.getKernel(RELU_GRAD, tf.getBackend()) === undefined) return original.gradFunc(dy, saved, attrs);
    // x > 0 exactly where relu(x) > 0: the kernel's `y` may be the input.
    return { x: () => tf.engine().runKernel(RELU_GRAD, { y: saved[0], dy: dy as tf.Tensor }) as tf.Tensor };
  };
  tf.registerGradient({ ...original, gradFunc, [RELU_GRADIENT_TAG]: true } as GradConfig);
}
