/**
 * The layer graph of any tfjs LayersModel (Sequential, functional, models nested
 * inside models), flattened into one list of layer calls in topological order.
 *
 * Nested models disappear: their layers become nodes named `outer/inner`
 * (qualified names), wired directly to the tensors the nested model was called
 * on. A layer called more than once (a shared layer) gets one node per call,
 * the later ones named `name#2`, `name#3`, …
 *
 * The order is a depth-first post-order from the model outputs, visiting a
 * layer's inputs in the order the layer takes them: for a chain it is the chain;
 * for `add([main, shortcut])` the main branch comes before the shortcut.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

/** Output `index` of node `node`. */
export interface TensorRef {
  node: number;
  index: number;
}

export interface GraphNode {
  /** Position in topological order (index into `ModelGraph.nodes`). */
  id: number;
  /** Qualified name: `outer/inner` inside nested models, `#k` for the k-th call of a shared layer. */
  name: string;
  layer: tf.layers.Layer;
  /** A model input (no inputs of its own; fed by the caller). */
  isInput: boolean;
  inputs: TensorRef[];
  /** Symbolic shapes, batch dimension first (`null` when free). */
  inputShapes: tf.Shape[];
  outputShapes: tf.Shape[];
  /** Ids of the nodes that read any output of this one, ascending. */
  consumers: number[];
}

export interface ModelGraph {
  model: tf.LayersModel;
  /** Every layer call, in topological order. */
  nodes: GraphNode[];
  /** Node ids of the model inputs, in `model.inputs` order. */
  inputs: number[];
  /** The model outputs, in `model.outputs` order. */
  outputs: TensorRef[];
  /** Node by qualified name. */
  byName: Map<string, GraphNode>;
}

function isContainer(layer: tf.layers.Layer): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

function keyOf(t: tf.SymbolicTensor): string {
  return `${t.sourceLayer.id}:${t.nodeIndex}:${t.tensorIndex}`;
}

/**
 * Flattens `model` into its layer calls.
 *
 * @throws ConfigError when the model has not been built (no symbolic inputs) or
 *   its graph is inconsistent.
 * @example
 * const graph = flattenModel(model);
 * graph.nodes.map((n) => n.name); // ['input1', 'conv1', 'pool1', 'block/conv2', …]
 */
export function flattenModel(model: tf.LayersModel): ModelGraph {
  if (!model.inputs || model.inputs.length === 0) {
    throw new ConfigError('the model has no symbolic inputs (build it with an input shape first)', { where: `model ${model.name}` });
  }
  const nodes: GraphNode[] = [];
  const byName = new Map<string, GraphNode>();

  const addNode = (
    name: string,
    layer: tf.layers.Layer,
    isInput: boolean,
    inputs: TensorRef[],
    inputShapes: tf.Shape[],
    outputShapes: tf.Shape[],
  ): GraphNode => {
    let unique = name;
    for (let k = 2; byName.has(unique); k++) unique = `${name}#${k}`;
    const node: GraphNode = { id: nodes.length, name: unique, layer, isInput, inputs, inputShapes, outputShapes, consumers: [] };
    nodes.push(node);
    byName.set(unique, node);
    return node;
  };

  const inputs = model.inputs.map((t) => addNode(t.sourceLayer.name, t.sourceLayer, true, [], [], [t.shape]).id);

  const expand = (container: tf.LayersModel, prefix: string, inputRefs: TensorRef[]): TensorRef[] => {
    const refOf = new Map<string, TensorRef>();
    container.inputs.forEach((t, i) => refOf.set(keyOf(t), inputRefs[i]));
    const visit = (t: tf.SymbolicTensor): TensorRef => {
      const known = refOf.get(keyOf(t));
      if (known !== undefined) return known;
      const layer = t.sourceLayer;
      const call = layer.inboundNodes[t.nodeIndex];
      if (call === undefined || call.inputTensors.length === 0) {
        throw new ConfigError('a tensor of the model graph does not come from the model inputs', {
          where: `layer ${prefix}${layer.name}`,
          actual: t.name,
        });
      }
      const ins = call.inputTensors.map(visit);
      const outs: TensorRef[] = isContainer(layer)
        ? expand(layer, `${prefix}${layer.name}/`, ins)
        : (() => {
            const node = addNode(
              `${prefix}${layer.name}`,
              layer,
              false,
              ins,
              call.inputTensors.map((s) => s.shape),
              call.outputTensors.map((s) => s.shape),
            );
            return call.outputTensors.map((_, index) => ({ node: node.id, index }));
          })();
      call.outputTensors.forEach((s, j) => refOf.set(keyOf(s), outs[j]));
      const ref = refOf.get(keyOf(t));
      if (ref === undefined) throw new ConfigError('inconsistent model graph', { where: `layer ${prefix}${layer.name}` });
      return ref;
    };
    return container.outputs.map(visit);
  };

  const outputs = expand(
    model,
    '',
    inputs.map((node) => ({ node, index: 0 })),
  );
  for (const node of nodes) {
    for (const ref of node.inputs) {
      const producer = nodes[ref.node];
      if (!producer.consumers.includes(node.id)) producer.consumers.push(node.id);
    }
  }
  return { model, nodes, inputs, outputs, byName };
}
