/**
 * One model, one objective, one optimizer per learning-rate group: the training
 * step, the divergence guard and the checkpoint state.
 *
 * The step, precisely (η_t from learning-rate.ts, m_g a group's multiplier):
 * 1. loss L and gradients g_w of every non-frozen weight (tf.variableGrads, the
 *    objective runs in training mode); L not finite → NumericalError naming the step;
 * 2. `l2` decay: g_w ← g_w + λ·w for kernels;
 * 3. clipping: c = min(1, clip / ‖g‖₂) over all weights together;
 * 4. guard: per layer u = η_t·m_g·c·‖g_layer‖; a non-finite u, or u above
 *    `divergenceFactor` × the median of the layer's last 20 steps, stops the run
 *    (NumericalError naming step and layer) — before anything is written, so the
 *    weights are the last good state;
 * 5. `decoupled` decay: w ← w·(1 − η_t·m_g·λ) for kernels (on the weights the
 *    gradient was taken at, as SGDW/AdamW do; equal to `l2` for plain SGD);
 * 6. each group's optimizer at rate η_t·m_g applies c·g.
 *
 * Tensors: the batch is the caller's (not disposed); everything made inside a
 * step is disposed before it returns. `dispose()` frees the optimizers' slots.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, NumericalError, ShapeError, sumsOfSquares } from '@ddinit/core';
import { learningRateAt } from './learning-rate';
import { createOptimizer, disposeOptimizer, setLearningRate } from './optimizers';
import { parameterGroups, type ParameterGroup } from './parameter-groups';
import { decodeTrainingState, encodeTrainingState, type StateTensor } from './training-state';
import type { TrainOptions } from './train-options';

/** What an objective returns for one batch: the mean loss and scalar metrics (e.g. accuracy). */
export interface ObjectiveOutput {
  loss: tf.Scalar;
  metrics?: Record<string, tf.Scalar>;
}

/** The loss of `model` on a batch, in training mode; runs inside tf.variableGrads. */
export type Objective<B> = (model: tf.LayersModel, batch: B) => ObjectiveOutput;

export interface StepRecord {
  /** 0-based index of the step. */
  step: number;
  loss: number;
  metrics: Record<string, number>;
  learningRate: number;
  /** ‖g‖₂ over all trained weights, before clipping. */
  gradientNorm: number;
  clipped: boolean;
}

const HISTORY = 20;

export class Trainer<B> {
  /** Steps completed. */
  step = 0;
  readonly groups: ParameterGroup[];
  private optimizers: tf.Optimizer[];
  private readonly history = new Map<string, number[]>();

  constructor(
    readonly model: tf.LayersModel,
    private readonly objective: Objective<B>,
    readonly options: TrainOptions,
  ) {
    this.groups = parameterGroups(model, options.layerRates);
    this.optimizers = this.groups.map((g) => createOptimizer(options, options.learningRate * g.multiplier));
  }

  /** The learning rate of step `step` (before multipliers). */
  learningRate(step = this.step): number {
    return learningRateAt(step, {
      learningRate: this.options.learningRate,
      schedule: this.options.schedule,
      warmupSteps: this.options.warmupSteps,
      steps: this.options.steps,
    });
  }

  /** Runs one step on `batch` (see the class doc). */
  runStep(batch: B): StepRecord {
    const rate = this.learningRate();
    const weights = this.groups.flatMap((g) => g.weights);
    let kept: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(
      () => {
        const out = this.objective(this.model, batch);
        kept = Object.fromEntries(Object.entries(out.metrics ?? {}).map(([k, t]) => [k, tf.keep(t)]));
        return out.loss;
      },
      weights.map((w) => w.variable),
    );
    const prepared: tf.NamedTensorMap = {};
    try {
      const loss = value.dataSync()[0];
      if (!Number.isFinite(loss))
        throw new NumericalError('the loss is not finite; training stopped before this step changed anything', { where: `step ${this.step}`, actual: loss });
      this.decayIntoGradients(grads, prepared);
      const squares = squaresOf(weights.map((w) => prepared[w.name]));
      const norm = Math.sqrt(Array.from(squares).reduce((a, b) => a + b, 0));
      const scale = this.options.clipGradientNorm !== null && norm > this.options.clipGradientNorm ? this.options.clipGradientNorm / norm : 1;
      this.guard(
        weights.map((w, i) => ({ layer: w.layer, square: squares[i] })),
        rate,
        scale,
      );
      this.apply(prepared, rate, scale);
      const metrics = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
      return { step: this.step++, loss, metrics, learningRate: rate, gradientNorm: norm, clipped: scale < 1 };
    } finally {
      // `prepared` shares the gradients it did not decay: a Set frees each tensor once.
      tf.dispose([...new Set([value, ...Object.values(grads), ...Object.values(prepared), ...Object.values(kept)])]);
    }
  }

  /** Step 2: `prepared` gets g + λ·w for decayed weights under `l2`, else g itself (no copy on the hot path). */
  private decayIntoGradients(grads: tf.NamedTensorMap, prepared: tf.NamedTensorMap): void {
    const l2 = this.options.weightDecayMode === 'l2' && this.options.weightDecay > 0;
    for (const w of this.groups.flatMap((g) => g.weights)) {
      const g = grads[w.name];
      prepared[w.name] = l2 && w.decayed ? tf.tidy(() => tf.add(g, tf.mul(w.variable, this.options.weightDecay))) : g;
    }
  }

  /** Step 4: the divergence guard on each layer's step norm. */
  private guard(squares: { layer: string; square: number }[], rate: number, scale: number): void {
    const perLayer = new Map<string, number>();
    for (const { layer, square } of squares) perLayer.set(layer, (perLayer.get(layer) ?? 0) + square);
    const multiplier = new Map(this.groups.flatMap((g) => g.weights.map((w) => [w.layer, g.multiplier] as const)));
    const norms = [...perLayer].map(([layer, square]) => ({ layer, norm: rate * (multiplier.get(layer) ?? 1) * scale * Math.sqrt(square) }));
    for (const { layer, norm } of norms) {
      const past = this.history.get(layer) ?? [];
      const median = [...past].sort((a, b) => a - b)[past.length >> 1];
      if (!Number.isFinite(norm) || (past.length >= 5 && norm > this.options.divergenceFactor * median)) {
        throw new NumericalError('the update diverges; training stopped before this step changed anything', {
          where: `step ${this.step}, layer ${layer}`,
          expected:
            past.length >= 5
              ? `a step norm ≤ ${this.options.divergenceFactor} × ${median.toExponential(3)} (median of the last ${past.length})`
              : 'a finite step norm',
          actual: norm,
        });
      }
    }
    for (const { layer, norm } of norms) this.history.set(layer, [...(this.history.get(layer) ?? []), norm].slice(-HISTORY));
  }

  /** Steps 5–6. */
  private apply(prepared: tf.NamedTensorMap, rate: number, scale: number): void {
    this.groups.forEach((group, i) => {
      const groupRate = rate * group.multiplier;
      if (this.options.weightDecayMode === 'decoupled' && this.options.weightDecay > 0) {
        for (const w of group.weights.filter((x) => x.decayed)) tf.tidy(() => w.variable.assign(tf.mul(w.variable, 1 - groupRate * this.options.weightDecay)));
      }
      setLearningRate(this.optimizers[i], groupRate);
      const own = Object.fromEntries(group.weights.map((w) => [w.name, prepared[w.name]]));
      // Clipped: scaled copies, freed here; otherwise the prepared gradients themselves (freed by runStep).
      const scaled = scale === 1 ? own : tf.tidy(() => Object.fromEntries(group.weights.map((w) => [w.name, tf.mul(prepared[w.name], scale)])));
      this.optimizers[i].applyGradients(scaled);
      if (scaled !== own) tf.dispose(Object.values(scaled));
    });
  }

  /** The checkpoint: step, every model weight, every optimizer slot, the caller's cursor. */
  async saveState(cursor: unknown = null): Promise<Uint8Array> {
    const tensors: StateTensor[] = this.model.weights.map((w, k) => stateTensor(weightKey(k), w.read()));
    for (const [i, optimizer] of this.optimizers.entries()) {
      const slots = await optimizer.getWeights();
      // getWeights() makes a new scalar for the iteration count (the rest are live slots): disposed here,
      // which is the leak of model.save with an optimizer (tensorflow/tfjs#8238).
      tensors.push(...slots.map((s) => stateTensor(`optimizer:${i}:${s.name}`, s.tensor)));
      slots[0]?.tensor.dispose();
    }
    return encodeTrainingState({ format: 'ddinit-training-state', version: 1, step: this.step, cursor, tensors });
  }

  /**
   * Continues from a checkpoint of the same model and options.
   * @throws DataError naming `where` for a damaged checkpoint; ShapeError when it
   *   is another model's (a weight missing or of another shape).
   */
  async restoreState(bytes: Uint8Array, where: string): Promise<{ step: number; cursor: unknown }> {
    const state = decodeTrainingState(bytes, where);
    const byKey = new Map(state.tensors.map((t) => [t.key, t]));
    for (const [k, w] of this.model.weights.entries()) {
      const saved = byKey.get(weightKey(k));
      if (saved === undefined || saved.shape.join(',') !== w.shape.join(',')) {
        throw new ShapeError('the checkpoint is not of this model', {
          where: `${where}, weight ${w.originalName}`,
          expected: w.shape,
          actual: saved?.shape ?? 'missing',
        });
      }
      const value = tf.tensor(saved.data, saved.shape, saved.dtype);
      w.write(value);
      value.dispose();
    }
    this.optimizers.forEach(disposeOptimizer);
    this.optimizers = this.groups.map((g) => createOptimizer(this.options, this.options.learningRate * g.multiplier));
    for (const [i, optimizer] of this.optimizers.entries()) {
      const slots = state.tensors.filter((t) => t.key.startsWith(`optimizer:${i}:`));
      if (slots.length === 0) throw new DataError('the checkpoint has no state for an optimizer group', { where, expected: `optimizer group ${i}` });
      const named = slots.map((t) => ({ name: t.key.slice(`optimizer:${i}:`.length), tensor: tf.tensor(t.data, t.shape, t.dtype) }));
      await optimizer.setWeights(named);
      tf.dispose(named.map((n) => n.tensor));
    }
    this.step = state.step;
    this.history.clear();
    return { step: state.step, cursor: state.cursor };
  }

  dispose(): void {
    this.optimizers.forEach(disposeOptimizer);
  }
}

/**
 * ‖g‖² of each gradient, read back at once: one fused kernel where the backend has it
 * (wasm), else one sum of squares per gradient.
 */
function squaresOf(gradients: tf.Tensor[]): ArrayLike<number> {
  return sumsOfSquares(gradients) ?? tf.tidy(() => tf.stack(gradients.map((g) => tf.sum(tf.square(g)))).dataSync());
}

/**
 * A weight's key: its position in `model.weights`. Names are no key: tfjs
 * numbers auto-named layers per process (conv2d_Conv2D3), so a rebuilt model's
 * differ; the shape check catches another architecture.
 */
function weightKey(index: number): string {
  return `weight:${index}`;
}

function stateTensor(key: string, tensor: tf.Tensor): StateTensor {
  const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
  const data = tensor.dataSync();
  return { key, dtype, shape: tensor.shape.slice(), data: dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data) };
}
