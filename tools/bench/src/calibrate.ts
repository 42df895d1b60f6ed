/**
 * Between-layer calibration benchmark: on the wasm backend, for each
 * model at one batch size, in one run and on the same model and batch:
 *
 * 1. a realistic start: LSUV variance scaling of the He-normal weights (no
 *    orthonormal draw: that is slow for CaffeNet's fc6 and beside the point here);
 * 2. calibration with the default options (does it converge, in how many steps);
 * 3. 10 forced iterations (tolerance 1e-12: 11 rate measurements, each one forward
 *    + backward, the 10 steps applied during them);
 * 4. 12 training steps (softmax cross-entropy, forward in training mode + backward
 *    + SGD update) at the same batch.
 *
 * @example
 * npx nx run bench:calibrate -- --models caffenet,caffenet-small --batch 16
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import { calibrateChangeRates, lsuvInitialize } from '@ddinit/init-between-layer';
import { createWorkload } from './step-workload';

interface Row {
  model: string;
  batch: number;
  converged: boolean;
  iterations: number;
  defaultSeconds: number;
  tenIterationsSeconds: number;
  deviationAfterTen: number;
  trainingStepsSeconds: number;
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function seconds(fn: () => void): number {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

function benchModel(name: string, batch: number, seed: number): Row {
  const workload = createWorkload(name, batch, seed, { learningRate: 1e-4, stream: `bench-calibrate-${name}` });
  const { model, x } = workload;
  const step = (): void => workload.step();
  try {
    process.stderr.write(`${name}: LSUV start\n`);
    lsuvInitialize(model, x, { orthogonal: false, zeroBias: true, seed });
    const initial = model.getWeights().map((w) => tf.keep(w.clone()));
    process.stderr.write(`${name}: default calibration\n`);
    let result: ReturnType<typeof calibrateChangeRates> | undefined;
    const defaultSeconds = seconds(() => {
      result = calibrateChangeRates(model, x, { seed });
    });
    if (result === undefined) throw new Error('unreachable');
    process.stderr.write(`${name}: 10 forced iterations\n`);
    model.setWeights(initial);
    let forced = result;
    const tenIterationsSeconds = seconds(() => {
      forced = calibrateChangeRates(model, x, { seed, tolerance: 1e-12, maxIterations: 10 });
    });
    process.stderr.write(`${name}: 12 training steps\n`);
    step(); // warm-up (kernel set-up)
    const trainingStepsSeconds = seconds(() => {
      for (let i = 0; i < 12; i++) step();
    });
    tf.dispose(initial);
    return {
      model: name,
      batch,
      converged: result.converged,
      iterations: result.iterationsUsed,
      defaultSeconds,
      tenIterationsSeconds,
      deviationAfterTen: forced.maxLogDeviation,
      trainingStepsSeconds,
    };
  } finally {
    workload.dispose();
  }
}

async function main(): Promise<void> {
  const models = argument('models', 'caffenet-small,caffenet').split(',');
  const batch = Number(argument('batch', '16'));
  const seed = Number(argument('seed', '1'));
  const selection = await selectBackend('wasm');
  console.log(`backend ${tf.getBackend()} (${JSON.stringify(selection).slice(0, 120)}), ${os.cpus().length} cores, node ${process.version}`);
  console.log('model | batch | default: converged, steps, s | 10 iterations s | deviation after 10 | 12 training steps s | ratio');
  for (const name of models) {
    // The default calibration runs first (cold: it includes the kernels' first-use set-up); the 10 forced iterations start again from the same LSUV weights.
    const r = benchModel(name, batch, seed);
    console.log(
      `${r.model} | ${r.batch} | ${r.converged}, ${r.iterations}, ${r.defaultSeconds.toFixed(1)} | ${r.tenIterationsSeconds.toFixed(1)} | ${r.deviationAfterTen.toExponential(1)} | ${r.trainingStepsSeconds.toFixed(1)} | ${(r.tenIterationsSeconds / r.trainingStepsSeconds).toFixed(2)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(isDdinitError(error) ? error.message : error);
  process.exit(1);
});
