/**
 * A faster Conv2DBackpropFilter for the tfjs cpu backend, for specs that use the
 * cpu backend as the reference for gradients computed on wasm.
 *
 * tfjs-backend-cpu 4.22 computes the filter gradient with `TensorBuffer.get` per
 * multiply-add (~3 M multiply-adds/s here): one CaffeNet step at batch 1 spends
 * ~290 s in it. This kernel is the same sum with flat typed-array indexing and
 * float64 accumulation,
 *   dW[i, j, c, o] = Σ_{n, y, x} x[n, y·s_h + i − top, x·s_w + j − left, c] · dy[n, y, x, o],
 * an implementation independent of the wasm one it checks (im2col on XNNPACK).
 * The spec that installs it compares it with the stock kernel first.
 */
import * as tf from '@tensorflow/tfjs';

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface CpuBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The filter gradient of a channels-last conv2d (dilation 1), as tfjs defines Conv2DBackpropFilter. */
export function conv2dBackpropFilterFlat(
  xShape: [number, number, number, number],
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  attrs: Omit<Conv2DBackpropFilterAttrs, 'dataFormat'>,
): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(xShape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const sum = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyOffset = ((n * outHeight + yr) * outWidth + yc) * outChannels;
        for (let i = 0; i < filterHeight; i++) {
          const xr = yr * strideHeight + i - top;
          if (xr < 0 || xr >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const xc = yc * strideWidth + j - left;
            if (xc < 0 || xc >= inWidth) continue;
            const xOffset = ((n * inHeight + xr) * inWidth + xc) * inChannels;
            const wOffset = (i * filterWidth + j) * inChannels * outChannels;
            for (let c = 0; c < inChannels; c++) {
              const xv = x[xOffset + c];
              if (xv === 0) continue;
              const row = wOffset + c * outChannels;
              for (let o = 0; o < outChannels; o++) sum[row + o] += xv * dy[dyOffset + o];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(sum);
}

/**
 * Replaces the cpu backend's Conv2DBackpropFilter with {@link conv2dBackpropFilterFlat}
 * (NCHW calls go to the stock kernel) and returns a function that puts the stock kernel back.
 */
export function installFastCpuConv2DBackpropFilter(): () => void {
  const stock = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
  if (stock === undefined) throw new Error('the cpu backend has no Conv2DBackpropFilter kernel to replace');
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] => {
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (attrs.dataFormat !== 'NHWC') return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as CpuBackend;
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const values = conv2dBackpropFilterFlat(x.shape as [number, number, number, number], backend.readSync(x.dataId), backend.readSync(dy.dataId), attrs);
    return backend.makeTensorInfo([...attrs.filterShape], 'float32', values);
  };
  tf.unregisterKernel(tf.Conv2DBackpropFilter, 'cpu');
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: 'cpu', kernelFunc: kernelFunc as tf.KernelFunc });
  return () => {
    tf.unregisterKernel(tf.Conv2DBackpropFilter, 'cpu');
    tf.registerKernel(stock);
  };
}
