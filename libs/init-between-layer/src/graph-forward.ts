/**
 * A differentiable forward pass over a model's flattened graph (from
 * `@ddinit/models`), up to the **last non-loss layer** — the pre-activation the
 * random top gradient of Krähenbühl et al. 2016, §3.2 is fed into — with a hook
 * called before every layer, where the calibration rescales weights in
 * topological order (so each bias correction sees the input computed with the
 * already-rescaled layers below, as the reference's update loop does).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import type { GraphNode, ModelGraph } from '@ddinit/models';
import { applyDilatedConv2d, isDilatedConvolution } from './dilated-conv';

/** Weightless layers that only turn logits into probabilities: the top gradient skips them. */
const OUTPUT_ACTIVATION_CLASSES = new Set(['Activation', 'Softmax']);

/** Where the top gradient enters. */
export interface GraphTop {
  /** The node whose (pre-activation) output receives the gradient. */
  node: GraphNode;
  /** True when `node` has a fused non-linear activation that the forward bypasses. */
  bypassActivation: boolean;
  /** Output-activation layers stripped above `node` (e.g. a final softmax), for reports. */
  stripped: string[];
  /** Ids of the nodes the top depends on, in topological order. */
  needed: number[];
}

interface FusedActivation {
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
}

function fusedActivationOf(layer: tf.layers.Layer): FusedActivation['activation'] | undefined {
  const activation = (layer as unknown as Partial<FusedActivation>).activation;
  return typeof activation === 'object' && activation !== null && typeof activation.apply === 'function' ? activation : undefined;
}

/** tfjs's `linear` activation object, from its serialization registry. */
function linearActivation(): FusedActivation['activation'] {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['linear'] as unknown as [new () => FusedActivation['activation'], unknown] | undefined;
  if (entry === undefined) throw new ConfigError('tfjs has no registered linear activation', { where: 'graph forward' });
  return new entry[0]();
}

/**
 * The last non-loss layer of a single-output model: the output node, or — when
 * that is a weightless `Activation`/`Softmax` layer — the node feeding it. If
 * that node has a fused non-linear activation (`dense({activation: 'softmax'})`),
 * the forward returns its pre-activation.
 *
 * @throws ConfigError for a model with several outputs (name the one to calibrate
 *   against by building a single-output model).
 */
export function findTop(graph: ModelGraph): GraphTop {
  if (graph.outputs.length !== 1) {
    throw new ConfigError('calibration needs a single-output model', {
      where: `model ${graph.model.name}`,
      expected: '1 output',
      actual: `${graph.outputs.length} outputs`,
    });
  }
  let node = graph.nodes[graph.outputs[0].node];
  const stripped: string[] = [];
  while (OUTPUT_ACTIVATION_CLASSES.has(node.layer.getClassName()) && node.inputs.length === 1 && node.layer.weights.length === 0) {
    stripped.push(node.name);
    node = graph.nodes[node.inputs[0].node];
  }
  const activation = fusedActivationOf(node.layer);
  const bypassActivation = activation !== undefined && activation.getClassName() !== 'linear';
  const needed = new Set<number>();
  const stack = [node.id];
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (needed.has(id)) continue;
    needed.add(id);
    stack.push(...graph.nodes[id].inputs.map((r) => r.node));
  }
  return { node, bypassActivation, stripped, needed: [...needed].sort((a, b) => a - b) };
}

/** Called with a node and its input tensors, before the node is computed. */
export type BeforeNodeHook = (node: GraphNode, inputs: tf.Tensor[]) => void;

/**
 * Kernel factors c_k by node id that the forward applies without writing the
 * kernels: the layer computes with c_k·W_k by receiving c_k·x instead of x
 * (convolutions and dense layers are bilinear in input and kernel before the
 * bias). Read after the node's {@link BeforeNodeHook}, which may change it.
 * Keeping the kernel tensors unchanged lets the backend reuse its packed
 * weights (wasm/XNNPACK re-packs a kernel whose data changed on its next
 * product: ~0.1–0.7 s for CaffeNet's fc6) and avoids copying the big kernels
 * every iteration.
 */
export type KernelScales = ReadonlyMap<number, number>;

/** One layer in inference mode; a dilated convolution through {@link applyDilatedConv2d}, which has a gradient. */
function applyLayer(layer: tf.layers.Layer, args: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  if (isDilatedConvolution(layer) && !Array.isArray(args)) return applyDilatedConv2d(layer, args);
  return layer.apply(args, { training: false }) as tf.Tensor | tf.Tensor[];
}

/**
 * Runs the graph in inference mode (dropout off, batch normalization on its moving
 * statistics) up to `top`, returning the top's pre-activation `[n, …]`. Not
 * wrapped in `tf.tidy` (so it can run inside `tf.variableGrads`): call it inside
 * one. The input is not disposed. `kernelScales`: see {@link KernelScales}.
 */
export function forwardToTop(graph: ModelGraph, top: GraphTop, input: tf.Tensor, beforeNode?: BeforeNodeHook, kernelScales?: KernelScales): tf.Tensor {
  const values = new Map<number, tf.Tensor[]>();
  for (const id of top.needed) {
    const node = graph.nodes[id];
    if (node.isInput) {
      values.set(id, [input]);
      continue;
    }
    const inputs = node.inputs.map((r) => (values.get(r.node) as tf.Tensor[])[r.index]);
    beforeNode?.(node, inputs);
    const scale = kernelScales?.get(id) ?? 1;
    const scaled = scale === 1 ? inputs : [tf.mul(inputs[0], scale), ...inputs.slice(1)];
    const args = scaled.length === 1 ? scaled[0] : scaled;
    let output: tf.Tensor | tf.Tensor[];
    if (id === top.node.id && top.bypassActivation) {
      const holder = node.layer as unknown as FusedActivation;
      const saved = holder.activation;
      holder.activation = linearActivation();
      try {
        output = applyLayer(node.layer, args);
      } finally {
        holder.activation = saved;
      }
    } else {
      output = applyLayer(node.layer, args);
    }
    values.set(id, Array.isArray(output) ? output : [output]);
  }
  return (values.get(top.node.id) as tf.Tensor[])[0];
}
