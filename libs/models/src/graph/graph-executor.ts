/**
 * Runs a model's flattened graph on one fixed input batch, caching every node's
 * output, so that the within-layer initializer (Krähenbühl et al. 2016, Algorithm 1;
 * docs/method.md#within-layer) costs one incremental forward per layer instead of a re-run
 * of the prefix.
 */
import * as tf from '@tensorflow/tfjs';
import { channelAffine, ConfigError, ShapeError } from '@ddinit/core';
import { activationByName, type ActivationFunction } from '../layers/registered-objects';
import { flattenModel, type GraphNode, type ModelGraph } from './model-graph';
import { parameterLayers, type ParameterLayer } from './parameter-layers';

const LINEAR = activationByName('linear');

/** Layers whose activation is fused into them and swapped out to read pre-activations. */
interface FusedActivationLayer {
  activation: ActivationFunction;
}

function hasActivationObject(layer: tf.layers.Layer): layer is tf.layers.Layer & FusedActivationLayer {
  const activation = (layer as unknown as Partial<FusedActivationLayer>).activation;
  return typeof activation === 'object' && activation !== null && typeof activation.apply === 'function';
}

/**
 * Cached, lazy, incremental forward passes of one model on one input batch.
 *
 * Every value is computed on first request, in topological order, in inference
 * mode (`training: false`: dropout is the identity, batch normalization uses its
 * moving statistics), and cached until {@link invalidate} or {@link dispose}.
 * For a parameter layer with a fused activation (`activation: 'relu'`) the node
 * is run with its activation temporarily set to `linear`, the result cached as
 * the pre-activation, and the activation applied to it for the node's output.
 * The executor reads the weights when it computes a node: after changing a
 * layer's weights, call `invalidate(layer)`, which drops that layer's cached
 * values and everything downstream of it (nothing upstream). When the change is a
 * per-channel affine map of the pre-activation (W(:, i) ← s_i·W(:, i),
 * b(i) ← s_i·b(i) + t_i, so z'_i = s_i·z_i + t_i), call
 * {@link rescalePreActivation} instead: it updates the cached value without running
 * the layer again and invalidates only what is downstream.
 *
 * Every tensor it returns is a new handle (a cheap copy) that the caller owns
 * and disposes; its own cache is kept out of the caller's `tf.tidy` scopes and
 * freed by `dispose()`. It never disposes the input batch it was given.
 *
 * Intended use, the within-layer initializer's loop:
 * ```ts
 * const run = new GraphExecutor(model, sample);       // sample: [n, h, w, c]
 * try {
 *   for (const p of run.parameterLayers) {             // topological order
 *     const x = run.layerInput(p.name);               // computed once; earlier layers are cached
 *     const kernel = drawKernel(p, x);                // e.g. k-means on patches of x
 *     writeKernel(p, kernel); writeBias(p, zeros);
 *     run.invalidate(p.name);                         // p and everything below it are stale
 *     const z = run.preActivation(p.name);            // one forward of p only
 *     ... W(:, i) ← W(:, i)/σ_i, b(i) ← β − μ_i/σ_i from z, write them ...
 *     run.rescalePreActivation(p.name, 1/σ, β − μ/σ); // z' = z/σ + β − μ/σ, no second forward of p
 *     run.commit(p.name);                             // p and above are final: free what is no longer needed
 *     tf.dispose([x, kernel, z]);
 *   }
 * } finally {
 *   run.dispose();
 * }
 * ```
 *
 * Memory: the cache holds one activation per node of the batch; `commit` frees
 * the activations that no later layer can need (those whose consumers are all
 * committed and cached), so the loop above keeps about one "frontier" of
 * activations alive. Looking back at a pruned value is allowed and recomputes it.
 *
 * @example
 * const run = new GraphExecutor(model, x);
 * const z = run.preActivation('conv1');   // [n, 55, 55, 96], before relu
 * const y = run.output();                 // same as model.predict(x)
 * tf.dispose([z, y]); run.dispose();
 */
export class GraphExecutor {
  readonly graph: ModelGraph;
  /** The model's parameter layers, in topological order. */
  readonly parameterLayers: ParameterLayer[];
  private readonly byLayerNode = new Map<number, ParameterLayer>();
  private readonly outputs = new Map<number, tf.Tensor[]>();
  private readonly preActivations = new Map<number, tf.Tensor>();
  private readonly counts: number[];
  private readonly committed = new Set<number>();
  private readonly modelOutputNodes: Set<number>;
  private disposed = false;

  /**
   * @param model a built tfjs LayersModel (any topology; nested models are flattened).
   * @param inputs one tensor per model input, batch first; not disposed, not copied.
   * @throws ShapeError when the number of inputs or an input shape does not match the model.
   * @throws ConfigError for models {@link parameterLayers} rejects.
   */
  constructor(model: tf.LayersModel, inputs: tf.Tensor | tf.Tensor[], options: { graph?: ModelGraph } = {}) {
    this.graph = options.graph ?? flattenModel(model);
    this.parameterLayers = parameterLayers(this.graph);
    for (const p of this.parameterLayers) this.byLayerNode.set(p.node, p);
    this.counts = new Array<number>(this.graph.nodes.length).fill(0);
    this.modelOutputNodes = new Set(this.graph.outputs.map((r) => r.node));
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.graph.inputs.length) {
      throw new ShapeError('wrong number of model inputs', { where: `model ${model.name}`, expected: this.graph.inputs.length, actual: list.length });
    }
    this.graph.inputs.forEach((id, i) => {
      const node = this.graph.nodes[id];
      const expected = node.outputShapes[0];
      const actual = list[i].shape;
      if (actual.length !== expected.length || expected.some((d, k) => d != null && d !== actual[k])) {
        throw new ShapeError('input batch does not match the model input', { where: `input ${node.name}`, expected, actual });
      }
    });
    this.graph.inputs.forEach((id, i) => this.outputs.set(id, [tf.keep(tf.clone(list[i]))]));
  }

  /** The input of a single-input node (e.g. a parameter layer), `[n, …inputShape]`. */
  layerInput(name: string): tf.Tensor {
    const node = this.node(name);
    if (node.inputs.length !== 1) {
      throw new ConfigError('layerInput needs a single-input layer', { where: `layer ${name}`, actual: `${node.inputs.length} inputs` });
    }
    const ref = node.inputs[0];
    return tf.clone(this.valueOf(ref.node)[ref.index]);
  }

  /**
   * A parameter layer's output before its fused activation (`[n, …outputShape]`);
   * for a layer without a fused activation, its output.
   */
  preActivation(name: string): tf.Tensor {
    const node = this.node(name);
    if (!this.isFused(node)) return tf.clone(this.valueOf(node.id)[0]);
    if (!this.preActivations.has(node.id) || !this.outputs.has(node.id)) {
      if (this.outputs.has(node.id)) this.drop(node.id); // pruned pre-activation: recompute this node only (same weights, same values)
      this.valueOf(node.id);
    }
    return tf.clone(this.preActivations.get(node.id) as tf.Tensor);
  }

  /** A node's (first) output, after its activation. */
  layerOutput(name: string): tf.Tensor {
    return tf.clone(this.valueOf(this.node(name).id)[0]);
  }

  /** The model's output (an array for multi-output models), as `model.predict` would give. */
  output(): tf.Tensor | tf.Tensor[] {
    this.checkLive('model output');
    const values = this.graph.outputs.map((r) => tf.clone(this.valueOf(r.node)[r.index]));
    return values.length === 1 ? values[0] : values;
  }

  /**
   * Drops the cached values of `name` and of every node downstream of it, so
   * they are recomputed (with the current weights) on the next request. Nothing
   * upstream is touched.
   */
  invalidate(name: string): void {
    this.dropFrom([this.node(name).id]);
  }

  /** Drops the cached values of the nodes `start` and of everything downstream of them. */
  private dropFrom(start: number[]): void {
    const stack = [...start];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (seen.has(id)) continue;
      seen.add(id);
      this.drop(id);
      stack.push(...this.graph.nodes[id].consumers);
    }
  }

  /**
   * Replaces the cached pre-activation z of parameter layer `name` by the per-channel
   * affine map z'[…, i] = scale_i · z[…, i] + shift_i (i the last, channel axis), and
   * re-derives the node's output from z' by the layer's activation (fused or not;
   * identity for a linear layer), without running the layer again; then drops every
   * node downstream of it (consumers and below), nothing upstream.
   *
   * The caller asserts that the layer's current weights produce z' on the cached
   * input, e.g. after W(:, i) ← W(:, i)·scale_i and b(i) ← b(i)·scale_i + shift_i
   * (within-layer normalization: scale_i = 1/σ_i, shift_i = β − μ_i/σ_i with b = 0
   * before). The result equals a recompute up to float32 rounding (≈1e-7 relative).
   * `evaluations(name)` does not change.
   *
   * @param scale, shift length C (the layer's output channels).
   * @throws ConfigError when `name` is not a parameter layer, has a non-linear activation
   *   that is not fused (its output is not an affine image of z), or its pre-activation
   *   is not cached (call `preActivation` first; after `invalidate` or `commit` there is
   *   nothing to rescale); ShapeError when scale/shift lengths differ from C.
   * @example
   * const z = run.preActivation('conv1');            // with W drawn, b = 0
   * const { mean, std } = channelMoments(z);
   * writeKernel(p, W / std); writeBias(p, β − mean / std);
   * run.rescalePreActivation('conv1', std.map((s) => 1 / s), mean.map((m, i) => β − m / std[i]));
   */
  rescalePreActivation(name: string, scale: ArrayLike<number>, shift: ArrayLike<number>): void {
    const node = this.node(name);
    const where = `layer ${name}`;
    const p = this.byLayerNode.get(node.id);
    if (p === undefined) throw new ConfigError('rescalePreActivation needs a parameter layer', { where, actual: node.layer.getClassName() });
    const fused = this.isFused(node);
    if (!fused && p.kind !== 'batchnorm' && p.activation !== 'linear') {
      throw new ConfigError('cannot rescale the pre-activation of a layer whose activation is not fused (its output is not affine in it)', {
        where,
        actual: p.activation,
      });
    }
    const cached = this.outputs.get(node.id);
    const pre = fused ? this.preActivations.get(node.id) : cached?.[0];
    if (cached === undefined || pre === undefined || cached.length !== 1) {
      throw new ConfigError('no cached pre-activation to rescale (call preActivation first)', {
        where,
        actual: cached === undefined ? 'not cached' : `${cached.length} outputs`,
      });
    }
    const channels = pre.shape[pre.rank - 1];
    if (scale.length !== channels || shift.length !== channels) {
      throw new ShapeError('scale and shift need one value per output channel', {
        where,
        expected: channels,
        actual: { scale: scale.length, shift: shift.length },
      });
    }
    const layer = node.layer;
    const [z, y] = tf.tidy(() => {
      const next = channelAffine(pre, tf.tensor1d(Float32Array.from(scale)), tf.tensor1d(Float32Array.from(shift)));
      return [next, fused && hasActivationObject(layer) ? layer.activation.apply(next) : next];
    });
    this.dropFrom(node.consumers);
    tf.dispose(cached);
    if (fused) {
      pre.dispose();
      this.preActivations.set(node.id, tf.keep(z));
      this.outputs.set(node.id, [tf.keep(y)]);
    } else {
      this.outputs.set(node.id, [tf.keep(z)]);
    }
  }

  /**
   * Declares `name` and everything upstream of it final (its weights will not
   * change again) and frees cached activations no uncommitted layer can need:
   * those of committed nodes whose consumers are all committed and cached, and
   * the pre-activations of committed layers. The model inputs and outputs stay.
   */
  commit(name: string): void {
    const stack = [this.node(name).id];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (this.committed.has(id)) continue;
      this.committed.add(id);
      stack.push(...this.graph.nodes[id].inputs.map((r) => r.node));
    }
    for (const id of [...this.committed].sort((a, b) => a - b)) {
      const pre = this.preActivations.get(id);
      if (pre !== undefined) {
        pre.dispose();
        this.preActivations.delete(id);
      }
      const node = this.graph.nodes[id];
      if (node.isInput || this.modelOutputNodes.has(id) || !this.outputs.has(id)) continue;
      if (node.consumers.every((c) => this.committed.has(c) && this.outputs.has(c))) {
        tf.dispose(this.outputs.get(id));
        this.outputs.delete(id);
      }
    }
  }

  /** How many times the node has been computed (for tests and diagnostics). */
  evaluations(name: string): number {
    return this.counts[this.node(name).id];
  }

  /** Number of tensors the cache holds (inputs included). */
  cachedTensorCount(): number {
    let n = this.preActivations.size;
    for (const values of this.outputs.values()) n += values.length;
    return n;
  }

  /** Frees every cached tensor. The executor cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const values of this.outputs.values()) tf.dispose(values);
    for (const pre of this.preActivations.values()) pre.dispose();
    this.outputs.clear();
    this.preActivations.clear();
    this.disposed = true;
  }

  private checkLive(where: string): void {
    if (this.disposed) throw new ConfigError('the graph executor has been disposed', { where });
  }

  private node(name: string): GraphNode {
    this.checkLive(`layer ${name}`);
    const node = this.graph.byName.get(name);
    if (node === undefined) {
      throw new ConfigError('no such layer in the model graph', {
        where: `layer ${name}`,
        expected: `one of ${[...this.graph.byName.keys()].join(', ')}`,
        actual: name,
      });
    }
    return node;
  }

  private isFused(node: GraphNode): boolean {
    const p = this.byLayerNode.get(node.id);
    return p !== undefined && p.kind !== 'batchnorm' && p.activation !== 'linear' && hasActivationObject(node.layer);
  }

  private drop(id: number): void {
    if (this.graph.nodes[id].isInput) return;
    const values = this.outputs.get(id);
    if (values !== undefined) tf.dispose(values);
    this.outputs.delete(id);
    const pre = this.preActivations.get(id);
    if (pre !== undefined) pre.dispose();
    this.preActivations.delete(id);
  }

  /** The cached outputs of a node, computing it and its missing ancestors in topological order. */
  private valueOf(id: number): tf.Tensor[] {
    const cached = this.outputs.get(id);
    if (cached !== undefined) return cached;
    const missing = new Set<number>();
    const stack = [id];
    while (stack.length > 0) {
      const n = stack.pop() as number;
      if (missing.has(n) || this.outputs.has(n)) continue;
      missing.add(n);
      stack.push(...this.graph.nodes[n].inputs.map((r) => r.node));
    }
    for (const n of [...missing].sort((a, b) => a - b)) this.compute(n);
    return this.outputs.get(id) as tf.Tensor[];
  }

  private compute(id: number): void {
    const node = this.graph.nodes[id];
    const inputs = node.inputs.map((r) => (this.outputs.get(r.node) as tf.Tensor[])[r.index]);
    const args = inputs.length === 1 ? inputs[0] : inputs;
    const layer = node.layer;
    if (this.isFused(node) && hasActivationObject(layer)) {
      const activation = layer.activation;
      const [pre, post] = tf.tidy(() => {
        layer.activation = LINEAR;
        let z: tf.Tensor;
        try {
          z = layer.apply(args, { training: false }) as tf.Tensor;
        } finally {
          layer.activation = activation;
        }
        return [z, activation.apply(z)];
      });
      this.preActivations.set(id, tf.keep(pre));
      this.outputs.set(id, [tf.keep(post)]);
    } else {
      const result = tf.tidy(() => {
        const y = layer.apply(args, { training: false }) as tf.Tensor | tf.Tensor[];
        // Layers such as Dropout (inference) return their input itself: cache a handle of its own.
        return (Array.isArray(y) ? y : [y]).map((t) => (inputs.includes(t) ? tf.clone(t) : t));
      });
      this.outputs.set(
        id,
        result.map((t) => tf.keep(t)),
      );
    }
    this.counts[id]++;
  }
}
