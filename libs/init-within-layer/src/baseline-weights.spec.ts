/**
 * The baseline initializations draw each kernel with the std of its formula
 * (Glorot uniform √(2/(fan_in+fan_out)), He normal √(2/fan_in), Caffe's 0.01,
 * orthogonal 1/√max(r·in, out) with orthonormal columns or rows),
 * zero biases, identity batch norms, and the same weights for the same seed.
 */
import * as tf from '@tensorflow/tfjs';
import { parameterLayers, readWeight } from '@ddinit/models';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASELINE_METHODS, baselineStd, initializeBaseline, kernelFans, orthogonalMatrixShape } from './baseline-weights';

beforeAll(async () => {
  await useBackend('wasm');
});

/** conv 5×5×3→32 (fan_in 75, fan_out 800) → batch norm → conv 3×3×32→64 → dense 2304→128 → dense 128→10. */
function baselineModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers.conv2d({ name: 'conv1', filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ name: 'fc1', units: 128, activation: 'relu', biasInitializer: 'ones' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'fc2', units: 10 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function stdOf(t: tf.Tensor): number {
  return tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]));
}

describe('kernelFans', () => {
  it('takes the receptive field times the input / output channels, as tfjs does', () => {
    expect(kernelFans([5, 5, 3, 32])).toEqual({ fanIn: 75, fanOut: 800 });
    expect(kernelFans([2304, 128])).toEqual({ fanIn: 2304, fanOut: 128 });
  });
});

describe('initializeBaseline', () => {
  for (const method of BASELINE_METHODS) {
    it(`${method}: every kernel's std within 5 % of its formula, biases 0, batch norm the identity`, async () => {
      const model = baselineModel();
      await expectNoLeakedTensors(() => {
        const layers = initializeBaseline(model, method, 7);
        expect(layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'conv2', 'fc1', 'fc2']);
        for (const layer of parameterLayers(model)) {
          for (const { role, shape } of layer.weights) {
            const value = readWeight(layer, role);
            const values = value.dataSync();
            if (role === 'kernel') {
              // ≥ 1,280 draws: the sample std is within 5 % of σ with overwhelming probability (its relative sd ≤ 2 %).
              const expected = baselineStd(method, shape);
              expect(Math.abs(stdOf(value) / expected - 1), `${layer.name} std ${stdOf(value)} vs ${expected}`).toBeLessThan(0.05);
              expect(Math.abs(tf.tidy(() => tf.mean(value).dataSync()[0])), `${layer.name} mean`).toBeLessThan((4 * expected) / Math.sqrt(values.length));
            } else {
              const one = role === 'gamma' || role === 'movingVariance';
              expect(
                Array.from(values).every((v) => v === (one ? 1 : 0)),
                `${layer.name} ${role}`,
              ).toBe(true);
            }
            value.dispose();
          }
        }
      });
      model.dispose();
    });
  }

  it('formulas: Glorot √(2/(fan_in+fan_out)), He √(2/fan_in), Caffe 0.01', () => {
    expect(baselineStd('glorot-uniform', [5, 5, 3, 32])).toBeCloseTo(Math.sqrt(2 / 875), 12);
    expect(baselineStd('he-normal', [5, 5, 3, 32])).toBeCloseTo(Math.sqrt(2 / 75), 12);
    expect(baselineStd('gaussian-0.01', [2304, 128])).toBe(0.01);
    expect(baselineStd('orthogonal', [5, 5, 3, 32])).toBeCloseTo(1 / Math.sqrt(75), 12);
    expect(baselineStd('orthogonal', [2304, 128])).toBeCloseTo(1 / Math.sqrt(2304), 12);
    expect(baselineStd('orthogonal', [3, 3, 64, 2048])).toBeCloseTo(1 / Math.sqrt(2048), 12);
  });

  it('orthogonal: every kernel, read as [r·in, out], has orthonormal columns (WᵀW = I) or rows (WWᵀ = I) to 1e-4', async () => {
    const model = baselineModel();
    await expectNoLeakedTensors(() => {
      initializeBaseline(model, 'orthogonal', 5);
      for (const layer of parameterLayers(model)) {
        const shape = layer.weights.find((w) => w.role === 'kernel')?.shape;
        if (shape === undefined) continue;
        const [rows, cols] = orthogonalMatrixShape(shape);
        const kernel = readWeight(layer, 'kernel');
        // conv1 [75, 32], conv2 [288, 64], fc1 [2304, 128], fc2 [128, 10]: all tall (WᵀW = I); the next spec takes a wide one.
        const worst = tf.tidy(() => {
          const m = tf.reshape(kernel, [rows, cols]) as tf.Tensor2D;
          const gram = rows >= cols ? tf.matMul(m, m, true, false) : tf.matMul(m, m, false, true);
          return tf.max(tf.abs(tf.sub(gram, tf.eye(Math.min(rows, cols))))).dataSync()[0];
        });
        expect(worst, `${layer.name} [${rows}, ${cols}] max |gram − I|`).toBeLessThan(1e-4);
        kernel.dispose();
      }
    });
    model.dispose();
  });

  it('orthogonal: a wide kernel (more filters than r·in) has orthonormal rows, WWᵀ = I', () => {
    const input = tf.input({ shape: [16] });
    const out = tf.layers.dense({ name: 'wide', units: 40 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    initializeBaseline(model, 'orthogonal', 9);
    const worst = tf.tidy(() => {
      const m = readWeight(parameterLayers(model)[0], 'kernel') as tf.Tensor2D;
      return tf.max(tf.abs(tf.sub(tf.matMul(m, m, false, true), tf.eye(16)))).dataSync()[0];
    });
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
  });

  it('glorot-uniform stays inside ±√(6/(fan_in+fan_out))', () => {
    const model = baselineModel();
    initializeBaseline(model, 'glorot-uniform', 3);
    const conv1 = readWeight(parameterLayers(model)[0], 'kernel');
    const bound = Math.sqrt(6 / 875);
    expect(tf.tidy(() => tf.max(tf.abs(conv1)).dataSync()[0])).toBeLessThanOrEqual(bound);
    // A uniform draw of 2,400 values comes within 1 % of the bound.
    expect(tf.tidy(() => tf.max(tf.abs(conv1)).dataSync()[0])).toBeGreaterThan(0.99 * bound);
    conv1.dispose();
    model.dispose();
  });

  it('the same seed gives the same weights, another seed others', () => {
    const weightsFor = (seed: number): Float32Array[] => {
      const model = baselineModel();
      initializeBaseline(model, 'he-normal', seed);
      const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
      model.dispose();
      return values;
    };
    const a = weightsFor(11);
    expect(weightsFor(11)).toEqual(a);
    const other = weightsFor(12);
    expect(other[0]).not.toEqual(a[0]);
  });
});
