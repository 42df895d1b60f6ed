/**
 * The one place where kernel layouts are converted: tfjs kernels ↔ the paper's
 * filter rows (Krähenbühl et al. 2016, §3: a filter is one output channel,
 * flattened to a vector of length F).
 *
 * Filter rows are a `[groups, filtersPerGroup, F]` tensor: row `rows[g, f]` is
 * output channel `g·filtersPerGroup + f`. Per layout:
 *
 * | layout       | tfjs kernel                 | groups | filtersPerGroup | F               | rows[g, f, ·] element order |
 * |--------------|-----------------------------|--------|-----------------|-----------------|-----------------------------|
 * | `conv`       | `[kh, kw, cin/groups, cout]`| groups | cout/groups     | kh·kw·cin/groups| (i, j, c) row-major         |
 * | `dense`      | `[in, out]`                 | 1      | out             | in              | input unit                  |
 * | `depthwise`  | `[kh, kw, cin, mult]`       | cin    | mult            | kh·kw           | (i, j) row-major            |
 * | `transposed` | `[kh, kw, cout, cin]`       | 1      | cout            | kh·kw·cin       | (i, j, c) row-major         |
 *
 * For `conv` the element at position (i·kw + j)·cg + c (cg = cin/groups) of row
 * `rows[g, f]` multiplies the patch element
 *   x[n, oh·s_h + i·d_h − pad_top, ow·s_w + j·d_w − pad_left, g·cg + c]
 * (zero outside the image), so that
 *   y[n, oh, ow, g·filtersPerGroup + f] = rows[g, f] · patch + bias[g·filtersPerGroup + f].
 * pad_top/pad_left are the layer's explicit paddings (see `ParameterLayer.convolution`).
 * The same holds for `depthwise` with c fixed to the group's channel g, and for
 * `dense` with the patch being the input vector. For `transposed` the order
 * follows the kernel's (i, j, c) indices; the matching input patch is the
 * spatially flipped neighbourhood in the zero-upsampled input.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';

export type KernelLayout = 'conv' | 'dense' | 'depthwise' | 'transposed';

const KERNEL_RANK: Record<KernelLayout, number> = { conv: 4, dense: 2, depthwise: 4, transposed: 4 };

function checkLayout(layout: KernelLayout): void {
  if (!(layout in KERNEL_RANK)) {
    throw new ConfigError('unknown kernel layout', { where: 'kernel layout', expected: `one of ${Object.keys(KERNEL_RANK).join(', ')}`, actual: layout });
  }
}

/**
 * `[groups, filtersPerGroup, F]`: the shape of the filter rows of a kernel of
 * `kernelShape` in `layout` (see the module table).
 *
 * @throws ShapeError when the kernel rank does not fit the layout, or (conv)
 *   when cout is not divisible by groups; ConfigError for groups < 1 or groups ≠ 1
 *   where the layout has no groups.
 */
export function filterRowsShape(kernelShape: readonly number[], layout: KernelLayout, groups = 1): [number, number, number] {
  checkLayout(layout);
  if (kernelShape.length !== KERNEL_RANK[layout]) {
    throw new ShapeError(`a ${layout} kernel has rank ${KERNEL_RANK[layout]}`, {
      where: `${layout} kernel`,
      expected: `rank ${KERNEL_RANK[layout]}`,
      actual: [...kernelShape],
    });
  }
  if (!Number.isInteger(groups) || groups < 1) {
    throw new ConfigError('groups must be a positive integer', { where: `${layout} kernel`, actual: groups });
  }
  if (layout !== 'conv' && layout !== 'depthwise' && groups !== 1) {
    throw new ConfigError(`a ${layout} kernel has no groups`, { where: `${layout} kernel`, expected: 1, actual: groups });
  }
  switch (layout) {
    case 'conv': {
      const [kh, kw, cg, cout] = kernelShape;
      if (cout % groups !== 0) {
        throw new ShapeError('output channels are not divisible by groups', { where: 'conv kernel', expected: `a multiple of ${groups}`, actual: cout });
      }
      return [groups, cout / groups, kh * kw * cg];
    }
    case 'dense':
      return [1, kernelShape[1], kernelShape[0]];
    case 'depthwise': {
      const [kh, kw, cin, mult] = kernelShape;
      return [cin, mult, kh * kw];
    }
    case 'transposed': {
      const [kh, kw, cout, cin] = kernelShape;
      return [1, cout, kh * kw * cin];
    }
  }
}

/**
 * A tfjs kernel as the paper's filter rows, `[groups, filtersPerGroup, F]`
 * (layouts and element order: module doc). Pure; the caller owns the result.
 *
 * @param groups channel groups of a `conv` kernel (`[kh, kw, cin/groups, cout]`);
 *   must be 1 for `dense` and `transposed`; ignored for `depthwise` (groups = cin).
 * @throws ShapeError / ConfigError as {@link filterRowsShape}.
 * @example
 * const rows = kernelToFilterRows(kernel, 'conv', 2); // [5,5,48,256] → [2, 128, 1200]
 */
export function kernelToFilterRows(kernel: tf.Tensor, layout: KernelLayout, groups = 1): tf.Tensor3D {
  const [g, n, f] = filterRowsShape(kernel.shape, layout, layout === 'depthwise' ? 1 : groups);
  return tf.tidy('kernelToFilterRows', () => {
    switch (layout) {
      case 'conv':
        // [kh, kw, cg, cout] → [F, cout] keeps (i, j, c) row-major; columns are output channels.
        return tf.transpose(tf.reshape(kernel, [f, g * n])).reshape([g, n, f]);
      case 'dense':
        return tf.transpose(kernel).reshape([1, n, f]);
      case 'depthwise':
        return tf.transpose(kernel, [2, 3, 0, 1]).reshape([g, n, f]);
      case 'transposed':
        return tf.transpose(kernel, [2, 0, 1, 3]).reshape([1, n, f]);
    }
  });
}

/**
 * The inverse of {@link kernelToFilterRows}: filter rows `[groups, filtersPerGroup, F]`
 * back into a tfjs kernel of `kernelShape`. Pure; the caller owns the result.
 *
 * @throws ShapeError when `rows` does not have the shape `kernelShape` implies
 *   (the message names both shapes).
 */
export function filterRowsToKernel(rows: tf.Tensor, layout: KernelLayout, kernelShape: readonly number[]): tf.Tensor {
  const mismatch = (expected: unknown): ShapeError =>
    new ShapeError('filter rows do not fit the kernel shape', {
      where: `${layout} kernel [${kernelShape.join(',')}]`,
      expected,
      actual: rows.shape,
    });
  if (rows.rank !== 3) throw mismatch('[groups, filtersPerGroup, F]');
  const groups = layout === 'conv' ? rows.shape[0] : 1;
  if (layout === 'conv' && kernelShape.length === 4 && kernelShape[3] % groups !== 0) {
    throw mismatch(`[g, ${kernelShape[3]}/g, ${kernelShape[0] * kernelShape[1] * kernelShape[2]}] with g dividing ${kernelShape[3]}`);
  }
  const expected = filterRowsShape(kernelShape, layout, groups);
  if (rows.shape.some((d, i) => d !== expected[i])) throw mismatch(expected);
  const shape = [...kernelShape];
  return tf.tidy('filterRowsToKernel', () => {
    switch (layout) {
      case 'conv': {
        const [kh, kw, cg, cout] = shape;
        return tf.transpose(tf.reshape(rows, [cout, kh * kw * cg])).reshape(shape);
      }
      case 'dense':
        return tf.transpose(tf.reshape(rows, [shape[1], shape[0]]));
      case 'depthwise': {
        const [kh, kw, cin, mult] = shape;
        return tf.transpose(tf.reshape(rows, [cin, mult, kh, kw]), [2, 3, 0, 1]);
      }
      case 'transposed': {
        const [kh, kw, cout, cin] = shape;
        return tf.transpose(tf.reshape(rows, [cout, kh, kw, cin]), [1, 2, 0, 3]);
      }
    }
  });
}
