import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend, wasmDataIds } from '../../testing/backend-comparison';

describe('Identity on wasm (shared buffer)', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  it('clones without a new buffer, and the clone outlives its source', () => {
    const x = tf.tensor(normalData([3, 4, 5], 1), [3, 4, 5]);
    const buffers = wasmDataIds();
    const y = tf.clone(x);
    expect(wasmDataIds()).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(Array.from(Float32Array.from(normalData([3, 4, 5], 1))));
    y.dispose();
    expect(wasmDataIds()).toBe(buffers - 1);
  });

  it('saves the tensors a gradient needs without copies, with the gradients of the cpu backend', async () => {
    const x = normalData([2, 6, 6, 3], 2);
    const run = () => tf.grad((t: tf.Tensor) => tf.relu(t.mul(t)).sum())(tf.tensor(x, [2, 6, 6, 3]));
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    await expectNoLeaks(() => tf.tidy(() => run().dataSync()));
  });

  it('clones int32, bool and string tensors', () => {
    expect(Array.from(tf.clone(tf.tensor1d([1, 2, 3], 'int32')).dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(tf.clone(tf.tensor1d([true, false], 'bool')).dataSync())).toEqual([1, 0]);
    expect(tf.clone(tf.tensor1d(['a', 'b'], 'string')).dataSync()).toEqual(['a', 'b']);
  });
});
