/**
 * Where a between-layer calibration measurement spends its time compared with a
 * training step: on the wasm backend, one model at one batch, in one run:
 *
 * - wall time, alternating, of one rate measurement (`measureChangeRates`: forward
 *   + backward to the kernels), one calibration iteration with its step (the
 *   second measurement of `calibrateChangeRates` with `maxIterations: 1`, minus
 *   one measurement) and one training step (softmax cross-entropy, forward in
 *   training mode + backward + SGD update);
 * - per-kernel totals under `tf.profile` of one calibration measurement (half of a
 *   one-iteration calibration: the initial measurement and the one applying the
 *   step) and one training step, side by side.
 *
 * @example
 * npx tsx tools/bench/src/calibrate-profile.ts --model caffenet --batch 16 --repeats 2
 */
import { isDdinitError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import { calibrateChangeRates, measureChangeRates } from '@ddinit/init-between-layer';
import { createWorkload, profileKernels } from './step-workload';

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** Wall and process CPU seconds (user + system) of `fn`; CPU time is the steadier figure on a shared machine (wasm runs on one thread). */
function seconds(fn: () => void): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  fn();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

async function main(): Promise<void> {
  const name = argument('model', 'caffenet');
  const batch = Number(argument('batch', '16'));
  const seed = Number(argument('seed', '1'));
  const repeats = Number(argument('repeats', '2'));
  await selectBackend('wasm');
  const workload = createWorkload(name, batch, seed, { learningRate: 1e-6, stream: `bench-calibrate-${name}` });
  const { model, x } = workload;
  const step = (): void => workload.step();
  const measure = (): void => {
    measureChangeRates(model, x, { seed });
  };
  const iteration = (): void => {
    calibrateChangeRates(model, x, { seed, tolerance: 1e-12, maxIterations: 1 });
  };
  try {
    step();
    measure();
    const times = { measure: [] as string[], iteration: [] as string[], step: [] as string[] };
    const fmt = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(2)}/${t.cpu.toFixed(2)}`;
    for (let r = 0; r < repeats; r++) {
      const s = seconds(step);
      const m = seconds(measure);
      const both = seconds(iteration);
      times.step.push(fmt(s));
      times.measure.push(fmt(m));
      times.iteration.push(fmt({ wall: both.wall - m.wall, cpu: both.cpu - m.cpu }));
      process.stderr.write(`repeat ${r}: step ${fmt(s)} s, measurement ${fmt(m)} s, iteration with step ${times.iteration[r]} s (wall/cpu)\n`);
    }
    console.log(
      `${name} batch ${batch}, seconds wall/cpu: training step ${times.step.join(', ')} | measurement ${times.measure.join(', ')} | calibration iteration (measurement + step hook) ${times.iteration.join(', ')}`,
    );
    // Per kernel: the smallest total over `repeats` alternating profiles (the machine is shared: the minimum is the least disturbed).
    const kernelsMeasure = new Map<string, { ms: number; calls: number }>();
    const kernelsStep = new Map<string, { ms: number; calls: number }>();
    const keepMin = (into: Map<string, { ms: number; calls: number }>, from: Map<string, { ms: number; calls: number }>): void => {
      for (const [k, v] of from) {
        const old = into.get(k);
        if (old === undefined || v.ms < old.ms) into.set(k, v);
      }
    };
    for (let r = 0; r < repeats; r++) {
      keepMin(kernelsStep, await profileKernels(step));
      // One calibration iteration = its second measurement (with the step applied); the profile covers both measurements: halved.
      const both = await profileKernels(iteration);
      keepMin(kernelsMeasure, new Map([...both].map(([k, v]) => [k, { ms: v.ms / 2, calls: v.calls / 2 }])));
    }
    const names = [...new Set([...kernelsMeasure.keys(), ...kernelsStep.keys()])];
    const total = (m: Map<string, { ms: number }>): number => [...m.values()].reduce((a, b) => a + b.ms, 0);
    names.sort(
      (a, b) => Math.max(kernelsMeasure.get(b)?.ms ?? 0, kernelsStep.get(b)?.ms ?? 0) - Math.max(kernelsMeasure.get(a)?.ms ?? 0, kernelsStep.get(a)?.ms ?? 0),
    );
    console.log(
      `kernel | calibration measurement ms (calls; half of a 1-iteration calibration) | training step ms (calls)   [min over ${repeats} alternating profiles]`,
    );
    for (const k of names) {
      const m = kernelsMeasure.get(k);
      const s = kernelsStep.get(k);
      if (Math.max(m?.ms ?? 0, s?.ms ?? 0) < 5) continue;
      console.log(`${k} | ${m === undefined ? '-' : `${m.ms.toFixed(0)} (${m.calls})`} | ${s === undefined ? '-' : `${s.ms.toFixed(0)} (${s.calls})`}`);
    }
    console.log(`total kernel time | ${total(kernelsMeasure).toFixed(0)} | ${total(kernelsStep).toFixed(0)}`);
  } finally {
    workload.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(isDdinitError(error) ? error.message : error);
  process.exit(1);
});
