/**
 * Wasm-backend kernels that compute on OpenBLAS through `@ddinit/native-blas`
 * (both cores), reading and writing the wasm heap in place: no copies in or out.
 * Registered instead of ddinit's portable kernels when the addon is built (see
 * {@link registerWasmTrainingKernels}); results match the cpu backend within
 * float32 rounding, as the portable ones do.
 *
 * | kernel                | computed as                                              |
 * |-----------------------|----------------------------------------------------------|
 * | Conv2D, FusedConv2D   | im2col · W on sgemm, bias + relu/relu6 fused in C        |
 * | Conv2DBackpropFilter  | colsᵀ · dy on sgemm                                      |
 * | Conv2DBackpropInput   | dy · Wᵀ on sgemm, then col2im                            |
 * | BatchMatMul           | sgemm per batch with BLAS transposes (no copies)         |
 * | _FusedMatMul          | sgemm + bias + relu/relu6                                |
 * | MaxPoolGrad           | one C pass over the windows (no BLAS), same tie rule     |
 * | LRN, LRNGrad          | one C pass per pixel over the channel window (no BLAS)   |
 * | DdinitGroupedConv2D + its two gradients (../grouped-conv2d.ts) | one sgemm per group on column blocks, bias + relu fused |
 * | DdinitReluGrad        | one C pass: dy · [y > 0]                                 |
 * | Sum over leading axes | column sums in C (bias gradients; ./sum.ts)              |
 *
 * What the native code does not cover (NCHW, other activations, PReLU weights,
 * bias shapes other than one per output channel, general batch broadcasting)
 * goes to the kernel that would run without it.
 */
import * as tf from '@tensorflow/tfjs';
import { geometryArray, NATIVE_ACTIVATIONS, type NativeBlas, type NativeConvGeometry } from '@ddinit/native-blas';
import { ConfigError } from '../../errors';
import { assertShape, backpropConvInfo, convGeometry } from './conv-geometry';
import { heapFloatOffset as floatOffset, kernelInput, runWasmKernel, wholeHeapFloat32 as heap, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

function allFloat32(...infos: (tf.TensorInfo | undefined)[]): boolean {
  return infos.every((info) => info === undefined || info.dtype === 'float32');
}

/** The geometry the addon takes: ddinit's convolution geometry plus the output channels. */
function nativeGeometry(info: tf.backend_util.Conv2DInfo): NativeConvGeometry {
  return { ...convGeometry(info), outChannels: info.outChannels };
}

/** The native activation code of a tfjs fused activation, or undefined when the native code has none. */
function nativeActivation(name: unknown): number | undefined {
  if (name === undefined || name === null) return NATIVE_ACTIVATIONS.linear;
  return Object.prototype.hasOwnProperty.call(NATIVE_ACTIVATIONS, name as string) ? NATIVE_ACTIVATIONS[name as keyof typeof NATIVE_ACTIVATIONS] : undefined;
}

/** Conv2D (bias/activation none) and FusedConv2D; anything else goes to `fallback`. */
export function createNativeConv2D(blas: NativeBlas, fallback: tf.KernelConfig, fused: boolean): WasmKernelFunc {
  const name = fused ? 'FusedConv2D' : 'Conv2D';
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput(name, inputs, 'x');
    const filter = kernelInput(name, inputs, 'filter');
    const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
    const activation = fused ? nativeActivation(attrs.activation) : NATIVE_ACTIVATIONS.linear;
    const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
    const info =
      nhwc && x.shape.length === 4 && filter.shape.length === 4
        ? tf.backend_util.computeConv2DInfo(
            x.shape as Shape4,
            filter.shape as Shape4,
            attrs.strides as number | [number, number],
            (attrs.dilations ?? 1) as number | [number, number],
            attrs.pad as Pad,
            attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
          )
        : undefined;
    const plainBias = bias === undefined || (bias.shape.length === 1 && bias.shape[0] === info?.outChannels);
    if (info === undefined || activation === undefined || !plainBias || (fused && inputs.preluActivationWeights != null) || !allFloat32(x, filter, bias)) {
      return runWasmKernel(fallback, backend, inputs, attrs);
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    blas.conv2d(
      heap(backend),
      geometryArray(nativeGeometry(info)),
      floatOffset(backend, x),
      floatOffset(backend, filter),
      bias === undefined ? -1 : floatOffset(backend, bias),
      activation,
      floatOffset(backend, out),
    );
    return out;
  };
}

/** Conv2DBackpropFilter on sgemm; NCHW and non-float32 go to `fallback`. */
export function createNativeConv2DBackpropFilter(blas: NativeBlas, fallback: WasmKernelFunc): WasmKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('Conv2DBackpropFilter', inputs, 'x');
    const dy = kernelInput('Conv2DBackpropFilter', inputs, 'dy');
    if ((attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') || !allFloat32(x, dy)) return fallback(args);
    const filterShape = attrs.filterShape as Shape4;
    const info = backpropConvInfo('Conv2DBackpropFilter', { input: x.shape as Shape4, filter: filterShape, dy: dy.shape }, attrs, {
      depthwise: false,
      dilations: 1,
    });
    const out = backend.makeOutput([...filterShape], 'float32');
    blas.conv2dBackpropFilter(heap(backend), geometryArray(nativeGeometry(info)), floatOffset(backend, x), floatOffset(backend, dy), floatOffset(backend, out));
    return out;
  };
}

/** Conv2DBackpropInput on sgemm + col2im; NCHW and non-float32 go to `fallback`. */
export function createNativeConv2DBackpropInput(blas: NativeBlas, fallback: WasmKernelFunc): WasmKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const dy = kernelInput('Conv2DBackpropInput', inputs, 'dy');
    const filter = kernelInput('Conv2DBackpropInput', inputs, 'filter');
    if ((attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') || !allFloat32(dy, filter)) return fallback(args);
    const inputShape = attrs.inputShape as Shape4;
    const info = backpropConvInfo('Conv2DBackpropInput', { input: inputShape, filter: filter.shape as Shape4, dy: dy.shape }, attrs, {
      depthwise: false,
      dilations: 1,
    });
    const out = backend.makeOutput([...inputShape], 'float32');
    blas.conv2dBackpropInput(
      heap(backend),
      geometryArray(nativeGeometry(info)),
      floatOffset(backend, dy),
      floatOffset(backend, filter),
      floatOffset(backend, out),
    );
    return out;
  };
}

function product(dims: number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/**
 * BatchMatMul (and _FusedMatMul when `fused`) on sgemm. Batches must be equal
 * or one of them a single matrix; other broadcasts, other activations, PReLU
 * weights and biases that are not one value per output column go to `fallback`.
 */
export function createNativeMatMul(blas: NativeBlas, fallback: WasmKernelFunc, fused: boolean): WasmKernelFunc {
  const name = fused ? '_FusedMatMul' : 'BatchMatMul';
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const a = kernelInput(name, inputs, 'a');
    const b = kernelInput(name, inputs, 'b');
    const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
    const activation = fused ? nativeActivation(attrs.activation) : NATIVE_ACTIVATIONS.linear;
    const transposeA = Boolean(attrs.transposeA);
    const transposeB = Boolean(attrs.transposeB);
    if (a.shape.length < 2 || b.shape.length < 2) return fallback(args);
    const [rowsA, colsA] = a.shape.slice(-2);
    const [rowsB, colsB] = b.shape.slice(-2);
    const [M, K] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
    const [kB, N] = transposeB ? [colsB, rowsB] : [rowsB, colsB];
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = product(batchShapeA);
    const batchB = product(batchShapeB);
    let outBatchShape: number[] | undefined;
    try {
      outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
    } catch {
      outBatchShape = undefined; // the fallback reports the mismatch
    }
    const simpleBatch =
      outBatchShape !== undefined && (batchA === 1 || batchB === 1 || batchA === batchB) && product(outBatchShape) === Math.max(batchA, batchB);
    const plainBias = bias === undefined || (product(bias.shape) === N && bias.shape[bias.shape.length - 1] === N);
    if (
      K !== kB ||
      !simpleBatch ||
      outBatchShape === undefined ||
      activation === undefined ||
      !plainBias ||
      (fused && inputs.preluActivationWeights != null) ||
      !allFloat32(a, b, bias)
    ) {
      return fallback(args);
    }
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([...outBatchShape, M, N], 'float32');
    blas.batchMatMul(
      heap(backend),
      Int32Array.of(
        batch,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        M,
        N,
        K,
        floatOffset(backend, a),
        batchA === 1 ? 0 : M * K,
        floatOffset(backend, b),
        batchB === 1 ? 0 : K * N,
        bias === undefined ? -1 : floatOffset(backend, bias),
        activation,
        floatOffset(backend, out),
      ),
    );
    return out;
  };
}

/** MaxPoolGrad in C (same tie rule as the JS kernel and the cpu backend); non-float32 goes to `fallback`. */
export function createNativeMaxPoolGrad(blas: NativeBlas, fallback: WasmKernelFunc): WasmKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const dy = kernelInput('MaxPoolGrad', inputs, 'dy');
    const x = kernelInput('MaxPoolGrad', inputs, 'input');
    if (!allFloat32(x, dy) || x.shape.length !== 4) return fallback(args);
    const info = tf.backend_util.computePool2DInfo(
      x.shape as Shape4,
      attrs.filterSize as number | [number, number],
      attrs.strides as number | [number, number],
      1,
      attrs.pad as Pad,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    assertShape('wasm kernel MaxPoolGrad', 'dy shape', dy.shape, info.outShape);
    const out = backend.makeOutput([...x.shape], 'float32');
    blas.maxPoolGrad(heap(backend), geometryArray(nativeGeometry(info)), floatOffset(backend, x), floatOffset(backend, dy), floatOffset(backend, out));
    return out;
  };
}

/** The LRN attributes tfjs passes (depthRadius, bias, alpha, beta). */
function lrnAttrs(attrs: tf.NamedAttrMap): [number, number, number, number] {
  return [attrs.depthRadius as number, attrs.bias as number, attrs.alpha as number, attrs.beta as number];
}

/**
 * LRN in C, one pass per pixel (tfjs-backend-wasm's own takes a power per value of every window);
 * non-float32 goes to `fallback`.
 */
export function createNativeLrn(blas: NativeBlas, fallback: tf.KernelConfig): WasmKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('LRN', inputs, 'x');
    if (!allFloat32(x) || x.shape.length !== 4) return runWasmKernel(fallback, backend, inputs, attrs);
    const channels = x.shape[3];
    const out = backend.makeOutput([...x.shape], 'float32');
    blas.lrn(heap(backend), product(x.shape) / channels, channels, ...lrnAttrs(attrs), floatOffset(backend, x), floatOffset(backend, out));
    return out;
  };
}

/** LRNGrad in C from x, y and dy (the scale recomputed per pixel); non-float32 goes to `fallback`. */
export function createNativeLrnGrad(blas: NativeBlas, fallback: tf.KernelConfig): WasmKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('LRNGrad', inputs, 'x');
    const y = kernelInput('LRNGrad', inputs, 'y');
    const dy = kernelInput('LRNGrad', inputs, 'dy');
    if (!allFloat32(x, y, dy) || x.shape.length !== 4) return runWasmKernel(fallback, backend, inputs, attrs);
    const channels = x.shape[3];
    const out = backend.makeOutput([...x.shape], 'float32');
    blas.lrnGrad(
      heap(backend),
      product(x.shape) / channels,
      channels,
      ...lrnAttrs(attrs),
      floatOffset(backend, x),
      floatOffset(backend, y),
      floatOffset(backend, dy),
      floatOffset(backend, out),
    );
    return out;
  };
}

/** The geometry of a grouped convolution's attributes for x `[b, h, w, cin]` and a filter `[kh, kw, cin/groups, cout]`. */
function groupedInfo(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides as [number, number],
    attrs.dilations as [number, number],
    attrs.pad as 'valid' | 'same',
  );
}

/** DdinitGroupedConv2D on the addon, with its optional bias `[cout]` and fused `linear` or `relu` (float32 only: the layer casts nothing else here). */
export function createNativeGroupedConv2D(blas: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput('DdinitGroupedConv2D', inputs, 'x');
    const filter = kernelInput('DdinitGroupedConv2D', inputs, 'filter');
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const info = groupedInfo(x.shape, filter.shape, attrs);
    if (bias !== undefined) assertShape('wasm kernel DdinitGroupedConv2D', 'bias shape', bias.shape, [info.outChannels]);
    const activation = nativeActivation(attrs.activation ?? 'linear');
    if (activation !== NATIVE_ACTIVATIONS.linear && activation !== NATIVE_ACTIVATIONS.relu) {
      throw new ConfigError('the grouped convolution fuses no such activation', {
        where: 'wasm kernel DdinitGroupedConv2D',
        expected: 'linear or relu',
        actual: attrs.activation,
      });
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    blas.groupedConv2d(
      heap(backend),
      geometryArray(nativeGeometry(info)),
      attrs.groups as number,
      floatOffset(backend, x),
      floatOffset(backend, filter),
      bias === undefined ? -1 : floatOffset(backend, bias),
      activation,
      floatOffset(backend, out),
    );
    return out;
  };
}

/** DdinitReluGrad: dx = dy · [y > 0] in one C pass (tfjs's ReLU gradient is Step, Cast and Multiply). */
export function createNativeReluGrad(blas: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend }: WasmKernelArgs): tf.TensorInfo => {
    const y = kernelInput('DdinitReluGrad', inputs, 'y');
    const dy = kernelInput('DdinitReluGrad', inputs, 'dy');
    assertShape('wasm kernel DdinitReluGrad', 'dy shape', dy.shape, y.shape);
    const out = backend.makeOutput([...y.shape], 'float32');
    blas.reluGrad(heap(backend), product(y.shape), floatOffset(backend, y), floatOffset(backend, dy), floatOffset(backend, out));
    return out;
  };
}

/** dx of DdinitGroupedConv2D from dy and the filter (attrs.inputShape). */
export function createNativeGroupedConv2DBackpropInput(blas: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const dy = kernelInput('DdinitGroupedConv2DBackpropInput', inputs, 'dy');
    const filter = kernelInput('DdinitGroupedConv2DBackpropInput', inputs, 'filter');
    const inputShape = attrs.inputShape as number[];
    const info = groupedInfo(inputShape, filter.shape, attrs);
    assertShape('wasm kernel DdinitGroupedConv2DBackpropInput', 'dy shape', dy.shape, info.outShape);
    const out = backend.makeOutput([...inputShape], 'float32');
    blas.groupedConv2dBackpropInput(
      heap(backend),
      geometryArray(nativeGeometry(info)),
      attrs.groups as number,
      floatOffset(backend, dy),
      floatOffset(backend, filter),
      floatOffset(backend, out),
    );
    return out;
  };
}

/** dfilter of DdinitGroupedConv2D from x and dy (attrs.filterShape). */
export function createNativeGroupedConv2DBackpropFilter(blas: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput('DdinitGroupedConv2DBackpropFilter', inputs, 'x');
    const dy = kernelInput('DdinitGroupedConv2DBackpropFilter', inputs, 'dy');
    const filterShape = attrs.filterShape as number[];
    const info = groupedInfo(x.shape, filterShape, attrs);
    assertShape('wasm kernel DdinitGroupedConv2DBackpropFilter', 'dy shape', dy.shape, info.outShape);
    const out = backend.makeOutput([...filterShape], 'float32');
    blas.groupedConv2dBackpropFilter(
      heap(backend),
      geometryArray(nativeGeometry(info)),
      attrs.groups as number,
      floatOffset(backend, x),
      floatOffset(backend, dy),
      floatOffset(backend, out),
    );
    return out;
  };
}
