/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (tfjs-backend-wasm
 * 4.22 has none).
 *
 * For `y = depthwiseConv2d(x, W)` with channel multiplier `M`:
 *
 *   dx[b, ih, iw, c] = Σ_{kh, kw, m} dy[b, oh, ow, c·M + m] · W[kh, kw, c, m]
 *                      over ih = oh·sh − padTop + kh·dh, iw = ow·sw − padLeft + kw·dw,
 *
 * scattered from each output pixel onto the input pixels its taps read, in
 * JavaScript loops (`batch·outHeight·outWidth·KH·KW·C·M` multiply-adds).
 *
 * Inputs `dy: [batch, outHeight, outWidth, C·M]`, `filter: [KH, KW, C, M]` (float32);
 * attrs `strides`, `dilations`, `pad`, `dimRoundingMode`, `inputShape`; output `inputShape`.
 *
 * @throws ShapeError for non-float32 tensors or a `dy` whose shape is not the
 *   convolution's output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropConvInfo, convGeometry, validOutputRange } from './conv-geometry';
import { heapFloat32, kernelInput, pairOf, type WasmKernelArgs } from './wasm-backend';

export function depthwiseConv2dBackpropInput({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo {
  const dy = kernelInput('DepthwiseConv2dNativeBackpropInput', inputs, 'dy');
  const filter = kernelInput('DepthwiseConv2dNativeBackpropInput', inputs, 'filter');
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = backpropConvInfo(
    'DepthwiseConv2dNativeBackpropInput',
    { input: inputShape, filter: filter.shape as [number, number, number, number], dy: dy.shape },
    attrs,
    { depthwise: true, dilations: pairOf(attrs.dilations as number | [number, number] | undefined) },
  );
  heapFloat32(backend, dy);
  heapFloat32(backend, filter);
  const g = convGeometry(info);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = g;
  const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = g;
  const M = filter.shape[3];
  const CM = C * M;
  const out = backend.makeOutput([...info.inShape], 'float32');
  const dx = heapFloat32(backend, out).fill(0);
  const dys = heapFloat32(backend, dy);
  const w = heapFloat32(backend, filter);
  const colRanges: [number, number][] = [];
  for (let kw = 0; kw < KW; kw++) colRanges.push(validOutputRange(kw * dw - padLeft, sw, W, OW));
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - padTop + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const dxRow = (b * H + ih) * W * C;
        const dyRow = (b * OH + oh) * OW * CM;
        for (let kw = 0; kw < KW; kw++) {
          const [owStart, owEnd] = colRanges[kw];
          const wp = (kh * KW + kw) * CM;
          for (let ow = owStart; ow < owEnd; ow++) {
            const xp = dxRow + (ow * sw - padLeft + kw * dw) * C;
            const dp = dyRow + ow * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) dx[xp + c] += dys[dp + c] * w[wp + c];
            } else {
              for (let c = 0; c < C; c++) {
                const o = c * M;
                let s = 0;
                for (let m = 0; m < M; m++) s += dys[dp + o + m] * w[wp + o + m];
                dx[xp + c] += s;
              }
            }
          }
        }
      }
    }
  }
  return out;
}
