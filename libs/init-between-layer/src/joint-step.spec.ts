/**
 * Specs of the joint calibration step (docs/method.md#joint-step) on DAGs: blocks
 * whose branches hold different numbers of layers in series, a residual block
 * with a projection shortcut, a nested model, and a block where no scales reach
 * a common rate. IS_TEST is switched off as in calibrate-change-rates.spec.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createMemoryLogger } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { flattenModel } from '@ddinit/models';
import { calibrateChangeRates } from './calibrate-change-rates';
import { findTop } from './graph-forward';
import { onEveryPath, solveJointStep, structuralResponse, unreachableConstraint } from './joint-step';
import { targetOf } from './rate-target';
import { inceptionBlock, nestedInception, normalizeChannels, projectionResidual, seededBatch, twoSeriesPairs } from './testing';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false);
});

const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

function keep<T extends { dispose(): void }>(x: T): T {
  disposables.push(x);
  return x;
}

/** What a case measured: an annotation (JSON report) and a line on the console, the figures docs/RESULTS.md quotes. */
function record(annotate: (message: string) => Promise<unknown>, message: string): void {
  void annotate(message);
  console.info(`[joint-step] ${message}`);
}

/** A model with per-channel normalized weights (the within-layer step) and its seeded batch. */
function prepared(model: tf.LayersModel, shape: number[]): { model: tf.LayersModel; x: tf.Tensor } {
  const x = keep(seededBatch(shape, 5));
  normalizeChannels(keep(model), x);
  return { model, x };
}

describe('the response of the rates to the scales', () => {
  it('is exact (−1 itself, +1 every other rate and the output) for the layers every path passes through; the others are probed', () => {
    const model = keep(inceptionBlock(2));
    const graph = flattenModel(model);
    const top = findTop(graph);
    const names = ['stem', 'branch_1x1', 'series_1', 'series_2', 'pool_proj', 'reduce', 'logits'];
    const exact = onEveryPath(
      graph,
      top,
      names.map((n) => (graph.byName.get(n) as { id: number }).id),
    );
    expect(exact).toEqual([true, false, false, false, false, true, true]);
    const response = structuralResponse(exact);
    const k = names.length;
    expect(Array.from({ length: k + 1 }, (_, a) => response[a * k])).toEqual([-1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Number.isNaN(response[k + 1])).toBe(true);
  });

  it('on a chain (J = 11ᵀ − 2I) the least-squares step puts every rate at one common value', () => {
    const k = 4;
    const y = Float64Array.of(1.2, 2.5, 0.3, 1.9, 0.4);
    const step = solveJointStep(structuralResponse([true, true, true, true]), y, undefined);
    for (let a = 0; a < k; a++) {
      const after = y[a] + step.logScales.reduce((s, x, b) => s + (a === b ? -x : x), 0);
      expect(Math.abs(after - step.logTarget)).toBeLessThan(1e-9);
    }
    expect(unreachableConstraint(step, y, ['a', 'b', 'c', 'd'], 0.01)).toBeUndefined();
  });
});

describe('calibrateChangeRates with step "joint" (pullOutputStd false)', () => {
  const cases = [
    { name: 'Concat of branches of unequal depth (1, 2 in series, pool → 1)', build: () => inceptionBlock(2), shape: [16, 16, 16, 3], probes: 4 },
    { name: 'a branch with three layers in series', build: () => inceptionBlock(3), shape: [16, 16, 16, 3], probes: 5 },
    { name: 'a residual block with a projection shortcut', build: () => projectionResidual(), shape: [16, 16, 16, 3], probes: 3, keepsOutputStd: true },
    { name: 'the block nested in an outer model', build: () => nestedInception(2), shape: [16, 16, 16, 3], probes: 4 },
  ];
  it.for(cases)('$name: converges to 1 % in ≤ 10 iterations, one probe per bypassed layer', (c, { annotate }) => {
    const { model, x } = prepared(c.build(), c.shape);
    const result = calibrateChangeRates(model, x, { step: 'joint', pullOutputStd: false, seed: 3 });
    record(
      annotate,
      `${c.name}: ${result.iterationsUsed} iterations + ${result.probes} probes, deviation ${result.maxLogDeviation.toFixed(4)}, σ_out ${result.initialOutputStd.toFixed(3)} → ${result.finalOutputStd.toFixed(3)}`,
    );
    expect(result.step).toBe('joint');
    expect(result.probes).toBe(c.probes);
    expect(result.converged).toBe(true);
    expect(result.iterationsUsed).toBeLessThanOrEqual(10);
    expect(result.unreachable).toBeNull();
    // σ_out is kept softly: on the residual block it stays within 10 % (measured 0.944).
    if ('keepsOutputStd' in c) expect(Math.abs(Math.log(result.finalOutputStd / result.initialOutputStd))).toBeLessThan(0.1);
  });

  it('the per-layer step stalls on the same block (why the joint step exists)', ({ annotate }) => {
    const { model, x } = prepared(inceptionBlock(2), [16, 16, 16, 3]);
    const result = calibrateChangeRates(model, x, { pullOutputStd: false, seed: 3 });
    expect(result.step).toBe('per-layer');
    record(annotate, `per-layer: ${result.iterationsUsed} iterations, deviation ${result.maxLogDeviation.toFixed(4)}`);
    expect(result.converged).toBe(false);
    expect(result.maxLogDeviation).toBeGreaterThan(0.03); // measured 0.042 after 10 iterations
  });

  it('with the output-std pull it does not reach 1 % on the block (documented limitation: docs/method.md#joint-step)', ({ annotate }) => {
    const { model, x } = prepared(inceptionBlock(2), [16, 16, 16, 3]);
    const result = calibrateChangeRates(model, x, { step: 'joint', seed: 3 });
    const spread = targetOf(result.finalRates, 1, false).deviation;
    record(
      annotate,
      `with the pull: ${result.iterationsUsed} iterations + ${result.probes} probes, deviation ${result.maxLogDeviation.toFixed(4)}, rates within ${spread.toFixed(4)} of their geometric mean, σ_out ${result.finalOutputStd.toFixed(2)}`,
    );
    expect(result.converged).toBe(false);
    // Measured: the rates agree, the output std does not fit the pull; the report names the branch layers and that constraint.
    expect(spread).toBeLessThan(0.01);
    const constraint = result.unreachable;
    expect(constraint?.layers).toEqual(['branch_1x1', 'series_1', 'series_2', 'pool_proj']);
    expect(Object.keys(constraint?.coefficients ?? {})).toEqual(['output std']);
    expect(Math.abs((constraint?.value ?? 0) - Math.log(result.finalOutputStd))).toBeLessThan(1e-6);
    expect(constraint?.constraint).toMatch(/the steps found no equal rates inside it.*equal rates fix their relative scales/);
  });

  it('on a chain every layer is on every path: no probe, and one step equalizes the rates', () => {
    const model = keep(
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [10, 10, 3],
            filters: 6,
            kernelSize: 3,
            activation: 'relu',
            useBias: false,
            kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
          }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 12, activation: 'relu', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }),
          tf.layers.dense({ units: 4, useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }),
        ],
      }),
    );
    const x = keep(seededBatch([4, 10, 10, 3], 1));
    const result = calibrateChangeRates(model, x, { step: 'joint', pullOutputStd: false, maxIterations: 1, tolerance: 1e-9, seed: 1 });
    const rates = Object.values(result.iterations[0].ratesAfter);
    expect(result.probes).toBe(0);
    expect(Math.max(...rates) / Math.min(...rates) - 1).toBeLessThan(1e-4);
  });
});

describe('where no scales reach a common rate', () => {
  it('names the layers and the combination of rates no scale changes, and stops early', () => {
    const { model, x } = prepared(twoSeriesPairs(), [16, 12, 12, 3]);
    const logger = createMemoryLogger();
    const result = calibrateChangeRates(model, x, { step: 'joint', seed: 3 }, { logger });
    expect(result.converged).toBe(false);
    expect(result.iterationsUsed).toBeLessThan(10);
    const w = result.unreachable?.coefficients ?? {};
    expect(Object.keys(w).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(Math.sign(w['a1'])).toBe(Math.sign(w['a2']));
    expect(Math.sign(w['b1'])).toBe(-Math.sign(w['a1']));
    for (const v of Object.values(w)) expect(Math.abs(Math.abs(v) - 1)).toBeLessThan(0.05);
    // The claim holds on the model: log ρ(a1) + log ρ(a2) − log ρ(b1) − log ρ(b2) (same draws of g) is where it started.
    const combination = (r: Record<string, number>) => Math.log(r['a1']) + Math.log(r['a2']) - Math.log(r['b1']) - Math.log(r['b2']);
    expect(Math.abs(combination(result.finalRates) - combination(result.initialRates))).toBeLessThan(1e-3);
    expect(Math.abs(Math.abs(result.unreachable?.value ?? 0) - Math.abs(combination(result.initialRates)))).toBeLessThan(0.05);
    expect(result.unreachable?.constraint).toMatch(/log ρ\(a1\).*is not changed by any layer's scale/);
    const warning = logger.records.find((r) => r.message.includes('no choice of scales'));
    expect(warning?.fields?.['layers']).toEqual(expect.arrayContaining(['a1', 'a2', 'b1', 'b2']));
  });
});

describe('step "joint": options and resources', () => {
  it('is rejected with the function-preserving variant, naming the option', () => {
    const model = keep(projectionResidual());
    const x = keep(seededBatch([2, 16, 16, 3], 1));
    expect(() => calibrateChangeRates(model, x, { step: 'joint', functionPreserving: true, pullOutputStd: false })).toThrow(ConfigError);
    expect(() => calibrateChangeRates(model, x, { step: 'joint', functionPreserving: true, pullOutputStd: false })).toThrow(/step/);
  });

  it('leaks no tensors and no backend buffers', async () => {
    const { model, x } = prepared(inceptionBlock(2), [4, 16, 16, 3]);
    calibrateChangeRates(model, x, { step: 'joint', maxIterations: 1 }); // warm-up: tfjs caches kernels on first use
    const buffers = tf.engine().backend.numDataIds();
    await expectNoLeakedTensors(() => {
      calibrateChangeRates(model, x, { step: 'joint', maxIterations: 3, tolerance: 1e-9 });
    });
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });
});
