/**
 * Residual merges (docs/method.md#residual-add): an `Add` of two
 * unit-variance branches has variance ≈ 2, growing with depth. This rescales the
 * scalable branch ends — inputs of the Add produced directly by an initialized
 * parameter layer without a nonlinearity (a linear conv/dense, or a batchnorm) — by a
 * per-channel factor a_i so that the merge output has unit variance:
 *   Var(a·B + X) = a²·Var(B) + 2a·Cov(B, X) + Var(X) = 1,
 *   a = (−Cov(B, X) + √(Cov(B, X)² − Var(B)·(Var(X) − 1))) / Var(B),
 * with B the sum of the scalable branches and X the rest (identity shortcuts). A channel
 * without a positive root (Var(X) > 1 with little covariance) keeps a = 1 and is counted.
 */
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '@ddinit/core';
import { hasWeight, readWeight, writeWeight, type GraphNode, type ParameterLayer } from '@ddinit/models';
import { outputKernel, scaleOutputChannels } from './output-channels';

export interface ResidualRescaleStats {
  /** The Add layer. */
  name: string;
  /** Branch-end layers that were scaled. */
  scaled: string[];
  /** Channel-mean factor a. */
  meanScale: number;
  /** Channels left unscaled (no positive root). */
  unsolvedChannels: number;
  /** Channel-mean std of the merge output after rescaling. */
  outStd: number;
}

/** A parameter layer whose output can be scaled per channel without changing anything else. */
export function isScalableEnd(layer: ParameterLayer): boolean {
  return layer.kind === 'batchnorm' ? hasWeight(layer, 'gamma') : layer.activation === 'linear';
}

/** Per-channel a from the merge's scalable and fixed parts ([..., C] values, flattened). */
export function solveResidualScales(b: Float32Array, x: Float32Array | null, channels: number): { scale: Float32Array; unsolved: number } {
  const n = b.length / channels;
  const mb = new Float64Array(channels);
  const mx = new Float64Array(channels);
  for (let o = 0; o < b.length; o += channels) {
    for (let i = 0; i < channels; i++) {
      mb[i] += b[o + i] / n;
      if (x !== null) mx[i] += x[o + i] / n;
    }
  }
  const vb = new Float64Array(channels);
  const vx = new Float64Array(channels);
  const cbx = new Float64Array(channels);
  for (let o = 0; o < b.length; o += channels) {
    for (let i = 0; i < channels; i++) {
      const db = b[o + i] - mb[i];
      const dx = x === null ? 0 : x[o + i] - mx[i];
      vb[i] += (db * db) / n;
      vx[i] += (dx * dx) / n;
      cbx[i] += (db * dx) / n;
    }
  }
  const scale = new Float32Array(channels);
  let unsolved = 0;
  for (let i = 0; i < channels; i++) {
    const disc = cbx[i] * cbx[i] - vb[i] * (vx[i] - 1);
    const a = vb[i] > 0 && disc >= 0 ? (-cbx[i] + Math.sqrt(disc)) / vb[i] : NaN;
    if (Number.isFinite(a) && a > 0) scale[i] = a;
    else {
      scale[i] = 1;
      unsolved++;
    }
  }
  return { scale, unsolved };
}

/** Multiplies a branch end's output channels by `scale` (kernel and bias, or γ and β). */
export function scaleLayerOutput(layer: ParameterLayer, scale: Float32Array): void {
  const roles = layer.kind === 'batchnorm' ? (['gamma', 'beta'] as const) : (['bias'] as const);
  for (const role of roles) {
    if (!hasWeight(layer, role)) continue;
    const value = readWeight(layer, role);
    const scaled = tf.tidy(() => tf.mul(value, tf.tensor1d(scale)));
    try {
      writeWeight(layer, role, scaled);
    } finally {
      tf.dispose([value, scaled]);
    }
  }
  if (layer.kind === 'batchnorm') return;
  const info = outputKernel(layer);
  const kernel = readWeight(layer, info.role);
  const scaled = scaleOutputChannels(kernel, info, scale);
  try {
    writeWeight(layer, info.role, scaled);
  } finally {
    tf.dispose([kernel, scaled]);
  }
}

/** True for a merge node this rule handles (tfjs `Add`). */
export function isResidualAdd(node: GraphNode): boolean {
  return !node.isInput && node.layer.getClassName() === 'Add' && node.inputs.length >= 2;
}

export function logUnsolved(logger: Logger, name: string, unsolved: number, channels: number): void {
  if (unsolved > 0) {
    logger.warn(`within-layer: layer ${name}: residual rescale has no positive solution for ${unsolved} of ${channels} channels (left unscaled)`, {
      layer: name,
      unsolvedChannels: unsolved,
      channels,
    });
  }
}
