/**
 * Dilated convolutions in the calibration: the spread-kernel forward equals the
 * layer's own, its kernel gradient equals finite differences of the layer's own
 * forward, and a network with a dilated Conv2D calibrates (tfjs alone throws
 * "dilation rates greater than 1 are not yet supported in gradients").
 * IS_TEST is off as in calibrate-change-rates.spec.ts (false leak reports under variableGrads on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { calibrateChangeRates } from './calibrate-change-rates';
import { applyDilatedConv2d, dilateKernel } from './dilated-conv';
import { measureChangeRates } from './measure-change-rates';
import { normalizeChannels, seededBatch } from './testing';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false);
});

const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));
function keep<T extends { dispose(): void }>(x: T): T {
  disposables.push(x);
  return x;
}

/** A built Conv2D layer on a [2, 13, 11, 3] input. */
function dilatedLayer(options: { dilationRate: [number, number]; strides: number; padding: 'same' | 'valid'; activation: 'relu' | 'linear' }): tf.layers.Layer {
  const layer = tf.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    useBias: true,
    biasInitializer: 'randomNormal',
    kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }),
    ...options,
  });
  layer.apply(tf.input({ shape: [13, 11, 3] }));
  return keep(layer);
}

describe('dilateKernel', () => {
  it('puts tap (i, j) at (i·d_h, j·d_w) and zeros between', () => {
    const kernel = tf.tensor4d(
      Float32Array.from({ length: 2 * 3 * 1 * 2 }, (_, i) => i + 1),
      [2, 3, 1, 2],
    );
    const spread = dilateKernel(kernel, [3, 2]);
    expect(spread.shape).toEqual([4, 5, 1, 2]);
    const k = kernel.arraySync();
    const s = spread.arraySync();
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 5; c++) {
        const expected = r % 3 === 0 && c % 2 === 0 ? k[r / 3][c / 2][0] : [0, 0];
        expect(s[r][c][0]).toEqual(expected);
      }
    }
    tf.dispose([kernel, spread]);
  });
});

describe('applyDilatedConv2d', () => {
  it.each([
    { dilationRate: [2, 2] as [number, number], strides: 1, padding: 'same' as const },
    { dilationRate: [2, 3] as [number, number], strides: 1, padding: 'valid' as const },
    { dilationRate: [3, 2] as [number, number], strides: 1, padding: 'same' as const },
    // Strides > 1 with dilation: tfjs's own forward refuses them ("Either strides or dilations must be 1").
  ])('equals the layer’s own output: dilation $dilationRate, stride $strides, padding $padding', async (geometry) => {
    const layer = dilatedLayer({ ...geometry, activation: 'relu' });
    const x = keep(seededBatch([2, 13, 11, 3], 1));
    await expectNoLeakedTensors(() => {
      const [own, spread] = [layer.apply(x) as tf.Tensor, tf.tidy(() => applyDilatedConv2d(layer, x))];
      expect(spread.shape).toEqual(own.shape);
      expect(relativeError(spread.dataSync(), own.dataSync())).toBeLessThan(1e-5);
      tf.dispose([own, spread]);
    });
  });

  it('gives the kernel gradient of the layer’s own forward (finite differences, exact for a linear layer)', () => {
    const layer = dilatedLayer({ dilationRate: [2, 3], strides: 1, padding: 'same', activation: 'linear' });
    const x = keep(seededBatch([2, 13, 11, 3], 2));
    const g = keep(seededBatch((layer.apply(x) as tf.Tensor).shape, 3));
    const kernel = layer.getWeights()[0];
    const loss = (): tf.Scalar => tf.sum(tf.mul(applyDilatedConv2d(layer, x), g));
    const { grads } = tf.variableGrads(loss, [(layer as unknown as { kernel: { read(): tf.Variable } }).kernel.read()]);
    const gradient = Object.values(grads)[0].arraySync() as number[][][][];
    const rng = Rng.fromSeed(4).derive('taps');
    const base = kernel.arraySync() as number[][][][];
    for (let t = 0; t < 5; t++) {
      const [i, j, c, o] = [rng.int(3), rng.int(3), rng.int(3), rng.int(4)];
      const value = (delta: number): number => {
        const moved = base.map((a) => a.map((b) => b.map((cc) => cc.slice())));
        moved[i][j][c][o] += delta;
        const w = tf.tensor4d(moved);
        layer.setWeights([w, layer.getWeights()[1]]);
        w.dispose();
        return tf.tidy(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, g)).dataSync()[0]);
      };
      const numeric = (value(0.5) - value(-0.5)) / 1;
      expect(Math.abs(numeric - gradient[i][j][c][o])).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
    }
    tf.dispose(Object.values(grads));
  });

  it('refuses, naming the layer, a dilated convolution it cannot differentiate (depthwise)', () => {
    const layer = keep(tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, dilationRate: 2, padding: 'same' }));
    layer.apply(tf.input({ shape: [8, 8, 3] }));
    const x = keep(seededBatch([1, 8, 8, 3], 5));
    expect(() => applyDilatedConv2d(layer, x)).toThrow(ConfigError);
    expect(() => applyDilatedConv2d(layer, x)).toThrow(
      /^layer dw: calibration cannot take gradients through a dilated convolution of this kind .*DepthwiseConv2D/,
    );
  });
});

describe('calibrateChangeRates with a dilated Conv2D', () => {
  it('converges and equalizes the rates, the dilated layer included, leaking nothing', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const init = (s: number) => tf.initializers.heNormal({ seed: s });
    let h = tf.layers
      .conv2d({ name: 'c1', filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1) })
      .apply(input) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({ name: 'c2', filters: 8, kernelSize: 3, dilationRate: [2, 3], activation: 'relu', kernelInitializer: init(2) })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const model = keep(
      tf.model({ inputs: input, outputs: tf.layers.dense({ name: 'fc', units: 5, kernelInitializer: init(3) }).apply(h) as tf.SymbolicTensor }),
    );
    const x = keep(seededBatch([8, 16, 16, 3], 6));
    normalizeChannels(model, x);
    await expectNoLeakedTensors(() => {
      const before = measureChangeRates(model, x, { seed: 2 });
      expect(Object.keys(before.rates)).toEqual(['c1', 'c2', 'fc']);
      const result = calibrateChangeRates(model, x, { seed: 2 });
      expect(result.converged).toBe(true);
      expect(result.maxLogDeviation).toBeLessThan(0.01);
      // max_k |log ρ_k / log T − 1| ≤ 0.01: every rate within a factor T^±0.01 of the common target.
      const logs = Object.values(result.finalRates).map(Math.log);
      expect(Object.keys(result.finalRates)).toEqual(['c1', 'c2', 'fc']);
      expect(Math.max(...logs) - Math.min(...logs)).toBeLessThan(0.02 * Math.abs(Math.log(before.target)) + 1e-6);
      expect(before.deviation).toBeGreaterThan(0.05); // there was something to equalize
    });
  });
});
