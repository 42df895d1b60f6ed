import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { parseWithinLayerOptions, resolveLayerPlans, type LayerPlan } from '@ddinit/init-within-layer';
import { buildModel, parameterLayers } from '@ddinit/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationBytesPerImage, checkSampleMemory, chooseSampleSize, HELD_OUT_IMAGES, MIN_DEFAULT_SAMPLE, ROWS_PER_FILTER, sampleNeed } from './sample-size';

const models: tf.LayersModel[] = [];

function modelAndPlans(name: string, within: Record<string, unknown> = {}): { model: tf.LayersModel; plans: LayerPlan[] } {
  const model = buildModel(name, { inputShape: [28, 28, 1], numClasses: 10 });
  models.push(model);
  return { model, plans: resolveLayerPlans(parameterLayers(model), parseWithinLayerOptions({ method: 'kmeans', ...within })) };
}
const plansOf = (name: string, within: Record<string, unknown> = {}): LayerPlan[] => modelAndPlans(name, within).plans;

beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(() => models.forEach((m) => m.dispose()));

describe('the init sample size', () => {
  it('by default gives the data-dependent layer with the fewest positions per filter ROWS_PER_FILTER rows per filter', () => {
    // vgg-plain-11 at 28 px: conv5_* have 128 filters at 1×1, one row per image each.
    expect(sampleNeed(plansOf('vgg-plain-11'))).toEqual({
      images: ROWS_PER_FILTER * 128,
      reason: `${ROWS_PER_FILTER} rows × 128 filters of conv5_1 at 1 position(s) per image`,
    });
    // caffenet-small: fc6 and fc7 have 256 units.
    expect(sampleNeed(plansOf('caffenet-small')).images).toBe(ROWS_PER_FILTER * 256);
    // Data-free sources and skipped layers need no rows: the reference's 160 stays.
    expect(sampleNeed(plansOf('vgg-plain-11', { method: 'orthogonal' }))).toEqual({ images: 0, reason: null });
    const choice = chooseSampleSize(undefined, plansOf('vgg-plain-11', { method: 'gaussian', layers: [{ match: 'conv1_1', method: 'pca' }] }), 3000);
    expect(choice).toMatchObject({ size: MIN_DEFAULT_SAMPLE, heldOut: HELD_OUT_IMAGES, growth: 0, capped: false });
  });

  it('auto: the reference sample, grown for the layers short of rows up to what the split holds beyond the held-out batch, and says so', () => {
    const plans = plansOf('caffenet-small');
    const full = chooseSampleSize(undefined, plans, 3000);
    expect(full).toMatchObject({ size: MIN_DEFAULT_SAMPLE, heldOut: HELD_OUT_IMAGES, growth: ROWS_PER_FILTER * 256 - MIN_DEFAULT_SAMPLE, capped: false });
    expect(full.rule).toBe(`from the model: 160 images, grown to 2048 for ${ROWS_PER_FILTER} rows × 256 filters of fc6 at 1 position(s) per image`);
    const small = chooseSampleSize(undefined, plans, 1000);
    expect(small).toMatchObject({ size: MIN_DEFAULT_SAMPLE, heldOut: HELD_OUT_IMAGES, growth: 1000 - HELD_OUT_IMAGES - MIN_DEFAULT_SAMPLE, capped: true });
    expect(small.rule).toMatch(/grown to 744 .*\(2048 wanted\), capped by the split's 1000 examples/);
    // A tiny split still keeps half of itself aside, and has nothing to grow with.
    expect(chooseSampleSize(undefined, plans, 40)).toMatchObject({ size: 20, heldOut: 20, growth: 0, capped: true });
  });

  it('an explicit size is kept as given; the held-out batch takes what the split has left', () => {
    const plans = plansOf('vgg-plain-11');
    expect(chooseSampleSize(160, plans, 3000)).toMatchObject({ size: 160, heldOut: HELD_OUT_IMAGES, growth: 0, rule: 'set by sample (--sample)' });
    expect(chooseSampleSize(2900, plans, 3000)).toMatchObject({ size: 2900, heldOut: 100 });
    expect(chooseSampleSize(3000, plans, 3000)).toMatchObject({ size: 3000, heldOut: 0 });
  });

  it('estimates at least the measured peak memory per image, and refuses a sample beyond the budget naming the field and the largest size that fits', () => {
    const vgg = modelAndPlans('vgg-plain-11');
    const caffenet = modelAndPlans('caffenet-small');
    const perImage = (m: { model: tf.LayersModel; plans: LayerPlan[] }) => activationBytesPerImage(m.model, m.plans);
    // Measured peak RSS growth per sample image at 28 px (docs/RESULTS.md): 0.34 MB and 0.66 MB.
    expect(perImage(vgg)).toBeGreaterThan(0.34e6);
    expect(perImage(vgg)).toBeLessThan(3 * 0.34e6);
    expect(perImage(caffenet)).toBeGreaterThan(0.66e6);
    expect(perImage(caffenet)).toBeLessThan(3 * 0.66e6);
    const budget = 3 * 1024 ** 3;
    const fits = Math.floor(budget / perImage(vgg));
    expect(() => checkSampleMemory(fits, vgg.model, vgg.plans, budget, 'vgg-plain-11')).not.toThrow();
    let error: unknown;
    try {
      checkSampleMemory(10000, vgg.model, vgg.plans, budget, 'vgg-plain-11');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^sample: a sample of 10000 images needs about \\d+\\.\\d GiB of activations for model vgg-plain-11 .* \\(expected at most ${fits} images, got 10000\\)`,
      ),
    );
  });
});
