import * as tf from '@tensorflow/tfjs';
import { loadNativeBlas } from '@ddinit/native-blas';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { expectNoLeaks, normalData } from '../testing/backend-comparison';
import { CHANNEL_AFFINE, channelAffine } from './channel-affine';

const native = loadNativeBlas().ok;

describe('channelAffine', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it.each([false, ...(native ? [true] : [])])('gives tfjs’s add(mul(x, scale), shift) bit for bit, leaving nothing behind (addon %s)', async (nativeBlas) => {
    await useBackend('wasm', { nativeBlas });
    expect(tf.getKernel(CHANNEL_AFFINE, 'wasm') !== undefined).toBe(nativeBlas);
    const x = tf.tensor(
      normalData([3, 5, 4, 7], 2).map((v) => 40 * v),
      [3, 5, 4, 7],
    );
    const scale = tf.tensor1d(normalData([7], 3).map((v) => 1 / (0.1 + Math.abs(v))));
    const shift = tf.tensor1d(normalData([7], 4));
    const got = channelAffine(x, scale, shift);
    const reference = tf.tidy(() => tf.add(tf.mul(x, scale), shift));
    expect(got.shape).toEqual([3, 5, 4, 7]);
    expect(got.dataSync()).toEqual(reference.dataSync());
    await expectNoLeaks(() => channelAffine(x, scale, shift).dispose());
    tf.dispose([x, scale, shift, got, reference]);
  });
});
