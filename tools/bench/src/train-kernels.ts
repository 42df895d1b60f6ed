/**
 * Same-process A/B of the wasm kernels ddinit added for the pretext training step
 * (docs/RESULTS.md, "Training step (issue 13)"), alternating the two variants so that
 * both see the same machine load: LRN + LRNGrad on the addon against tfjs-backend-wasm's
 * own, the grouped convolution kernel against split/conv2d/concat, and the Sum of bias
 * gradients as column sums against wasm's transpose + sum. Shapes are caffenet-small's at
 * batch 128 (rotation: 32 images × 4 turns). Median of 9 runs per variant and round.
 *
 * @example
 * OPENBLAS_NUM_THREADS=1 npx nx run bench:train-kernels
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { groupedConv2d } from '@ddinit/core';
import { registerWasmTrainingKernels, selectBackend } from '@ddinit/core/backend';
import { loadNativeBlas } from '@ddinit/native-blas';

function median(fn: () => void, runs = 9): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    tf.tidy(fn);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[runs >> 1];
}

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor;

async function main(): Promise<void> {
  await selectBackend('wasm');
  const native = loadNativeBlas();
  if (!native.ok) throw new Error(`the A/B needs the native addon: ${native.reason}`);
  console.log(`wasm kernels A/B: load average ${os.loadavg()[0].toFixed(2)}, OpenBLAS ${native.blas.threads()} thread(s), median of 9 per variant`);
  const norm1 = tf.randomNormal([128, 13, 13, 32], 0, 30, 'float32', 1);
  const norm2 = tf.randomNormal([128, 6, 6, 64], 0, 30, 'float32', 2);
  const lrn = () => {
    for (const x of [norm1, norm2]) tf.grad((t: tf.Tensor) => tf.sum(tf.localResponseNormalization(t as tf.Tensor4D, 2, 1, 2e-5, 0.75)))(x).dataSync();
  };
  const x = tf.randomNormal([128, 13, 13, 32], 0, 1, 'float32', 3);
  const w = tf.randomNormal([5, 5, 16, 64], 0, 1, 'float32', 4);
  const convStep = (conv: Conv) => () =>
    tf
      .grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv(a as tf.Tensor4D, b as tf.Tensor4D)))([x, w])
      .forEach((g) => g.dataSync());
  const split: Conv = (a, b) => {
    const ws = tf.split(b, 2, 3);
    return tf.concat(
      tf.split(a, 2, 3).map((ag, g) => tf.conv2d(ag as tf.Tensor4D, ws[g] as tf.Tensor4D, 1, 'same')),
      3,
    );
  };
  const grouped: Conv = (a, b) => groupedConv2d(a, b, { strides: [1, 1], pad: 'same', dilations: [1, 1], groups: 2 }) as tf.Tensor;
  const dy = tf.randomNormal([128, 28, 28, 32], 0, 1, 'float32', 5);
  const biasSums = () => [dy, norm1, norm2].forEach((t) => tf.sum(t, [0, 1, 2]).dataSync());
  for (let round = 1; round <= 3; round++) {
    registerWasmTrainingKernels({ native: native.blas });
    const ours = { lrn: median(lrn), grouped: median(convStep(grouped)), split: median(convStep(split)), sum: median(biasSums) };
    registerWasmTrainingKernels({ kernels: 'missing' }); // wasm's own LRN, LRNGrad and Sum
    const theirs = { lrn: median(lrn), sum: median(biasSums) };
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(
      `round ${round}: LRN+LRNGrad (norm1, norm2) addon ${ms(ours.lrn)} / wasm ${ms(theirs.lrn)}; ` +
        `conv2 (5×5, 2 groups) forward+gradients grouped kernel ${ms(ours.grouped)} / split-conv-concat ${ms(ours.split)}; ` +
        `bias-gradient sums column sums ${ms(ours.sum)} / wasm ${ms(theirs.sum)}`,
    );
  }
  registerWasmTrainingKernels({ native: native.blas });
  tf.dispose([norm1, norm2, x, w, dy]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
