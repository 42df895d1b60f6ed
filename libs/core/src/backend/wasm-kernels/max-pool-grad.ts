/**
 * MaxPoolGrad for the wasm backend, replacing wasm 4.22's own kernel (the largest
 * kernel of a caffenet-small training step after ddinit's other kernels).
 *
 *   dx[b, ih, iw, c] = Σ over windows (oh, ow) whose first maximum of channel c is at (ih, iw) of dy[b, oh, ow, c]
 *
 * with windows `ih ∈ [oh·sh − padTop, oh·sh − padTop + filterHeight)` (columns
 * likewise, padding excluded) scanned row by row, the first maximum winning ties —
 * the cpu backend's rule, which matters after a ReLU, where windows of zeros are
 * common. One pass over the windows, all channels of a pixel at a time.
 *
 * Inputs `dy: [batch, outHeight, outWidth, C]`, `input: [batch, inHeight, inWidth, C]`
 * (float32; `output` is not needed); attrs `filterSize`, `strides`, `pad`,
 * `dimRoundingMode`; output `input.shape`.
 *
 * @throws ShapeError for non-float32 tensors or a `dy` whose shape is not the
 *   pooling's output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { assertShape, validOutputRange } from './conv-geometry';
import { heapFloat32, kernelInput, type WasmKernelArgs } from './wasm-backend';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export function maxPoolGrad({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo {
  const dy = kernelInput('MaxPoolGrad', inputs, 'dy');
  const x = kernelInput('MaxPoolGrad', inputs, 'input');
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  assertShape('wasm kernel MaxPoolGrad', 'dy shape', dy.shape, info.outShape);
  heapFloat32(backend, dy);
  heapFloat32(backend, x);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
  const { top: padTop, left: padLeft } = info.padInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  const dx = heapFloat32(backend, out).fill(0);
  const xs = heapFloat32(backend, x);
  const dys = heapFloat32(backend, dy);
  const best = new Float32Array(C);
  const bestAt = new Int32Array(C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * sh - padTop;
      const [khStart, khEnd] = validOutputRange(ih0, 1, H, KH);
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * sw - padLeft;
        const [kwStart, kwEnd] = validOutputRange(iw0, 1, W, KW);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let kh = khStart; kh < khEnd; kh++) {
          for (let kw = kwStart; kw < kwEnd; kw++) {
            const p = ((b * H + ih0 + kh) * W + iw0 + kw) * C;
            for (let c = 0; c < C; c++) {
              const v = xs[p + c];
              if (v > best[c]) {
                best[c] = v;
                bestAt[c] = p + c;
              }
            }
          }
        }
        const q = ((b * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (bestAt[c] >= 0) dx[bestAt[c]] += dys[q + c];
      }
    }
  }
  return out;
}
