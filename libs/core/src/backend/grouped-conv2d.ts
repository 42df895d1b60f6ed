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
 */
import * as tf from '@tensorflow/tfjs';

export const GROUPED_CONV2D = 'DdinitGroupedConv2D';
export const GROUPED_CONV2D_BACKPROP_INPUT = 'DdinitGroupedConv2DBackpropInput';
export const GROUPED_CONV2D_BACKPROP_FILTER = 'DdinitGroupedConv2DBackpropFilter';

export interface GroupedConv2DAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
  dilations: [number, number];
  groups: number;
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
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const dyTensor = dy as tf.Tensor;
      return {
        x: () => tf.engine().runKernel(GROUPED_CONV2D_BACKPROP_INPUT, { dy: dyTensor, filter }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel(GROUPED_CONV2D_BACKPROP_FILTER, { x, dy: dyTensor }, { ...attrs, filterShape: filter.shape }) as tf.Tensor,
      };
    },
  });
}

/** True when the active backend has the grouped convolution and both its gradients. */
export function hasGroupedConv2d(): boolean {
  const backend = tf.getBackend();
  return [GROUPED_CONV2D, GROUPED_CONV2D_BACKPROP_INPUT, GROUPED_CONV2D_BACKPROP_FILTER].every((name) => tf.getKernel(name, backend) !== undefined);
}

/** The grouped convolution of x and filter (see the file doc), or undefined when the active backend lacks the kernels. */
export function groupedConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, attrs: GroupedConv2DAttrs): tf.Tensor4D | undefined {
  if (!hasGroupedConv2d()) return undefined;
  registerGradientOnce();
  return tf.engine().runKernel(GROUPED_CONV2D, { x, filter }, { ...attrs } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
