/**
 * Where one pretext training step goes: `tf.profile` of one `Trainer.runStep` of a
 * bench:train workload (after warm-up steps), kernels summed by name, slowest first.
 * Batches are made from seeded random pixels (no dataset read): only the step is profiled.
 *
 * @example
 * OPENBLAS_NUM_THREADS=1 npx nx run bench:train-profile -- --workload rotation-caffenet-small
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@ddinit/core/backend';
import { Trainer, trainOptionsSchema } from '@ddinit/train';
import { OPTIMIZER } from './train-run';
import { randomBytes, TRAIN_WORKLOADS } from './train-workloads';
import { positiveInt } from './option-values';

interface KernelTotal {
  name: string;
  ms: number;
  calls: number;
}

/** Kernel times of a profile summed by kernel name, slowest first. */
export function kernelTotals(kernels: { name: string; kernelTimeMs: number | { error: string } }[]): KernelTotal[] {
  const totals = new Map<string, KernelTotal>();
  for (const k of kernels) {
    const t = totals.get(k.name) ?? { name: k.name, ms: 0, calls: 0 };
    t.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    t.calls += 1;
    totals.set(k.name, t);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { workload: { type: 'string', default: TRAIN_WORKLOADS[0].name }, warmup: { type: 'string' }, images: { type: 'string' } },
  });
  const workload = TRAIN_WORKLOADS.find((w) => w.name === values.workload);
  if (workload === undefined) throw new Error(`unknown workload ${values.workload}; one of ${TRAIN_WORKLOADS.map((w) => w.name).join(', ')}`);
  const selection = await selectBackend('wasm');
  const images = positiveInt('images', values.images, workload.defaultImages, 1);
  const bytes = randomBytes(workload, images);
  const built = workload.build(1);
  const trainer = new Trainer(built.model, (m, b) => built.objective(m, b), trainOptionsSchema.parse({ ...OPTIMIZER, steps: 100 }));
  const batch = workload.batch(bytes, 1);
  for (let i = 0; i < positiveInt('warmup', values.warmup, 3, 0); i++) trainer.runStep(batch);
  const start = performance.now();
  const profile = await tf.profile(() => {
    trainer.runStep(batch);
  });
  const wall = performance.now() - start;
  const totals = kernelTotals(profile.kernels as never);
  const sum = totals.reduce((s, t) => s + t.ms, 0);
  console.log(
    `${workload.name}: one runStep, ${selection.nativeBlas?.active ? `native BLAS ${selection.nativeBlas.threads} threads` : 'no native BLAS'}, ` +
      `load ${os.loadavg()[0].toFixed(2)}; wall ${wall.toFixed(0)} ms (profiled), kernels ${sum.toFixed(0)} ms in ${profile.kernels.length} calls`,
  );
  for (const t of totals.slice(0, 25)) console.log(`${t.name.padEnd(28)} ${t.ms.toFixed(1).padStart(8)} ms ${String(t.calls).padStart(5)} calls`);
  workload.release(batch);
  trainer.dispose();
  built.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
