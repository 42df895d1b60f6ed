import * as tf from '@tensorflow/tfjs';
import { loadNativeBlas } from '@ddinit/native-blas';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { expectNoLeaks, normalData } from '../testing/backend-comparison';
import { CHANNEL_MOMENTS, tensorChannelMoments } from './channel-moments';

/** Two float64 passes per channel over float32 values: the oracle. */
function twoPass(values: Float32Array, channels: number): { mean: number[]; std: number[] } {
  const rows = values.length / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let i = 0; i < channels; i++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += values[r * channels + i];
    const m = sum / rows;
    let squares = 0;
    for (let r = 0; r < rows; r++) squares += (values[r * channels + i] - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(squares / rows));
  }
  return { mean, std };
}

const native = loadNativeBlas().ok;
const BACKENDS: [string, () => Promise<unknown>][] = [
  ['wasm, JavaScript kernel', () => useBackend('wasm', { nativeBlas: false })],
  ...(native ? [['wasm, native kernel', () => useBackend('wasm', { nativeBlas: true })] as [string, () => Promise<unknown>]] : []),
  ['cpu, dataSync', () => useBackend('cpu')],
];

describe('tensorChannelMoments', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it.each(BACKENDS)('μ_i and σ_i within 1e-12 of two float64 passes, on channels far from 0, leaving nothing behind: %s', async (_, use) => {
    await use();
    // [2, 45, 37, 6]: channel i has mean 500·i and std 1 + i (a float32 sum of these 3330 values loses ~1e-5 of σ).
    const shape = [2, 45, 37, 6];
    const values = normalData(shape, 4).map((v, k) => 500 * (k % 6) + (1 + (k % 6)) * v);
    const oracle = twoPass(values, 6);
    const z = tf.tensor(values, shape);
    const got = tensorChannelMoments(z);
    expect(got.count).toBe(2 * 45 * 37);
    for (let i = 0; i < 6; i++) {
      expect(Math.abs(got.mean[i] - oracle.mean[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(oracle.mean[i])));
      expect(Math.abs(got.std[i] - oracle.std[i])).toBeLessThan(1e-12 * oracle.std[i]);
    }
    await expectNoLeaks(() => tensorChannelMoments(z));
    z.dispose();
  });

  it('runs the kernel on wasm (no copy of the tensor out of the heap) and gives what the JavaScript path gives', async () => {
    await useBackend('wasm', { nativeBlas: native });
    expect(tf.getKernel(CHANNEL_MOMENTS, 'wasm')).toBeDefined();
    const values = normalData([9, 7, 5, 32], 8).map((v) => 3 + 0.01 * v);
    const z = tf.tensor(values, [9, 7, 5, 32]);
    const kernel = tensorChannelMoments(z);
    const reference = twoPass(values, 32);
    kernel.std.forEach((s, i) => expect(Math.abs(s - reference.std[i])).toBeLessThan(1e-12));
    z.dispose();
  });

  it('rejects a scalar and an empty tensor, naming the caller', async () => {
    await useBackend('wasm', { nativeBlas: false });
    const scalar = tf.scalar(1);
    const empty = tf.zeros([0, 4]);
    expect(() => tensorChannelMoments(scalar, 'layer conv1')).toThrow(/layer conv1: need a non-empty tensor with a channel axis/);
    expect(() => tensorChannelMoments(empty, 'layer conv1')).toThrow(/got \[0,4\]|got 0,4|\[0, 4\]/);
    tf.dispose([scalar, empty]);
  });
});
