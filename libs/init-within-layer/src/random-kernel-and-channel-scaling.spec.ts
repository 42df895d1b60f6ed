import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { filterRowsShape, filterRowsToKernel, kernelToFilterRows, type KernelInfo } from '@ddinit/models';
import { scaleOutputChannels } from './output-channels';
import { randomFilters, randomKernel } from './random-filters';

beforeAll(async () => {
  await useBackend('wasm');
});

const KERNELS: KernelInfo[] = [
  { role: 'kernel', layout: 'dense', shape: [40, 12], groups: 1 },
  { role: 'kernel', layout: 'dense', shape: [6, 15], groups: 1 },
  { role: 'kernel', layout: 'conv', shape: [3, 3, 4, 10], groups: 1 },
  { role: 'kernel', layout: 'conv', shape: [2, 2, 3, 8], groups: 2 },
  { role: 'depthwiseKernel', layout: 'depthwise', shape: [3, 3, 4, 2], groups: 1 },
  { role: 'kernel', layout: 'transposed', shape: [2, 2, 5, 3], groups: 1 },
];

/** max |A·Aᵀ − I| (rows) or |Aᵀ·A − I| (columns) of each group's filter rows [N, F], over the shorter side. */
function orthonormalityError(kernel: tf.Tensor, info: KernelInfo): number {
  return tf.tidy(() => {
    const rows = kernelToFilterRows(kernel, info.layout, info.groups);
    const [g, n, f] = rows.shape;
    let worst = 0;
    for (let k = 0; k < g; k++) {
      const a = tf.reshape(tf.slice(rows, [k, 0, 0], [1, n, f]), [n, f]);
      const gram = n <= f ? tf.matMul(a, a, false, true) : tf.matMul(a, a, true, false);
      worst = Math.max(worst, tf.max(tf.abs(tf.sub(gram, tf.eye(Math.min(n, f))))).dataSync()[0]);
    }
    return worst;
  });
}

describe('randomKernel', () => {
  it('orthogonal: every group of filters is orthonormal along its shorter side, in every layout', async () => {
    await expectNoLeakedTensors(() => {
      for (const info of KERNELS) {
        const w = randomKernel('orthogonal', info, Rng.fromSeed(2), 'test');
        try {
          expect(w.shape).toEqual(info.shape);
          expect(orthonormalityError(w, info)).toBeLessThan(1e-5);
        } finally {
          w.dispose();
        }
      }
    });
  });

  it('gaussian: N(0, 1) entries, the same for the same stream, others for another', async () => {
    const info: KernelInfo = { role: 'kernel', layout: 'dense', shape: [300, 200], groups: 1 };
    await expectNoLeakedTensors(() => {
      const [a, b, c] = [
        randomKernel('gaussian', info, Rng.fromSeed(5)),
        randomKernel('gaussian', info, Rng.fromSeed(5)),
        randomKernel('gaussian', info, Rng.fromSeed(6)),
      ];
      try {
        const values = a.dataSync() as Float32Array;
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
        expect(Math.abs(mean)).toBeLessThan(0.01); // standard error 1/√60000 ≈ 0.004
        expect(Math.abs(variance - 1)).toBeLessThan(0.025);
        expect(Array.from(b.dataSync())).toEqual(Array.from(values));
        expect(Array.from(c.dataSync())).not.toEqual(Array.from(values));
      } finally {
        tf.dispose([a, b, c]);
      }
    });
  });

  it('layouts without a column form are randomFilters through filterRowsToKernel (same stream, same weights)', async () => {
    await expectNoLeakedTensors(() => {
      for (const info of KERNELS.filter((k) => k.layout === 'depthwise' || k.layout === 'transposed' || k.groups > 1)) {
        const direct = randomKernel('gaussian', info, Rng.fromSeed(4));
        const [g, n, f] = filterRowsShape(info.shape, info.layout, info.layout === 'conv' ? info.groups : 1);
        const reference = tf.tidy(() => filterRowsToKernel(randomFilters('gaussian', g, n, f, Rng.fromSeed(4)), info.layout, info.shape));
        try {
          expect(Array.from(direct.dataSync())).toEqual(Array.from(reference.dataSync()));
        } finally {
          tf.dispose([direct, reference]);
        }
      }
    });
  });
});

describe('scaleOutputChannels', () => {
  it('scales output channel i by scale_i in every layout (the filter-row reference: row i times scale_i)', async () => {
    await expectNoLeakedTensors(() => {
      for (const info of KERNELS) {
        const kernel = tf.randomNormal(info.shape, 0, 1, 'float32', 3);
        const [groups, perGroup] = filterRowsShape(info.shape, info.layout, info.layout === 'conv' ? info.groups : 1);
        const count = groups * perGroup;
        const scale = Float32Array.from({ length: count }, (_, i) => 0.5 + i);
        const scaled = scaleOutputChannels(kernel, info, scale);
        const reference = tf.tidy(() => {
          const rows = kernelToFilterRows(kernel, info.layout, info.groups);
          const [g, n, f] = rows.shape;
          const edited = tf.mul(tf.reshape(rows, [g * n, f]), tf.tensor2d(scale, [count, 1]));
          return filterRowsToKernel(tf.reshape(edited, [g, n, f]), info.layout, info.shape);
        });
        try {
          expect(scaled.shape).toEqual(info.shape);
          expect(tf.tidy(() => tf.max(tf.abs(tf.sub(scaled, reference))).dataSync()[0])).toBeLessThan(1e-5);
        } finally {
          tf.dispose([kernel, scaled, reference]);
        }
      }
    });
  });
});
