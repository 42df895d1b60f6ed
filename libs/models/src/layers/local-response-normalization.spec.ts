import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { CAFFENET_LRN, LocalResponseNormalization, caffeLrnConfig } from './local-response-normalization';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Caffe's LRN (ACROSS_CHANNELS), written out: x / (k + α/n · Σ_window x²)^β, window of n channels centred on d. */
function caffeLrn(x: Float32Array, channels: number, n: number, alpha: number, beta: number, k: number): Float32Array {
  const out = new Float32Array(x.length);
  const half = (n - 1) / 2;
  for (let p = 0; p < x.length; p += channels) {
    for (let d = 0; d < channels; d++) {
      let sum = 0;
      for (let e = Math.max(0, d - half); e <= Math.min(channels - 1, d + half); e++) sum += x[p + e] ** 2;
      out[p + d] = x[p + d] / (k + (alpha / n) * sum) ** beta;
    }
  }
  return out;
}

describe('LocalResponseNormalization', () => {
  it('maps Caffe parameters onto tfjs parameters', () => {
    expect(CAFFENET_LRN).toEqual({ depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
    expect(caffeLrnConfig({ localSize: 3, alpha: 0.3, beta: 0.5, k: 2 })).toMatchObject({ depthRadius: 1, bias: 2, alpha: expect.closeTo(0.1, 12), beta: 0.5 });
    expect(() => caffeLrnConfig({ localSize: 4, alpha: 1, beta: 1, k: 1 })).toThrow(ConfigError);
  });

  it.each([
    ['CaffeNet parameters, activations of CaffeNet scale', { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1 }, 60],
    ['strong normalization (the sum term dominates)', { localSize: 3, alpha: 3, beta: 0.75, k: 0.5 }, 2],
  ])('equals Caffe LRN: %s', (_, caffe, scale) => {
    const channels = 7;
    const x = tf.randomNormal([2, 3, 4, channels], 0, scale, 'float32', 5);
    const layer = new LocalResponseNormalization(caffeLrnConfig(caffe));
    const y = layer.apply(x) as tf.Tensor;
    const expected = caffeLrn(x.dataSync() as Float32Array, channels, caffe.localSize, caffe.alpha, caffe.beta, caffe.k);
    expect(relativeError(y.dataSync(), expected)).toBeLessThan(1e-5);
    // The normalization really acts (the test could not pass with an identity).
    expect(relativeError(x.dataSync(), expected)).toBeGreaterThan(1e-3);
    tf.dispose([x, y]);
  });

  it('serializes its config and leaks nothing', async () => {
    const layer = new LocalResponseNormalization({ name: 'norm1', ...CAFFENET_LRN });
    const config = layer.getConfig();
    expect(config).toMatchObject({ name: 'norm1', depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
    expect(new LocalResponseNormalization(JSON.parse(JSON.stringify(config))).getConfig()).toEqual(config);
    const x = tf.ones([1, 2, 2, 8]);
    await expectNoLeakedTensors(() => tf.dispose(layer.apply(x) as tf.Tensor));
    x.dispose();
  });
});
