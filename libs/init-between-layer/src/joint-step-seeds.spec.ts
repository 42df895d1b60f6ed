/**
 * The joint step's convergence claim over weight and batch seeds (docs/RESULTS.md,
 * "Calibration on DAGs"): every DAG fixture, five seeds, 1 % in ≤ 10 iterations
 * without the output-std pull. IS_TEST is switched off as in calibrate-change-rates.spec.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '@ddinit/core/testing';
import { calibrateChangeRates } from './calibrate-change-rates';
import { inceptionBlock, nestedInception, normalizeChannels, projectionResidual, seededBatch } from './testing';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false);
});

const FIXTURES = [
  { name: 'Inception, 2 in series', build: (seed: number) => inceptionBlock(2, seed) },
  { name: 'Inception, 3 in series', build: (seed: number) => inceptionBlock(3, seed) },
  { name: 'projection residual', build: (seed: number) => projectionResidual(seed) },
  { name: 'nested Inception', build: (seed: number) => nestedInception(2, seed) },
];

it.for(FIXTURES)('$name: converges to 1 % in ≤ 10 iterations for weight and batch seeds 200–600', ({ name, build }) => {
  const lines: string[] = [];
  for (const seed of [200, 300, 400, 500, 600]) {
    const model = build(seed);
    const x = seededBatch([16, 16, 16, 3], seed);
    try {
      normalizeChannels(model, x);
      const result = calibrateChangeRates(model, x, { step: 'joint', pullOutputStd: false, seed: 3 });
      lines.push(
        `seed ${seed}: ${result.iterationsUsed} + ${result.probes} probes, ${result.maxLogDeviation.toFixed(4)}, σ_out → ${result.finalOutputStd.toFixed(2)}`,
      );
      expect(result.converged, `${name} seed ${seed}`).toBe(true);
      expect(result.iterationsUsed).toBeLessThanOrEqual(10);
    } finally {
      model.dispose();
      x.dispose();
    }
  }
  console.info(`[joint-step seeds] ${name}: ${lines.join('; ')}`);
});
