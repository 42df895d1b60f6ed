/**
 * Patch rows of a layer input at sampled output positions: an im2col of only those positions,
 * group after group (the rows @ddinit/init-within-layer's `gatherPatches` defines). On wasm with
 * the OpenBLAS addon the `DdinitGatherPatches` kernel cuts them from the input in place in the heap;
 * elsewhere {@link gatherPatchRows} returns undefined and the caller reads the input with
 * `dataSync` (CaffeNet's conv1 input on 160 images: 99 MB copied out for 4096 rows of 363).
 * This module imports only tfjs, so libraries use it without choosing a backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The kernel's name: inputs `x` ([n, h, w, cin] float32) and `positions` (int32 [rows]), output float32 [groups, rows, F]. */
export const GATHER_PATCHES = 'DdinitGatherPatches';

/** Where the patches are: the layer's window, its output size and channel groups. */
export interface PatchWindow {
  kernelSize: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padTop: number;
  padLeft: number;
  groups: number;
  /** [oh, ow]: positions count (b·oh + oy)·ow + ox. */
  outputSize: [number, number];
}

/**
 * The patch rows of `x` at `positions` as [groups, rows, F] (F = kh·kw·cin/groups; zeros outside the
 * image), or undefined when the active backend has no such kernel. The caller owns the result.
 * @example const rows = gatherPatchRows(images, Int32Array.of(0, 17), conv1Window); // [1, 2, 363]
 */
export function gatherPatchRows(x: tf.Tensor4D, positions: Int32Array, window: PatchWindow): tf.Tensor3D | undefined {
  if (x.dtype !== 'float32' || tf.getKernel(GATHER_PATCHES, tf.getBackend()) === undefined) return undefined;
  const p = tf.tensor1d(positions, 'int32');
  try {
    return tf.engine().runKernel(GATHER_PATCHES, { x, positions: p }, { ...window } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  } finally {
    p.dispose();
  }
}
