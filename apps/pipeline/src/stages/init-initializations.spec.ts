/**
 * Every name of INITIALIZATIONS through the init stage, on a narrow vgg-plain-11 and
 * the embedded Fashion-MNIST sample: each publishes the same artifact layout with the
 * sample's input normalization and a report naming it; a data-free draw has the std
 * of its formula; LSUV leaves every conv/dense layer with output variance ≈ 1 on its
 * batch, measured again here on the published network.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@ddinit/core/backend';
import { baselineStd } from '@ddinit/init-within-layer';
import { GraphExecutor, parameterLayers, readWeight } from '@ddinit/models';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIALIZATIONS, initializationPlan, type Initialization } from '../config/initializations';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { readModel } from '../model/load-model';
import { inputNormalizationOf } from '../model/model-files';
import { InitReportSchema, type InitReport } from '../report/report-schema';
import { disposeInitSample, loadInitSample } from './init-sample';
import { runInitStage } from './init-stage';

const SAMPLE = 32;
const BATCH = 8;
let dir: string;

beforeAll(async () => {
  await selectBackend('wasm');
  tf.env().set('IS_TEST', false);
  dir = mkdtempSync(join(tmpdir(), 'ddinit-initializations-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What PCA and ZCA need on this model: 32 images leave the deepest layers' patch
 * covariance rank-deficient, so they fall back to orthogonal filters (as configured);
 * ZCA needs as many filters as patch elements, which conv1_1 has with 9 channels
 * (3×3×1), so it runs there and PCA elsewhere.
 */
function withinOptionsFor(init: Initialization): { baseChannels: number; withinOptions: Record<string, unknown> } {
  const plan = initializationPlan(init);
  if (plan.kind !== 'ddinit' || (plan.within !== 'pca' && plan.within !== 'zca')) return { baseChannels: 4, withinOptions: {} };
  const fallback = { onDegenerate: 'orthogonal' };
  if (plan.within === 'pca') return { baseChannels: 4, withinOptions: { fallback } };
  return {
    baseChannels: 9,
    withinOptions: {
      fallback,
      layers: [
        { match: '*', method: 'pca' },
        { match: 'conv1_1', method: 'zca' },
      ],
    },
  };
}

/** Runs the init stage with `init` on a narrow vgg-plain-11 (4 to 32 channels) and returns the artifact's location and report. */
async function initialize(init: Initialization): Promise<{ out: string; report: InitReport }> {
  const out = join(dir, init);
  const { baseChannels, withinOptions } = withinOptionsFor(init);
  const config = PipelineConfigSchema.parse({
    init,
    model: 'vgg-plain-11',
    modelOptions: { baseChannels, headUnits: 32 },
    withinOptions,
    sample: SAMPLE,
    calibrationBatch: BATCH,
    backend: 'wasm',
    out,
  });
  await runInitStage(config, { backend: 'wasm' });
  return { out, report: InitReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))) };
}

/** Kernels of `network` with at least 1,000 values (their sample std is within 5 % of σ with overwhelming probability), by layer. */
function largeKernels(network: tf.LayersModel): { layer: string; shape: number[]; std: number; bias: number }[] {
  return parameterLayers(network).flatMap((layer) => {
    const kernelShape = layer.weights.find((w) => w.role === 'kernel')?.shape;
    if (kernelShape === undefined || kernelShape.reduce((a, b) => a * b, 1) < 1000) return [];
    const kernel = readWeight(layer, 'kernel');
    const bias = layer.weights.some((w) => w.role === 'bias') ? readWeight(layer, 'bias') : tf.zeros([1]);
    const [std, maxBias] = tf.tidy(() => [Math.sqrt(tf.moments(kernel).variance.dataSync()[0]), tf.max(tf.abs(bias)).dataSync()[0]]);
    tf.dispose([kernel, bias]);
    return [{ layer: layer.name, shape: [...kernelShape], std, bias: maxBias }];
  });
}

describe('every initialization through the init stage', () => {
  const normalizations = new Map<string, unknown>();

  for (const init of INITIALIZATIONS) {
    it(`${init}: publishes model, weights, report.json and report.html naming it, with the sample's input normalization`, async () => {
      const { out, report } = await initialize(init);
      expect(readdirSync(out).sort()).toEqual(['metadata.json', 'model.json', 'report.html', 'report.json', 'weights.bin']);
      expect(report.init).toBe(init);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(`<dt>init</dt><dd><code>${init}</code></dd>`);
      const plan = initializationPlan(init);
      expect(report.within === null).toBe(plan.kind !== 'ddinit');
      expect(report.calibration !== null).toBe(plan.kind === 'ddinit' && plan.calibrate);
      expect(report.lsuv !== null).toBe(plan.kind === 'lsuv');
      const network = await readModel(out);
      try {
        // The sample's per-channel mean and std (Fashion-MNIST: about 0.29 and 0.35 of 1), as in the report.
        const normalization = inputNormalizationOf(network, out);
        expect(normalization).toEqual(report.data.normalization);
        expect(normalization?.std[0]).toBeGreaterThan(0.2);
        expect(normalization?.std[0]).toBeLessThan(0.5);
        normalizations.set(init, normalization);
        if (plan.kind === 'data-free') {
          const kernels = largeKernels(network);
          expect(kernels.length).toBeGreaterThanOrEqual(3);
          for (const k of kernels) {
            const expected = baselineStd(plan.method, k.shape);
            expect(Math.abs(k.std / expected - 1), `${k.layer} std ${k.std} vs ${expected}`).toBeLessThan(0.05);
            expect(k.bias, `${k.layer} bias`).toBe(0);
          }
        }
      } finally {
        network.dispose();
      }
    }, 120_000);
  }

  it('every artifact standardizes its inputs the same way (the same seeded sample)', () => {
    expect(normalizations.size).toBe(INITIALIZATIONS.length);
    const first = normalizations.get(INITIALIZATIONS[0]);
    for (const [init, normalization] of normalizations) expect(normalization, init).toEqual(first);
  });

  it('lsuv starts from the orthogonal draw of the same seed: each kernel is the orthogonal one times a positive scalar', async () => {
    // Up to date (skipped) when the specs above wrote them.
    const [orthogonal, lsuv] = [await readModel((await initialize('orthogonal')).out), await readModel((await initialize('lsuv')).out)];
    try {
      const pairs = parameterLayers(orthogonal).map((layer, k) => [layer, parameterLayers(lsuv)[k]] as const);
      for (const [o, l] of pairs) {
        const [scale, residual] = tf.tidy(() => {
          const a = readWeight(o, 'kernel');
          const b = readWeight(l, 'kernel');
          // The least-squares scale s = ⟨a, b⟩ / ⟨a, a⟩, and how far b is from s·a relative to |b|.
          const s = tf.div(tf.sum(tf.mul(a, b)), tf.sum(tf.mul(a, a)));
          const r = tf.div(tf.norm(tf.sub(b, tf.mul(s, a))), tf.norm(b));
          return [s.dataSync()[0], r.dataSync()[0]];
        });
        expect(scale, o.name).toBeGreaterThan(0);
        expect(residual, o.name).toBeLessThan(1e-5);
      }
    } finally {
      orthogonal.dispose();
      lsuv.dispose();
    }
  });

  it('lsuv: every conv and dense layer of the published network has output variance 1 ± tolerance on the calibration batch', async () => {
    const { out, report } = await initialize('lsuv');
    const lsuv = report.lsuv;
    if (lsuv === null) throw new Error('an lsuv report has its lsuv section');
    expect(lsuv.converged).toBe(true);
    const network = await readModel(out);
    const sample = await loadInitSample({ data: 'embedded', split: 'train', size: SAMPLE, seed: 0 });
    const batch = tf.slice(sample.images, 0, BATCH);
    const run = new GraphExecutor(network, batch);
    try {
      const layers = parameterLayers(network);
      expect(lsuv.layers.map((l) => l.layer)).toEqual(layers.map((l) => l.name));
      for (const layer of layers) {
        const z = run.preActivation(layer.name);
        const variance = tf.tidy(() => tf.moments(z).variance.dataSync()[0]);
        z.dispose();
        run.commit(layer.name);
        // The tolerance LSUV stops at, plus float32 slack between its forward pass and this one.
        expect(Math.abs(variance - 1), `${layer.name} variance ${variance}`).toBeLessThan(lsuv.tolerance + 1e-3);
        expect(report.layers.find((l) => l.name === layer.name)?.method).toBe('lsuv');
      }
      // From an orthogonal draw far from unit variance: the rescaling did the work.
      expect(lsuv.layers.some((l) => Math.abs(l.varianceBefore - 1) > 0.5)).toBe(true);
    } finally {
      run.dispose();
      tf.dispose(batch);
      disposeInitSample(sample);
      network.dispose();
    }
  }, 120_000);
});
