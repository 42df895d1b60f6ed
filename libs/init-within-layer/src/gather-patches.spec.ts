import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATHER_PATCHES, Rng } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { GroupedConv2D, axisPadding, kernelToFilterRows } from '@ddinit/models';
import { gatherPatches } from './gather-patches';

beforeAll(async () => {
  await useBackend('wasm');
});

const CASES = [
  { name: 'stride 2, same padding, 2 groups', kernel: 3, strides: 2, dilation: 1, padding: 'same' as const, groups: 2 },
  { name: 'dilation 2, same padding', kernel: 3, strides: 1, dilation: 2, padding: 'same' as const, groups: 1 },
  { name: '11×11 stride 4, valid (CaffeNet conv1 shape)', kernel: 5, strides: 3, dilation: 1, padding: 'valid' as const, groups: 1 },
];

describe('gatherPatches', () => {
  for (const c of CASES) {
    it(`every patch · filter rows = the layer output (${c.name})`, () => {
      const [h, w, cin, cout] = [11, 9, 4, 6];
      const layer = new GroupedConv2D({
        filters: cout,
        kernelSize: c.kernel,
        strides: c.strides,
        dilationRate: c.dilation,
        padding: c.padding,
        groups: c.groups,
        useBias: false,
      });
      const x = tf.randomNormal([2, h, w, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = layer.apply(x) as tf.Tensor4D;
      const [, oh, ow] = y.shape;
      const pv = axisPadding(h, c.kernel, c.strides, c.padding, c.dilation);
      const ph = axisPadding(w, c.kernel, c.strides, c.padding, c.dilation);
      const patches = gatherPatches(
        x,
        {
          kernelSize: [c.kernel, c.kernel],
          strides: [c.strides, c.strides],
          dilation: [c.dilation, c.dilation],
          padTop: pv.before,
          padLeft: ph.before,
          groups: c.groups,
        },
        [oh, ow],
        { rng: Rng.fromSeed(1), maxRows: 1e9, maxBytes: 1e9, where: 'test' },
      );
      expect(patches.rows).toBe(2 * oh * ow);
      const rows = kernelToFilterRows(layer.getWeights()[0], 'conv', c.groups);
      const perGroup = cout / c.groups;
      const outputs = patches.groups.map((p, g) => tf.matMul(p, tf.squeeze(tf.slice(rows, [g, 0, 0], [1, -1, -1]), [0]), false, true));
      const expected = tf.concat(outputs, 1);
      expect(expected.shape).toEqual([2 * oh * ow, perGroup * c.groups]);
      expect(relativeError(expected.dataSync(), tf.reshape(y, [-1, cout]).dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, y, rows, expected, ...outputs, ...patches.groups]);
    });
  }

  it('subsamples positions with the seeded RNG under the row and byte caps', async () => {
    const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
    const geometry = {
      kernelSize: [3, 3] as [number, number],
      strides: [1, 1] as [number, number],
      dilation: [1, 1] as [number, number],
      padTop: 0,
      padLeft: 0,
      groups: 1,
    };
    const draw = (seed: number, maxRows: number, maxBytes: number): number[] => {
      const p = gatherPatches(x, geometry, [6, 6], { rng: Rng.fromSeed(seed), maxRows, maxBytes, where: 'test' });
      try {
        return [p.rows, p.positions, ...Array.from(p.groups[0].dataSync())];
      } finally {
        tf.dispose(p.groups);
      }
    };
    expect(draw(1, 50, 1e9).slice(0, 2)).toEqual([50, 144]);
    expect(draw(1, 1000, 18 * 4 * 10).slice(0, 1)).toEqual([10]); // 10 rows of 18 floats
    expect(draw(1, 50, 1e9)).toEqual(draw(1, 50, 1e9));
    expect(draw(1, 50, 1e9)).not.toEqual(draw(2, 50, 1e9));
    await expectNoLeakedTensors(() => draw(3, 20, 1e9));
    x.dispose();
  });

  it('rejects a non-4-D input and channels that do not split into the groups', () => {
    const x = tf.zeros([2, 4, 4, 3]);
    const geometry = {
      kernelSize: [1, 1] as [number, number],
      strides: [1, 1] as [number, number],
      dilation: [1, 1] as [number, number],
      padTop: 0,
      padLeft: 0,
      groups: 2,
    };
    expect(() => gatherPatches(x, geometry, [4, 4], { rng: Rng.fromSeed(1), maxRows: 10, maxBytes: 1e6, where: 'layer g' })).toThrow(
      /layer g: input channels are not divisible/,
    );
    const flat = tf.zeros([2, 3]);
    expect(() => gatherPatches(flat, { ...geometry, groups: 1 }, [1, 1], { rng: Rng.fromSeed(1), maxRows: 10, maxBytes: 1e6, where: 'layer d' })).toThrow(
      /layer d: patch input must be/,
    );
    tf.dispose([x, flat]);
  });

  it('the addon’s kernel cuts the rows the JavaScript loop cuts (sampled positions, groups, padding, dilation), leaving nothing behind', async () => {
    const x = tf.randomNormal([3, 10, 9, 6], 0, 1, 'float32', 4) as tf.Tensor4D;
    const geometry = {
      kernelSize: [3, 2] as [number, number],
      strides: [2, 1] as [number, number],
      dilation: [1, 2] as [number, number],
      padTop: 1,
      padLeft: 1,
      groups: 3,
    };
    const cut = async (nativeBlas: boolean) => {
      const selection = await useBackend('wasm', { nativeBlas });
      expect(tf.getKernel(GATHER_PATCHES, 'wasm') !== undefined).toBe(selection.nativeBlas?.active === true); // on this machine: the addon's kernel, then none
      const options = { rng: Rng.fromSeed(6), maxRows: 40, maxBytes: 1 << 20, where: 'layer spec' };
      await expectNoLeakedTensors(() => tf.dispose(gatherPatches(x, geometry, [5, 9], options).groups));
      const patches = gatherPatches(x, geometry, [5, 9], options);
      const values = patches.groups.map((g) => Array.from(g.dataSync()));
      tf.dispose(patches.groups);
      return { values, rows: patches.rows, features: patches.features };
    };
    const onAddon = await cut(true);
    const reference = await cut(false);
    await useBackend('wasm');
    expect([onAddon.rows, onAddon.features]).toEqual([40, 3 * 2 * 2]);
    expect(onAddon).toEqual(reference);
    x.dispose();
  });
});
