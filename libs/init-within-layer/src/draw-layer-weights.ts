/**
 * Step 1 of docs/method.md#within-layer for one parameter layer: its kernel(s) drawn from the
 * configured weight source, per group, from patches of the layer's actual input.
 *
 * | kind         | patches (per group)                                  | filters per group |
 * |--------------|------------------------------------------------------|-------------------|
 * | `conv`       | kh·kw·cin/groups, stride/padding/dilation respected  | cout/groups       |
 * | `dense`      | the flattened input row                              | units             |
 * | `depthwise`  | kh·kw of one input channel (groups = cin)            | depth multiplier  |
 * | `separable`  | depthwise part as above, then the pointwise part as a 1×1 conv on the depthwise output (depthwise output scaled to unit std per channel) | cin·mult → cout |
 * | `transposed` | gaussian/orthogonal only (see README: a data-dependent source has no patch space of its own there) | cout |
 *
 * Fallbacks (too few rows, degenerate covariance) happen only when configured, and
 * are logged with the layer name and counts.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, NumericalError, type Logger, type Rng } from '@ddinit/core';
import { filterRowsShape, filterRowsToKernel, type KernelInfo, type ParameterLayer } from '@ddinit/models';
import { DENSE_GEOMETRY, gatherPatches, type PatchGeometry } from './gather-patches';
import { channelMoments } from './channel-moments';
import { randomKernel } from './random-filters';
import { whitenedFilters, type WhitenedMethod } from './whitened-filters';
import { isRandomMethod, type Fallback, type WithinMethod, type WithinLayerOptions } from './within-layer-options';

export interface DrawnWeights {
  /** Kernels to write, by role; the caller owns and disposes them. */
  kernels: { role: KernelInfo['role']; value: tf.Tensor }[];
  /** The source actually used (the fallback's when one happened). */
  method: WithinMethod;
  /** Null, or what happened: `too few rows (160 < 4096) → gaussian`. */
  fallback: string | null;
  /** Patch rows used per group (0 for data-free sources). */
  rows: number;
}

interface DrawContext {
  layer: ParameterLayer;
  method: WithinMethod;
  rng: Rng;
  options: WithinLayerOptions;
  logger: Logger;
}

function convGeometry(p: ParameterLayer, groups: number): PatchGeometry {
  const conv = p.convolution;
  if (conv === null || conv.pads === null) {
    throw new ConfigError('the layer has no known convolution geometry (unknown input size?)', { where: `layer ${p.name}`, actual: p.inputShape });
  }
  return { kernelSize: conv.kernelSize, strides: conv.strides, dilation: conv.dilation, padTop: conv.pads.top, padLeft: conv.pads.left, groups };
}

function spatialOutput(p: ParameterLayer): [number, number] {
  return [Number(p.outputShape[1] ?? 0), Number(p.outputShape[2] ?? 0)];
}

/** One kernel drawn from patches of `x` (4-D), or a data-free draw (the caller owns `value`). */
async function drawKernel(
  ctx: DrawContext,
  kernel: KernelInfo,
  x: tf.Tensor4D,
  geometry: PatchGeometry,
  outputSize: [number, number],
  tag: string,
): Promise<{ value: tf.Tensor; method: WithinMethod; fallback: string | null; used: number }> {
  const { layer, options, logger } = ctx;
  const [groups, count, features] = filterRowsShape(kernel.shape, kernel.layout, kernel.layout === 'conv' ? kernel.groups : 1);
  const where = `layer ${layer.name}${tag}`;
  const rng = ctx.rng.derive(kernel.role);
  if (isRandomMethod(ctx.method)) return { value: randomKernel(ctx.method, kernel, rng, where), method: ctx.method, fallback: null, used: 0 };
  if (ctx.method === 'zca' && count !== features) {
    throw new ConfigError('zca needs as many filters as patch elements (N = F); use pca, or a rule for this layer', {
      where,
      expected: `N = F = ${features}`,
      actual: `N = ${count}`,
    });
  }
  const fallBack = (policy: Fallback, reason: string, fields: Record<string, unknown>, error: () => Error) => {
    if (policy === 'error') throw error();
    logger.warn(`within-layer: ${where}: ${reason}; falling back to ${policy}`, { layer: layer.name, method: ctx.method, fallback: policy, ...fields });
    return { value: randomKernel(policy, kernel, rng, where), method: policy, fallback: `${reason} → ${policy}`, used: 0 };
  };

  const patches = gatherPatches(x, geometry, outputSize, {
    rng: rng.derive('positions'),
    maxRows: options.maxPatchRows,
    maxBytes: options.maxPatchBytes,
    where,
  });
  try {
    if (patches.rows < count) {
      const reason = `too few patch rows (${patches.rows} < ${count} filters per group)`;
      return fallBack(
        options.fallback.onTooFewRows,
        reason,
        { rows: patches.rows, filters: count, positions: patches.positions },
        () =>
          new DataError(`too few patch rows for ${count} ${ctx.method} filters (configure fallback.onTooFewRows, or a larger sample)`, {
            where,
            expected: `at least ${count} rows`,
            actual: `${patches.rows} rows (${patches.positions} positions in the sample)`,
          }),
      );
    }
    const perGroup: tf.Tensor2D[] = [];
    try {
      for (let g = 0; g < groups; g++) {
        const result = await whitenedFilters(ctx.method as WhitenedMethod, patches.groups[g], count, rng.derive(`group-${g}`), {
          epsilon: options.epsilon,
          minEigenvalue: options.minEigenvalue,
          kmeans: options.kmeans,
          eigen: options.eigen,
          where: groups > 1 ? `${where} group ${g}` : where,
          logger,
        });
        if (!result.ok) {
          const reason = `degenerate patch covariance (rank ${result.rank} < ${result.needed}${groups > 1 ? ` in group ${g}` : ''})`;
          return fallBack(
            options.fallback.onDegenerate,
            reason,
            { rank: result.rank, needed: result.needed, rows: patches.rows },
            () =>
              new NumericalError(`degenerate patch covariance for ${ctx.method} (configure fallback.onDegenerate)`, {
                where: groups > 1 ? `${where} group ${g}` : where,
                expected: `at least ${result.needed} eigenvalues ≥ ${options.minEigenvalue}`,
                actual: `${result.rank}`,
              }),
          );
        }
        perGroup.push(result.filters);
      }
      return { value: toKernel(kernel, tf.stack(perGroup) as tf.Tensor3D), method: ctx.method, fallback: null, used: patches.rows };
    } finally {
      tf.dispose(perGroup);
    }
  } finally {
    tf.dispose(patches.groups);
  }
}

/** The kernel holding `rows` ([G, N, F], disposed). */
function toKernel(kernel: KernelInfo, rows: tf.Tensor3D): tf.Tensor {
  try {
    return filterRowsToKernel(rows, kernel.layout, kernel.shape);
  } finally {
    rows.dispose();
  }
}

/** `[P, 1, 1, units]`: a dense layer's input rows as 1×1 images. */
function denseRows(x: tf.Tensor): tf.Tensor4D {
  const units = x.shape[x.rank - 1];
  return tf.reshape(x, [x.size / units, 1, 1, units]);
}

/**
 * Draws the kernel(s) of `layer` from its input `x` (the layer's input on the sample,
 * not disposed).
 *
 * @throws ConfigError for zca with N ≠ F, a data-dependent source on a transposed
 *   convolution, or an unsupported kind; DataError (too few rows) and NumericalError
 *   (degenerate covariance) unless a fallback is configured.
 */
export async function drawLayerWeights(
  layer: ParameterLayer,
  method: WithinMethod,
  x: tf.Tensor,
  rng: Rng,
  options: WithinLayerOptions,
  logger: Logger,
): Promise<DrawnWeights> {
  const ctx: DrawContext = { layer, method, rng, options, logger };
  const where = `layer ${layer.name}`;
  switch (layer.kind) {
    case 'conv':
    case 'depthwise': {
      const kernel = layer.kernels[0];
      const groups = layer.kind === 'conv' ? layer.groups : layer.inputChannels;
      const drawn = await drawKernel(ctx, kernel, x as tf.Tensor4D, convGeometry(layer, groups), spatialOutput(layer), '');
      return { kernels: [{ role: kernel.role, value: drawn.value }], method: drawn.method, fallback: drawn.fallback, rows: drawn.used };
    }
    case 'dense': {
      const kernel = layer.kernels[0];
      const rowsInput = denseRows(x);
      try {
        const drawn = await drawKernel(ctx, kernel, rowsInput, DENSE_GEOMETRY, [1, 1], '');
        return { kernels: [{ role: kernel.role, value: drawn.value }], method: drawn.method, fallback: drawn.fallback, rows: drawn.used };
      } finally {
        rowsInput.dispose();
      }
    }
    case 'separable':
      return drawSeparable(ctx, x as tf.Tensor4D);
    case 'transposed': {
      if (!isRandomMethod(method)) {
        throw new ConfigError('a transposed convolution supports only data-free sources (its filters live in the output space)', {
          where,
          expected: 'gaussian or orthogonal (add a layer rule)',
          actual: method,
        });
      }
      const kernel = layer.kernels[0];
      return { kernels: [{ role: kernel.role, value: randomKernel(method, kernel, rng.derive(kernel.role), where) }], method, fallback: null, rows: 0 };
    }
    default:
      throw new ConfigError('no weight source for this layer kind', { where, expected: 'conv, dense, depthwise, separable or transposed', actual: layer.kind });
  }
}

/** Separable: depthwise part from x, scaled to unit std per channel, then pointwise from its output. */
async function drawSeparable(ctx: DrawContext, x: tf.Tensor4D): Promise<DrawnWeights> {
  const { layer } = ctx;
  const [depthwise, pointwise] = layer.kernels;
  const conv = layer.convolution;
  if (conv === null) throw new ConfigError('separable layer without convolution geometry', { where: `layer ${layer.name}` });
  const first = await drawKernel(ctx, depthwise, x, convGeometry(layer, layer.inputChannels), spatialOutput(layer), ' (depthwise)');
  let dwKernel = first.value;
  const mid = tf.tidy(() => tf.depthwiseConv2d(x, dwKernel as tf.Tensor4D, conv.strides, conv.padding, 'NHWC', conv.dilation));
  try {
    const { std } = channelMoments(mid, `layer ${layer.name} (depthwise output)`);
    const [, , cin, mult] = depthwise.shape;
    const scale = Float32Array.from(std, (s) => (s > 0 ? 1 / s : 1));
    const scaled = tf.tidy(() => tf.mul(dwKernel, tf.tensor4d(scale, [1, 1, cin, mult])));
    dwKernel.dispose();
    dwKernel = scaled;
    const midScaled = tf.tidy(() => tf.mul(mid, tf.tensor1d(scale)) as tf.Tensor4D);
    try {
      const unit: PatchGeometry = { ...DENSE_GEOMETRY };
      const second = await drawKernel(ctx, pointwise, midScaled, unit, [midScaled.shape[1], midScaled.shape[2]], ' (pointwise)');
      const fallback = [first.fallback, second.fallback].filter((f) => f !== null).join('; ') || null;
      return {
        kernels: [
          { role: depthwise.role, value: dwKernel },
          { role: pointwise.role, value: second.value },
        ],
        method: second.method === first.method ? first.method : second.method,
        fallback,
        rows: Math.max(first.used, second.used),
      };
    } finally {
      midScaled.dispose();
    }
  } catch (error) {
    dwKernel.dispose();
    throw error;
  } finally {
    mid.dispose();
  }
}
