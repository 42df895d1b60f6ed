/**
 * The pretext training step against PyTorch by CPU time as well as wall time: under a
 * shared machine's load (other processes on the same cores) a step's wall time moves
 * 2–3× from run to run, its CPU time far less. Both sides single-threaded (run with
 * OPENBLAS_NUM_THREADS=1; torch.set_num_threads(1)), `Trainer.runStep` on a seeded
 * random batch (no data read: bench:train measures the data path), N steps after
 * warm-up, medians of wall and process CPU time (user + system, all threads) per step.
 *
 * @example
 * OPENBLAS_NUM_THREADS=1 npx nx run bench:train-cpu -- --workloads rotation-caffenet-small --steps 30
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '@ddinit/core/backend';
import { Trainer, trainOptionsSchema } from '@ddinit/train';
import { findTorchPython } from './step-torch';
import { median } from './step-workload';
import { positiveInt } from './option-values';
import { OPTIMIZER } from './train-run';
import { runTorchTrain } from './train-torch';
import { randomBytes, TRAIN_WORKLOADS, type TrainWorkload } from './train-workloads';

/** Median wall and CPU ms of `steps` runSteps after `warmup`. */
function timeSteps(workload: TrainWorkload<unknown>, images: number, steps: number, warmup: number): { wallMs: number; cpuMs: number } {
  const built = workload.build(1);
  const trainer = new Trainer(built.model, (m, b) => built.objective(m, b), trainOptionsSchema.parse({ ...OPTIMIZER, steps: steps + warmup }));
  const batch = workload.batch(randomBytes(workload, images), 1);
  try {
    for (let i = 0; i < warmup; i++) trainer.runStep(batch);
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < steps; i++) {
      const [wall, cpu] = [performance.now(), process.cpuUsage()];
      trainer.runStep(batch);
      const used = process.cpuUsage(cpu);
      walls.push(performance.now() - wall);
      cpus.push((used.user + used.system) / 1000);
    }
    return { wallMs: median(walls), cpuMs: median(cpus) };
  } finally {
    workload.release(batch);
    trainer.dispose();
    built.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { workloads: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' } },
  });
  const names = values.workloads?.split(',') ?? TRAIN_WORKLOADS.map((w) => w.name);
  const steps = positiveInt('steps', values.steps, 20, 1);
  const warmup = positiveInt('warmup', values.warmup, 3, 0);
  const selection = await selectBackend('wasm');
  const torch = findTorchPython();
  console.log(
    `train-cpu: load ${os.loadavg()[0].toFixed(2)}, native BLAS ${selection.nativeBlas?.active ? `${selection.nativeBlas.threads} thread(s)` : 'off'}, ` +
      `torch 1 thread, ${steps} steps after ${warmup} warm-up, medians`,
  );
  for (const name of names) {
    const workload = TRAIN_WORKLOADS.find((w) => w.name === name);
    if (workload === undefined) throw new Error(`unknown workload ${name}`);
    const ours = timeSteps(workload, workload.defaultImages, steps, warmup);
    const theirs = torch.found ? runTorchTrain(torch.python, name, workload.defaultImages, { repeats: steps, warmup, seed: 1, threads: 1 }) : undefined;
    const t = theirs?.kind === 'measured' ? theirs.result : undefined;
    const ratio = (a: number, b: number | undefined) => (b === undefined ? null : Math.round((a / b) * 100) / 100);
    console.log(
      JSON.stringify({
        workload: name,
        load: Math.round(os.loadavg()[0] * 10) / 10,
        wallMs: Math.round(ours.wallMs),
        cpuMs: Math.round(ours.cpuMs),
        torchWallMs: t && Math.round(t.stepMs),
        torchCpuMs: t && Math.round(t.cpuMs),
        wallRatio: ratio(ours.wallMs, t?.stepMs),
        cpuRatio: ratio(ours.cpuMs, t?.cpuMs),
      }),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
