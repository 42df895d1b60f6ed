/**
 * The function-preserving variant's bookkeeping: exact (propagated) scales of
 * every node's output after the per-layer kernel factors f_k are applied, for a
 * positively homogeneous graph.
 *
 * A parameter layer scales its output by c_in·f_k when its bias is multiplied by
 * c_in·f_k (c_in: its input's scale); weightless homogeneous layers pass the scale
 * through; batch normalization passes it through when its moving mean and β are
 * multiplied by c_in. A merge (Add, Concat, …) keeps the function only when all
 * its inputs have the same scale: the nearest calibrated layer on each
 * non-reference branch (reached through single-consumer, single-input layers) is
 * *tied* — its factor is set so that the branch arrives at the reference branch's
 * scale. The reference branch is the first input without such a layer (an
 * identity shortcut), else the first input.
 */
import { ConfigError } from '@ddinit/core';
import type { ModelGraph, TensorRef } from '@ddinit/models';
import type { CalibrationLayers } from './calibration-layers';
import type { GraphTop } from './graph-forward';

const MERGE_CLASSES = new Set(['Add', 'Average', 'Maximum', 'Minimum', 'Concatenate']);

export interface Tie {
  /** Node id of the tied parameter layer. */
  node: number;
  layer: string;
  /** The merge layer it is tied at. */
  merge: string;
  /** The merge input it feeds. */
  input: number;
  /** The nodes between the tied layer and the merge (pass-through), topological order. */
  chain: number[];
}

export interface MergeTies {
  ties: Tie[];
  /** Merges where an input has no layer to tie: the function is kept there only if scales happen to agree. */
  unadjustable: { merge: string; input: number }[];
  /** Reference input of each merge node. */
  reference: Map<number, number>;
}

function adjusterOf(graph: ModelGraph, ref: TensorRef, calibrated: Set<number>): { node: number; chain: number[] } | undefined {
  const chain: number[] = [];
  let id = ref.node;
  for (;;) {
    const node = graph.nodes[id];
    if (node.isInput || node.consumers.length !== 1) return undefined;
    if (calibrated.has(id)) return { node: id, chain: chain.reverse() };
    if (node.inputs.length !== 1) return undefined;
    chain.push(id);
    id = node.inputs[0].node;
  }
}

/**
 * The structural ties of the graph up to `top` (which layers the
 * function-preserving variant ties, at which merges).
 *
 * @throws ConfigError for a merge that is not positively homogeneous of degree 1
 *   (Multiply, Dot, …): no per-layer scale keeps its function.
 */
export function findMergeTies(graph: ModelGraph, top: GraphTop, layers: CalibrationLayers): MergeTies {
  const calibrated = new Set(layers.calibrated.map((p) => p.node));
  const ties: Tie[] = [];
  const unadjustable: { merge: string; input: number }[] = [];
  const reference = new Map<number, number>();
  for (const id of top.needed) {
    const node = graph.nodes[id];
    if (node.inputs.length < 2) continue;
    const className = node.layer.getClassName();
    if (!MERGE_CLASSES.has(className)) {
      throw new ConfigError('the function-preserving calibration cannot keep the function of this merge layer', {
        where: `layer ${node.name}`,
        expected: `one of ${[...MERGE_CLASSES].join(', ')}`,
        actual: className,
      });
    }
    const adjusters = node.inputs.map((r) => adjusterOf(graph, r, calibrated));
    const ref = Math.max(
      0,
      adjusters.findIndex((a) => a === undefined),
    );
    reference.set(id, ref);
    adjusters.forEach((a, i) => {
      if (i === ref) return;
      if (a === undefined) unadjustable.push({ merge: node.name, input: i });
      else ties.push({ node: a.node, layer: graph.nodes[a.node].name, merge: node.name, input: i, chain: a.chain });
    });
  }
  return { ties, unadjustable, reference };
}

export interface ScalePlan {
  /** Kernel factor per parameter-layer node (ties applied). */
  kernelFactor: Map<number, number>;
  /** Exact scale of each node's (first) input relative to before the step. */
  inputScale: Map<number, number>;
  /** Merges whose inputs arrive at different scales (relative difference > 1e-6): the function changes there. */
  violations: { merge: string; scales: number[] }[];
}

/**
 * Propagates scales through the graph for the free factors `free` (node id →
 * f_k; absent = 1) and sets the tied layers' factors.
 */
export function planScales(graph: ModelGraph, top: GraphTop, ties: MergeTies, free: Map<number, number>): ScalePlan {
  const kernelFactor = new Map(free);
  const inputScale = new Map<number, number>();
  const scale = new Map<number, number>();
  const tieByInput = new Map<string, Tie>();
  for (const t of ties.ties) tieByInput.set(`${t.merge}:${t.input}`, t);
  const violations: { merge: string; scales: number[] }[] = [];
  for (const id of top.needed) {
    const node = graph.nodes[id];
    if (node.isInput) {
      scale.set(id, 1);
      continue;
    }
    const scales = node.inputs.map((r) => scale.get(r.node) as number);
    inputScale.set(id, scales[0]);
    if (scales.length === 1) {
      scale.set(id, scales[0] * (kernelFactor.get(id) ?? 1));
      continue;
    }
    const ref = ties.reference.get(id) ?? 0;
    const target = scales[ref];
    const arrived = scales.map((s, i) => {
      const tie = tieByInput.get(`${node.name}:${i}`);
      if (i === ref || tie === undefined) return s;
      kernelFactor.set(tie.node, (kernelFactor.get(tie.node) ?? 1) * (target / s));
      scale.set(tie.node, target);
      for (const c of tie.chain) {
        scale.set(c, target);
        inputScale.set(c, target);
      }
      return target;
    });
    if (arrived.some((s) => Math.abs(s / target - 1) > 1e-6)) violations.push({ merge: node.name, scales: arrived });
    scale.set(id, target);
  }
  return { kernelFactor, inputScale, violations };
}
