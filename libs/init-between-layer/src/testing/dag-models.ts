/**
 * Small DAG models for the calibration specs: blocks whose branches hold
 * different numbers of calibrated layers in series (where a per-layer step
 * stalls), a residual block with a projection shortcut, a nested model, and a
 * block where no scales reach a common rate.
 */
import * as tf from '@tensorflow/tfjs';

type Sym = tf.SymbolicTensor;

function conv(
  name: string,
  filters: number,
  kernelSize: number,
  seed: number,
  options: { strides?: number; activation?: 'relu' | 'linear' } = {},
): tf.layers.Layer {
  return tf.layers.conv2d({
    name,
    filters,
    kernelSize,
    strides: options.strides ?? 1,
    padding: 'same',
    activation: options.activation ?? 'relu',
    kernelInitializer: tf.initializers.heNormal({ seed }),
  });
}

function dense(name: string, units: number, seed: number): tf.layers.Layer {
  return tf.layers.dense({ name, units, kernelInitializer: tf.initializers.heNormal({ seed }) });
}

/**
 * The Inception-style block of the calibration issue on `input`: stem conv →
 * Concat[ 1×1 | 1×1 → (seriesDepth − 1) × 3×3 | 3×3 max-pool → 1×1 ] → strided
 * conv, returned as the strided conv's output.
 */
function inceptionTrunk(input: Sym, seriesDepth: number, seed: number): Sym {
  const stem = conv('stem', 8, 3, seed + 1).apply(input) as Sym;
  const a = conv('branch_1x1', 6, 1, seed + 2).apply(stem) as Sym;
  let b = conv('series_1', 6, 1, seed + 3).apply(stem) as Sym;
  for (let k = 2; k <= seriesDepth; k++) b = conv(`series_${k}`, 6, 3, seed + 3 + k).apply(b) as Sym;
  const pooled = tf.layers.maxPooling2d({ name: 'pool', poolSize: 3, strides: 1, padding: 'same' }).apply(stem) as Sym;
  const c = conv('pool_proj', 6, 1, seed + 20).apply(pooled) as Sym;
  const merged = tf.layers.concatenate({ name: 'concat' }).apply([a, b, c]) as Sym;
  return conv('reduce', 12, 3, seed + 21, { strides: 2 }).apply(merged) as Sym;
}

/** {@link inceptionTrunk} → global average pooling → dense logits (5), on [16, 16, 3]. */
export function inceptionBlock(seriesDepth = 2, seed = 100): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(inceptionTrunk(input, seriesDepth, seed)) as Sym;
  return tf.model({ inputs: input, outputs: dense('logits', 5, seed + 22).apply(gap) as Sym, name: `inception_${seriesDepth}` });
}

/** The same block as a model nested in an outer model (outer conv → block → dense): layers named `block/…`. */
export function nestedInception(seriesDepth = 2, seed = 100): tf.LayersModel {
  const inner = tf.input({ shape: [16, 16, 4] });
  const block = tf.model({ inputs: inner, outputs: inceptionTrunk(inner, seriesDepth, seed), name: 'block' });
  const input = tf.input({ shape: [16, 16, 3] });
  const entry = conv('entry', 4, 3, seed + 30).apply(input) as Sym;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(block.apply(entry) as Sym) as Sym;
  return tf.model({ inputs: input, outputs: dense('logits', 5, seed + 31).apply(gap) as Sym, name: 'nested_inception' });
}

/** stem → add([conv(relu) → conv, 1×1 strided projection]) → relu → global average pooling → dense: a residual block with a projection shortcut. */
export function projectionResidual(seed = 200): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  const stem = conv('stem', 8, 3, seed + 1).apply(input) as Sym;
  const r1 = conv('res_a', 12, 3, seed + 2, { strides: 2 }).apply(stem) as Sym;
  const r2 = conv('res_b', 12, 3, seed + 3, { activation: 'linear' }).apply(r1) as Sym;
  const shortcut = conv('proj', 12, 1, seed + 4, { strides: 2, activation: 'linear' }).apply(stem) as Sym;
  const added = tf.layers.add({ name: 'add' }).apply([r2, shortcut]) as Sym;
  const act = tf.layers.reLU({ name: 'add_relu' }).apply(added) as Sym;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(act) as Sym;
  return tf.model({ inputs: input, outputs: dense('logits', 5, seed + 5).apply(gap) as Sym, name: 'projection_residual' });
}

/**
 * add([a1(relu) → a2, b1(relu) → b2]) → global average pooling → dense, nothing
 * non-linear after the Add: the gradient reaching each branch does not depend on
 * the other branch, so log ρ(a1) + log ρ(a2) − log ρ(b1) − log ρ(b2) is the same
 * for every choice of scales — the rates reach a common value only if it is 0.
 */
export function twoSeriesPairs(seed = 300): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  const a = conv('a2', 6, 3, seed + 2, { activation: 'linear' }).apply(conv('a1', 6, 3, seed + 1).apply(input) as Sym) as Sym;
  const b = conv('b2', 6, 1, seed + 4, { activation: 'linear' }).apply(conv('b1', 6, 1, seed + 3).apply(input) as Sym) as Sym;
  const added = tf.layers.add({ name: 'add' }).apply([a, b]) as Sym;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(added) as Sym;
  return tf.model({ inputs: input, outputs: dense('logits', 5, seed + 5).apply(gap) as Sym, name: 'two_series_pairs' });
}
