import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { GroupedConv2D } from '../layers/grouped-conv2d';
import { filterRowsShape, filterRowsToKernel, kernelToFilterRows, type KernelLayout } from './kernel-layout';
import { parameterLayers, type ParameterLayer } from './parameter-layers';

beforeAll(async () => {
  await useBackend('wasm');
});

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** A one-layer model and the description adapter gives of its layer. */
function single(layer: tf.layers.Layer, inputShape: number[]): { model: tf.LayersModel; p: ParameterLayer } {
  const input = tf.input({ shape: inputShape });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  return { model, p: parameterLayers(model)[0] };
}

/**
 * The patch vector of output (n, oh, ow) for group g, gathered element by element
 * in the documented (i, j, c) order: x[n, oh·s + i·d − top, ow·s + j·d − left, g·cg + c].
 */
function gatherPatch(x: Float32Array, xShape: number[], p: ParameterLayer, n: number, oh: number, ow: number, g: number, channelsPerGroup: number): number[] {
  const [, height, width, channels] = xShape;
  const geometry = p.convolution;
  if (geometry === null || geometry.pads === null) throw new Error('not a convolution');
  const [kh, kw] = geometry.kernelSize;
  const patch: number[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < channelsPerGroup; c++) {
        const r = oh * geometry.strides[0] + i * geometry.dilation[0] - geometry.pads.top;
        const q = ow * geometry.strides[1] + j * geometry.dilation[1] - geometry.pads.left;
        const inside = r >= 0 && r < height && q >= 0 && q < width;
        patch.push(inside ? x[((n * height + r) * width + q) * channels + g * channelsPerGroup + c] : 0);
      }
    }
  }
  return patch;
}

function dot(a: ArrayLike<number>, offset: number, b: number[]): number {
  let s = 0;
  for (let k = 0; k < b.length; k++) s += a[offset + k] * b[k];
  return s;
}

/** Every output of a conv-like layer recomputed as filter row · gathered patch + bias. */
function outputsFromRows(
  x: tf.Tensor,
  y: tf.Tensor,
  p: ParameterLayer,
  rows: tf.Tensor3D,
  bias: Float32Array,
  channelsPerGroup: number,
): { actual: Float32Array; expected: Float32Array } {
  const [groups, perGroup, f] = rows.shape;
  const r = rows.dataSync();
  const xs = x.dataSync() as Float32Array;
  const [batch, outH, outW, cout] = y.shape;
  const expected = new Float32Array(y.size);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let g = 0; g < groups; g++) {
          const patch = gatherPatch(xs, x.shape, p, n, oh, ow, g, channelsPerGroup);
          for (let k = 0; k < perGroup; k++) {
            const channel = g * perGroup + k;
            expected[((n * outH + oh) * outW + ow) * cout + channel] = dot(r, (g * perGroup + k) * f, patch) + bias[channel];
          }
        }
      }
    }
  }
  return { actual: y.dataSync() as Float32Array, expected };
}

describe('kernelToFilterRows / filterRowsToKernel', () => {
  it.each([
    ['grouped, stride 2, same padding (odd input)', { filters: 6, kernelSize: 3, strides: 2, padding: 'same' as const, groups: 2 }, [9, 8, 4]],
    ['dilation 2, valid', { filters: 3, kernelSize: 3, dilationRate: 2, padding: 'valid' as const, groups: 1 }, [9, 9, 2]],
    ['5×5 same (Caffe pad 2), 2 groups', { filters: 4, kernelSize: 5, padding: 'same' as const, groups: 2 }, [6, 6, 4]],
    ['stride 4, even kernel, same (asymmetric pad)', { filters: 2, kernelSize: 4, strides: 4, padding: 'same' as const, groups: 1 }, [10, 11, 3]],
  ])('conv rows dotted with gathered patches give conv2d: %s', (_, spec, inputShape) => {
    const { model, p } = single(new GroupedConv2D({ ...spec, biasInitializer: 'randomNormal' }), inputShape);
    const x = seeded([2, ...inputShape], 11);
    const y = model.predict(x) as tf.Tensor;
    const [kernel, bias] = p.layer.getWeights();
    const rows = kernelToFilterRows(kernel, 'conv', spec.groups);
    const cg = inputShape[2] / spec.groups;
    expect(rows.shape).toEqual([spec.groups, spec.filters / spec.groups, spec.kernelSize * spec.kernelSize * cg]);
    const { actual, expected } = outputsFromRows(x, y, p, rows, bias.dataSync() as Float32Array, cg);
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, rows]);
  });

  it('also describes tfjs Conv2D with uneven same padding', () => {
    const { model, p } = single(tf.layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: [2, 1], padding: 'same', biasInitializer: 'ones' }), [7, 5, 2]);
    expect(p.convolution?.pads).toEqual({ top: 0, bottom: 1, left: 1, right: 1 });
    const x = seeded([1, 7, 5, 2], 12);
    const y = model.predict(x) as tf.Tensor;
    const [kernel, bias] = p.layer.getWeights();
    const rows = kernelToFilterRows(kernel, 'conv');
    const { actual, expected } = outputsFromRows(x, y, p, rows, bias.dataSync() as Float32Array, 2);
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, rows]);
  });

  it('depthwise rows dotted with single-channel patches give depthwiseConv2d', () => {
    const { model, p } = single(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', biasInitializer: 'ones' }), [5, 6, 3]);
    const x = seeded([2, 5, 6, 3], 13);
    const y = model.predict(x) as tf.Tensor;
    const [kernel, bias] = p.layer.getWeights();
    const rows = kernelToFilterRows(kernel, 'depthwise');
    expect(rows.shape).toEqual([3, 2, 9]);
    const { actual, expected } = outputsFromRows(x, y, p, rows, bias.dataSync() as Float32Array, 1);
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, rows]);
  });

  it('dense rows are [out, in]: y = rows · x + b', () => {
    const { model, p } = single(tf.layers.dense({ units: 4, biasInitializer: 'ones' }), [5]);
    const x = seeded([3, 5], 14);
    const y = model.predict(x) as tf.Tensor;
    const [kernel, bias] = p.layer.getWeights();
    const rows = kernelToFilterRows(kernel, 'dense');
    expect(rows.shape).toEqual([1, 4, 5]);
    const r = rows.dataSync();
    const xs = Array.from(x.dataSync());
    const b = bias.dataSync();
    const expected = new Float32Array(12);
    for (let n = 0; n < 3; n++) for (let o = 0; o < 4; o++) expected[n * 4 + o] = dot(r, o * 5, xs.slice(n * 5, n * 5 + 5)) + b[o];
    expect(relativeError(y.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, rows]);
  });

  it('transposed rows are per output channel: scaling row o scales only output channel o', () => {
    const { model, p } = single(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), [4, 4, 2]);
    const x = seeded([1, 4, 4, 2], 15);
    const before = model.predict(x) as tf.Tensor;
    const kernel = p.layer.getWeights()[0];
    const scaled = tf.tidy(() => {
      const rows = kernelToFilterRows(kernel, 'transposed');
      const factor = tf.tensor3d([1, 3, 1], [1, 3, 1]);
      return filterRowsToKernel(tf.mul(rows, factor), 'transposed', kernel.shape);
    });
    p.layer.setWeights([scaled]);
    const after = model.predict(x) as tf.Tensor;
    const ratio = tf.tidy(() => tf.div(tf.sum(tf.abs(after), [0, 1, 2]), tf.sum(tf.abs(before), [0, 1, 2])).dataSync());
    expect(Array.from(ratio).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, 3, 1]);
    tf.dispose([x, before, scaled, after]);
  });

  it.each<[KernelLayout, number[], number]>([
    ['conv', [3, 2, 4, 6], 2],
    ['conv', [1, 1, 5, 7], 1],
    ['dense', [6, 3], 1],
    ['depthwise', [3, 3, 4, 2], 1],
    ['transposed', [2, 3, 5, 4], 1],
  ])('round-trips %s kernels %j exactly', async (layout, shape, groups) => {
    const kernel = seeded(shape, 16);
    await expectNoLeakedTensors(() => {
      const rows = kernelToFilterRows(kernel, layout, groups);
      expect(rows.shape).toEqual(filterRowsShape(shape, layout, layout === 'depthwise' ? 1 : groups));
      const back = filterRowsToKernel(rows, layout, shape);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.dataSync())).toEqual(Array.from(kernel.dataSync()));
      tf.dispose([rows, back]);
    });
    kernel.dispose();
  });

  it('puts output channel g·N + f in rows[g, f] and element (i, j, c) at (i·kw + j)·cg + c', () => {
    // kernel[i, j, c, o] = 1000·o + 100·i + 10·j + c
    const [kh, kw, cg, cout] = [2, 3, 2, 4];
    const values: number[] = [];
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) for (let c = 0; c < cg; c++) for (let o = 0; o < cout; o++) values.push(1000 * o + 100 * i + 10 * j + c);
    const kernel = tf.tensor4d(values, [kh, kw, cg, cout]);
    const rows = kernelToFilterRows(kernel, 'conv', 2).arraySync() as number[][][];
    expect(rows[1][0][(1 * kw + 2) * cg + 1]).toBe(1000 * 2 + 100 + 20 + 1);
    expect(rows[0][1][(0 * kw + 1) * cg + 0]).toBe(1000 * 1 + 10);
    kernel.dispose();
  });

  it('rejects rows or kernels of the wrong shape, naming both shapes', () => {
    const rows = tf.zeros([2, 3, 10]);
    expect(() => filterRowsToKernel(rows, 'conv', [3, 3, 1, 6])).toThrow(ShapeError);
    expect(() => filterRowsToKernel(rows, 'conv', [3, 3, 1, 6])).toThrow(/filter rows do not fit the kernel shape \(expected \[2,3,9\], got \[2,3,10\]\)/);
    expect(() => filterRowsToKernel(rows, 'conv', [3, 3, 1, 5])).toThrow(ShapeError);
    expect(() => filterRowsToKernel(tf.zeros([3, 9]), 'dense', [9, 3])).toThrow(/expected \[groups, filtersPerGroup, F\], got \[3,9\]/);
    expect(() => kernelToFilterRows(tf.zeros([3, 3, 2]), 'conv')).toThrow(/expected rank 4, got \[3,3,2\]/);
    expect(() => kernelToFilterRows(tf.zeros([3, 3, 2, 5]), 'conv', 2)).toThrow(/not divisible by groups/);
    expect(() => kernelToFilterRows(tf.zeros([4, 2]), 'dense', 2)).toThrow(ConfigError);
    expect(() => kernelToFilterRows(tf.zeros([4, 2]), 'nope' as KernelLayout)).toThrow(/unknown kernel layout/);
    rows.dispose();
  });
});
