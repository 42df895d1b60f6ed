/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (tfjs-backend-wasm
 * 4.22 has none).
 *
 * For `y = depthwiseConv2d(x, W)` with channel multiplier `M`
 * (`y[b, oh, ow, c·M + m] = Σ_{kh, kw} x[b, ih, iw, c] · W[kh, kw, c, m]`):
 *
 *   dW[kh, kw, c, m] = Σ_{b, oh, ow} x[b, oh·sh − padTop + kh·dh, ow·sw − padLeft + kw·dw, c] · dy[b, oh, ow, c·M + m]
 *
 * as one pass of JavaScript loops over the valid taps (accumulated in float64).
 * The work is `batch·outHeight·outWidth·KH·KW·C·M` multiply-adds, a small share of
 * a separable or depthwise network's step.
 *
 * Inputs `x: [batch, inHeight, inWidth, C]`, `dy: [batch, outHeight, outWidth, C·M]`
 * (float32); attrs `strides`, `dilations`, `pad`, `dimRoundingMode`, `filterShape`
 * (`[KH, KW, C, M]`); output `filterShape`.
 *
 * @throws ShapeError for non-float32 tensors or a `dy` whose shape is not the
 *   convolution's output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropConvInfo, convGeometry, validOutputRange } from './conv-geometry';
import { heapFloat32, kernelInput, pairOf, type WasmKernelArgs } from './wasm-backend';

export function depthwiseConv2dBackpropFilter({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo {
  const x = kernelInput('DepthwiseConv2dNativeBackpropFilter', inputs, 'x');
  const dy = kernelInput('DepthwiseConv2dNativeBackpropFilter', inputs, 'dy');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = backpropConvInfo(
    'DepthwiseConv2dNativeBackpropFilter',
    { input: x.shape as [number, number, number, number], filter: filterShape, dy: dy.shape },
    attrs,
    { depthwise: true, dilations: pairOf(attrs.dilations as number | [number, number] | undefined) },
  );
  const g = convGeometry(info);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = g;
  const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = g;
  const M = filterShape[3];
  const CM = C * M;
  const acc = new Float64Array(KH * KW * CM);
  const xs = heapFloat32(backend, x);
  const dys = heapFloat32(backend, dy);
  const colRanges: [number, number][] = [];
  for (let kw = 0; kw < KW; kw++) colRanges.push(validOutputRange(kw * dw - padLeft, sw, W, OW));
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - padTop + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const xRow = (b * H + ih) * W * C;
        const dyRow = (b * OH + oh) * OW * CM;
        for (let kw = 0; kw < KW; kw++) {
          const [owStart, owEnd] = colRanges[kw];
          const a = (kh * KW + kw) * CM;
          for (let ow = owStart; ow < owEnd; ow++) {
            const xp = xRow + (ow * sw - padLeft + kw * dw) * C;
            const dp = dyRow + ow * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[a + c] += xs[xp + c] * dys[dp + c];
            } else {
              for (let c = 0; c < C; c++) {
                const xv = xs[xp + c];
                const o = c * M;
                for (let m = 0; m < M; m++) acc[a + o + m] += xv * dys[dp + o + m];
              }
            }
          }
        }
      }
    }
  }
  const out = backend.makeOutput([...filterShape], 'float32');
  heapFloat32(backend, out).set(acc);
  return out;
}
