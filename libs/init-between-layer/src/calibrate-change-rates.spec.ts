/**
 * Specs of the between-layer calibration (docs/method.md#between-layer).
 *
 * tfjs's IS_TEST kernel-leak check (switched on by `useBackend`) wrongly reports
 * "internal memory leak" for fused matMul/conv2d custom-gradient ops under
 * `tf.variableGrads` on wasm (see libs/models training.spec.ts); it is switched
 * off here and leaks are checked by counting tensors and backend data ids.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, createMemoryLogger, type ProgressEvent } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel } from '@ddinit/models';
import { calibrateChangeRates } from './calibrate-change-rates';
import { measureChangeRates } from './measure-change-rates';
import { capturePreActivations, normalizeChannels, seededBatch } from './testing';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // see the file comment
});

const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

function keep<T extends { dispose(): void }>(x: T): T {
  disposables.push(x);
  return x;
}

/** conv(relu) → maxpool → conv(relu) → flatten → dense(relu) → dense, no biases: positively homogeneous. */
function homogeneousChain(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.heNormal({ seed: seed * 10 + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ name: 'c1', inputShape: [12, 12, 3], filters: 6, kernelSize: 3, activation: 'relu', useBias: false, kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ name: 'p1', poolSize: 2 }),
      tf.layers.conv2d({ name: 'c2', filters: 8, kernelSize: 3, activation: 'relu', useBias: false, kernelInitializer: init(2) }),
      tf.layers.flatten({ name: 'f' }),
      tf.layers.dense({ name: 'd1', units: 16, activation: 'relu', useBias: false, kernelInitializer: init(3) }),
      tf.layers.dense({ name: 'd2', units: 5, useBias: false, kernelInitializer: init(4) }),
    ],
  });
}

function spread(rates: Record<string, number>): number {
  const values = Object.values(rates);
  return Math.max(...values) / Math.min(...values) - 1;
}

/** ‖a − c·b‖ / ‖a‖ for the best scalar c (least squares), and c. */
function scalarResidual(a: Float32Array, b: Float32Array): { residual: number; scale: number } {
  let ab = 0;
  let bb = 0;
  let aa = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    bb += b[i] * b[i];
    aa += a[i] * a[i];
  }
  const c = ab / bb;
  let r = 0;
  for (let i = 0; i < a.length; i++) r += (a[i] - c * b[i]) ** 2;
  return { residual: Math.sqrt(r / aa), scale: c };
}

function argmaxRows(values: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < values.length / classes; n++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (values[n * classes + k] > values[n * classes + best]) best = k;
    out.push(best);
  }
  return out;
}

describe('calibrateChangeRates on a positively homogeneous network', () => {
  it.each([
    [false, 1e-4],
    [true, 1e-4],
  ])('one full step with a fixed draw makes all rates equal (pullOutputStd %s)', (pullOutputStd, tolerance) => {
    const model = keep(homogeneousChain(1));
    const x = keep(seededBatch([4, 12, 12, 3], 1));
    const result = calibrateChangeRates(model, x, { maxIterations: 1, tolerance: 1e-12, pullOutputStd, seed: 5 });
    const [step] = result.iterations;
    expect(spread(step.ratesBefore)).toBeGreaterThan(0.5);
    expect(spread(step.ratesAfter)).toBeLessThan(tolerance);
    // ρ′ = T·Π s_k for every layer.
    const product = Object.values(step.scales).reduce((a, b) => a * b, 1);
    for (const rate of Object.values(step.ratesAfter)) expect(Math.abs(rate / (step.target * product) - 1)).toBeLessThan(tolerance);
    // Without the pull Π s_k = 1: the output is unchanged; with it, the output std moves by σ_out^(−1/2).
    const expectedStd = pullOutputStd ? step.outputStdBefore ** 0.5 : step.outputStdBefore;
    expect(Math.abs(step.outputStdAfter / expectedStd - 1)).toBeLessThan(1e-4);
  });

  it('a damped step (α = 0.5) shrinks the log spread of the rates by 1 − α and converges in more steps', () => {
    const model = keep(homogeneousChain(2));
    const x = keep(seededBatch([4, 12, 12, 3], 2));
    const result = calibrateChangeRates(model, x, { alpha: 0.5, pullOutputStd: false, tolerance: 1e-3, seed: 1 });
    const [first] = result.iterations;
    const logSpread = (r: Record<string, number>) => Math.log(Math.max(...Object.values(r)) / Math.min(...Object.values(r)));
    // s_k² = (ρ_k/T)^α, so ρ′_k = ρ_k·Π s / s_k² ∝ ρ_k^(1−α): the log spread shrinks by 1 − α = 0.5.
    expect(Math.abs(logSpread(first.ratesAfter) / logSpread(first.ratesBefore) - 0.5)).toBeLessThan(1e-3);
    expect(result.converged).toBe(true);
    expect(result.iterationsUsed).toBeGreaterThan(1);
  });
});

interface Case {
  name: string;
  options: Record<string, unknown>;
  batch: number[];
  /**
   * Bound on max over layers of ‖z′ − c·z‖/‖z′‖ (z, z′: pre-activation before/after, c: best
   * scalar): each layer's within-layer statistics kept up to one factor. Measured: vgg 5e-5
   * (float), caffenet-small 1.2e-2 (LRN is not homogeneous). `null`: not kept — on residual
   * nets the default variant changes the branches' relative scale at every Add (measured
   * residual ≈ 0.9–1.0); use `functionPreserving` there.
   */
  downstream: number | null;
  argmax: boolean;
}

/** The reference models at small input and batch (CI: 2 cores), from per-channel normalized weights. */
const REFERENCE_CASES: Case[] = [
  { name: 'caffenet-small', options: {}, batch: [8, 28, 28, 1], downstream: 2e-2, argmax: true },
  { name: 'vgg-plain-11', options: { baseChannels: 8 }, batch: [4, 32, 32, 3], downstream: 1e-4, argmax: true },
  { name: 'resnet-small', options: {}, batch: [4, 32, 32, 3], downstream: null, argmax: false },
  { name: 'resnet-small', options: { batchNorm: false }, batch: [4, 32, 32, 3], downstream: null, argmax: false },
];

describe('calibrateChangeRates on the reference models', () => {
  // The measured residuals are annotations: in the JSON report always, on the console only when the case fails.
  it.for(REFERENCE_CASES)('$name $options: converges in ≤ 10 iterations; downstream statistics and argmax kept where the case says so', (c, { annotate }) => {
    const model = keep(buildModel(c.name, { seed: 1, ...c.options }));
    const x = keep(seededBatch(c.batch, 2));
    normalizeChannels(model, x);
    const before = capturePreActivations(model, x);
    const result = calibrateChangeRates(model, x, { seed: 3 });
    expect(result.converged).toBe(true);
    expect(result.iterationsUsed).toBeLessThanOrEqual(10);
    expect(result.maxLogDeviation).toBeLessThan(0.01);
    const after = capturePreActivations(model, x);
    let worst = 0;
    for (const [layer, z] of before.pre) worst = Math.max(worst, scalarResidual(after.pre.get(layer) as Float32Array, z).residual);
    void annotate(`${c.name} ${JSON.stringify(c.options)}: ${result.iterationsUsed} iterations, worst downstream residual ${worst.toExponential(2)}`);
    if (c.downstream !== null) expect(worst).toBeLessThan(c.downstream);
    const classes = before.outputShape[1];
    if (c.argmax) expect(argmaxRows(after.output, classes)).toEqual(argmaxRows(before.output, classes));
  });
});

describe('the function-preserving variant', () => {
  it('keeps the output of a ReLU chain and equalizes the rates', () => {
    const model = keep(buildModel('vgg-plain-11', { seed: 4, baseChannels: 8 }));
    const x = keep(seededBatch([4, 32, 32, 3], 4));
    normalizeChannels(model, x);
    const before = capturePreActivations(model, x);
    const result = calibrateChangeRates(model, x, { functionPreserving: true, pullOutputStd: false, seed: 1 });
    expect(result.converged).toBe(true);
    const after = capturePreActivations(model, x);
    const { residual, scale } = scalarResidual(after.output, before.output);
    expect(residual).toBeLessThan(1e-4);
    expect(Math.abs(scale - 1)).toBeLessThan(1e-4);
  });

  it('ties the layers that close residual branches, reports them, and keeps the output up to one positive factor', ({ annotate }) => {
    const model = keep(buildModel('resnet-small', { seed: 5, batchNorm: false }));
    const x = keep(seededBatch([4, 32, 32, 3], 5));
    normalizeChannels(model, x);
    const before = capturePreActivations(model, x);
    const result = calibrateChangeRates(model, x, { functionPreserving: true, pullOutputStd: false, seed: 1 });
    const tied = result.uncalibrated.filter((u) => u.reason.startsWith('tied at'));
    expect(tied.map((u) => u.layer)).toEqual(['s1b1_conv2', 's1b2_conv2', 's2b1_proj', 's2b2_conv2', 's3b1_proj', 's3b2_conv2']);
    expect(result.layers).not.toContain('s1b1_conv2');
    expect(result.functionViolations).toEqual([]);
    expect(result.converged).toBe(true);
    const after = capturePreActivations(model, x);
    const { residual, scale } = scalarResidual(after.output, before.output);
    void annotate(`resnet-small function-preserving: output residual ${residual.toExponential(2)}, factor ${scale}`);
    expect(residual).toBeLessThan(1e-4);
    expect(scale).toBeGreaterThan(0);
    expect(argmaxRows(after.output, 10)).toEqual(argmaxRows(before.output, 10));
  });

  it('rejects pullOutputStd with functionPreserving', () => {
    const model = keep(homogeneousChain(3));
    const x = keep(seededBatch([2, 12, 12, 3], 3));
    expect(() => calibrateChangeRates(model, x, { functionPreserving: true })).toThrow(ConfigError);
    expect(() => calibrateChangeRates(model, x, { functionPreserving: true })).toThrow(/pullOutputStd/);
  });
});

describe('calibrateChangeRates: reporting, determinism, leaks, errors', () => {
  it('is deterministic for a seed and depends on it', () => {
    const weightsAfter = (seed: number, freshDraws: boolean): Float32Array => {
      const model = buildModel('vgg-plain-11', { seed: 6, baseChannels: 4, inputShape: [16, 16, 3] });
      const x = seededBatch([2, 16, 16, 3], 6);
      calibrateChangeRates(model, x, { seed, freshDraws, maxIterations: 2, tolerance: 1e-9 });
      const flat = tf.tidy(() => tf.concat(model.getWeights().map((w) => w.flatten())).dataSync() as Float32Array);
      model.dispose();
      x.dispose();
      return flat;
    };
    expect(weightsAfter(1, true)).toEqual(weightsAfter(1, true));
    expect(weightsAfter(1, true)).not.toEqual(weightsAfter(2, true));
  });

  it('leaks no tensors and no backend buffers (calibration and measurement)', async () => {
    const model = keep(buildModel('resnet-small', { seed: 7, blocksPerStage: 1, baseChannels: 4, inputShape: [8, 8, 3] }));
    const x = keep(seededBatch([2, 8, 8, 3], 7));
    calibrateChangeRates(model, x, { maxIterations: 1 }); // warm-up: tfjs caches kernels on first use
    const buffers = tf.engine().backend.numDataIds();
    await expectNoLeakedTensors(() => {
      calibrateChangeRates(model, x, { maxIterations: 2, tolerance: 1e-9, draws: 2 });
      measureChangeRates(model, x, { draws: 2 });
    });
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });

  it('reports progress per iteration and warns with the rates when it does not converge', () => {
    const model = keep(homogeneousChain(8));
    const x = keep(seededBatch([2, 12, 12, 3], 8));
    const logger = createMemoryLogger();
    const events: ProgressEvent[] = [];
    const result = calibrateChangeRates(model, x, { maxIterations: 2, tolerance: 1e-12, freshDraws: true }, { logger, progress: (e) => events.push(e) });
    expect(result.converged).toBe(false);
    expect(result.iterationsUsed).toBe(2);
    expect(events.map((e) => [e.task, e.phase, e.completed])).toEqual([
      ['calibration', 'start', 0],
      ['calibration', 'advance', 1],
      ['calibration', 'advance', 2],
      ['calibration', 'end', 2],
    ]);
    const warning = logger.records.find((r) => r.message.includes('did not converge'));
    expect(warning?.level).toBe('warn');
    expect(Object.keys(warning?.fields?.['rates'] as object)).toEqual(['c1', 'c2', 'd1', 'd2']);
  });

  it('reports the layers it does not calibrate: batch norm, excluded, all-zero kernels', () => {
    const model = keep(buildModel('resnet-small', { seed: 9, blocksPerStage: 1, baseChannels: 4, inputShape: [8, 8, 3] }));
    const x = keep(seededBatch([2, 8, 8, 3], 9));
    const conv1Before = tf.tidy(() => model.getLayer('conv1').getWeights()[0].dataSync().slice());
    const zero = model.getLayer('s1b1_conv2');
    zero.setWeights(zero.getWeights().map((w) => tf.zerosLike(w)));
    const result = calibrateChangeRates(model, x, { excludeLayers: ['conv1'], maxIterations: 1 });
    const reasons = new Map(result.uncalibrated.map((u) => [u.layer, u.reason]));
    expect(reasons.get('conv1')).toMatch(/excluded/);
    expect(reasons.get('bn1')).toMatch(/batch normalization/);
    expect(reasons.get('s1b1_conv2')).toMatch(/all-zero kernel/);
    expect(result.layers).not.toContain('conv1');
    expect(tf.tidy(() => model.getLayer('conv1').getWeights()[0].dataSync().slice())).toEqual(conv1Before);
  });

  it('feeds the top gradient into the logits of a softmax output (fused or a separate layer)', () => {
    const input = tf.input({ shape: [6] });
    const hidden = tf.layers
      .dense({ name: 'h', units: 8, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) })
      .apply(input) as tf.SymbolicTensor;
    const fused = keep(
      tf.model({
        inputs: input,
        outputs: tf.layers
          .dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) })
          .apply(hidden) as tf.SymbolicTensor,
      }),
    );
    const x = keep(seededBatch([5, 6], 10));
    const r1 = measureChangeRates(fused, x); // `separate` below shares layer h: only `fused` is disposed
    expect(Object.keys(r1.rates)).toEqual(['h', 'out']);
    const logits = tf.layers.dense({ name: 'logits', units: 3, kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }).apply(hidden) as tf.SymbolicTensor;
    const separate = tf.model({ inputs: input, outputs: tf.layers.softmax({ name: 'prob' }).apply(logits) as tf.SymbolicTensor });
    const result = calibrateChangeRates(separate, x, { maxIterations: 1 });
    expect(result.top).toEqual({ layer: 'logits', bypassedActivation: false, stripped: ['prob'] });
    expect(calibrateChangeRates(fused, x, { maxIterations: 0 }).top).toEqual({ layer: 'out', bypassedActivation: true, stripped: [] });
  });

  it('uses a real loss when labels are given', () => {
    const model = keep(buildModel('vgg-plain-11', { seed: 11, baseChannels: 4, inputShape: [16, 16, 3] }));
    const x = keep(seededBatch([4, 16, 16, 3], 11));
    const labels = keep(tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10));
    normalizeChannels(model, x);
    const random = measureChangeRates(model, x);
    const supervised = measureChangeRates(model, { inputs: x, labels });
    expect(supervised.rates['conv1_1']).not.toBeCloseTo(random.rates['conv1_1'], 3);
    const result = calibrateChangeRates(model, { inputs: x, labels });
    expect(result.converged).toBe(true);
    const wrong = keep(tf.zeros([4, 7]));
    expect(() => measureChangeRates(model, { inputs: x, labels: wrong })).toThrow(ShapeError);
  });

  it('labelled rates are those of the mean softmax cross-entropy of the logits (ρ = RMS ∇W / RMS W)', () => {
    const model = keep(homogeneousChain(13));
    const x = keep(seededBatch([6, 12, 12, 3], 13));
    const labels = keep(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5));
    const measured = measureChangeRates(model, { inputs: x, labels });
    const kernels = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const expected = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar, kernels);
      return Object.fromEntries(
        model.trainableWeights.map((w, i) => [
          w.originalName.split('/')[0],
          Math.sqrt(tf.mean(tf.square(grads[kernels[i].name])).dataSync()[0] / tf.mean(tf.square(kernels[i])).dataSync()[0]),
        ]),
      );
    });
    expect(Object.keys(measured.rates)).toEqual(Object.keys(expected));
    for (const [layer, rate] of Object.entries(expected)) expect(measured.rates[layer]).toBeCloseTo(rate, 6);
  });

  it('rates of a 4.2 M-weight kernel are RMS ∇W / RMS W summed in float64 (within 1e-6 relative)', () => {
    const init = (s: number) => tf.initializers.randomNormal({ mean: 0.5, stddev: 0.1, seed: s });
    const model = keep(
      tf.sequential({
        layers: [
          tf.layers.dense({ name: 'wide', inputShape: [2048], units: 2048, activation: 'relu', kernelInitializer: init(1) }),
          tf.layers.dense({ name: 'top', units: 5, kernelInitializer: init(2) }),
        ],
      }),
    );
    const x = keep(tf.abs(seededBatch([3, 2048], 14)) as tf.Tensor2D);
    const labels = keep(tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 5));
    const measured = measureChangeRates(model, { inputs: x, labels });
    const kernels = model.trainableWeights.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar, kernels);
    const meanSquare = (t: tf.Tensor) => (t.dataSync() as Float32Array).reduce((sum, v) => sum + v * v, 0) / t.size;
    const oracle = Math.sqrt(meanSquare(grads[kernels[0].name]) / meanSquare(kernels[0]));
    tf.dispose(Object.values(grads));
    expect(Math.abs(measured.rates['wide'] / oracle - 1)).toBeLessThan(1e-6);
  });

  it('rejects a batch that does not fit and invalid options, naming what was expected', () => {
    const model = keep(homogeneousChain(12));
    const wrong = keep(tf.zeros([2, 10, 10, 3]));
    expect(() => calibrateChangeRates(model, wrong)).toThrow(
      /calibration batch does not match the model input \(expected \[null,12,12,3\], got \[2,10,10,3\]\)/,
    );
    const x = keep(seededBatch([2, 12, 12, 3], 12));
    expect(() => calibrateChangeRates(model, x, { alpha: 0 })).toThrow(ConfigError);
    expect(() => calibrateChangeRates(model, x, { draws: 1, typo: 1 } as never)).toThrow(/typo/);
  });
});
