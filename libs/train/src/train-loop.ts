/**
 * The training loop: batches from any async source with one batch prefetched,
 * a checkpoint handed to the caller every N steps, at the end, on a divergence
 * (the last good state) and when the caller's signal aborts (SIGTERM in a pod);
 * resume from a checkpoint; metrics per step as progress events and a record.
 *
 * Same seed, same backend, same batches per step → resuming from the checkpoint
 * of step s gives the weights of an uninterrupted run: the checkpoint holds the
 * weights, the optimizer slots and iteration counts, and the data source is
 * asked for the batches from step s on.
 */
import type * as tf from '@tensorflow/tfjs';
import { DataError, NumericalError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import { Trainer, type Objective, type StepRecord } from './trainer';
import { trainOptionsSchema, type TrainOptionsInput } from './train-options';

export interface TrainLoop<B> {
  /** The batches of steps `fromStep`, `fromStep + 1`, …: a resumed run asks from its checkpoint's step. */
  data: (fromStep: number) => AsyncIterable<B>;
  /** Called after each step with its batch (dispose the batch's tensors here). */
  release?: (batch: B) => void;
  /** A checkpoint to continue from, and where it came from (for messages). */
  resume?: { bytes: Uint8Array; where: string };
  /** Stores a checkpoint; awaited before the loop goes on. */
  onCheckpoint?: (checkpoint: Uint8Array, step: number) => Promise<void>;
  /** Aborting it stops the run after the current step, with a checkpoint. */
  signal?: AbortSignal;
}

export interface TrainedStep extends StepRecord {
  /** Time of the step itself. */
  stepMs: number;
  /** Time spent waiting for its batch (what prefetching did not hide). */
  waitMs: number;
}

export interface TrainResult {
  steps: TrainedStep[];
  /** The step the run resumed from, or null. */
  resumedFrom: number | null;
  /** True when it stopped on the signal before the last step. */
  interrupted: boolean;
  /** Σ wait / Σ (wait + step) over this process's steps. */
  dataWaitShare: number;
}

const now = (): number => performance.now();

/**
 * Trains `model` on `objective` for `options.steps` steps. **Mutates the model's weights.**
 * @throws NumericalError (after a checkpoint of the last good state) when the loss or an update diverges;
 *   DataError when the data ends early or the checkpoint is damaged; ConfigError for invalid options.
 * @example
 * const result = await trainModel(model, classificationObjective, { steps: 100, learningRate: 0.01 }, { data: (from) => batchesFrom(from) });
 */
export async function trainModel<B>(
  model: tf.LayersModel,
  objective: Objective<B>,
  options: TrainOptionsInput,
  loop: TrainLoop<B>,
  observers: Observers = {},
): Promise<TrainResult> {
  const parsed = trainOptionsSchema.parse(options);
  const logger = observers.logger ?? silentLogger;
  const progress = observers.progress ?? silentProgress;
  const trainer = new Trainer(model, objective, parsed);
  const checkpoint = async (): Promise<void> => {
    if (loop.onCheckpoint) await loop.onCheckpoint(await trainer.saveState({ step: trainer.step }), trainer.step);
  };
  const steps: TrainedStep[] = [];
  let resumedFrom: number | null = null;
  let iterator: AsyncIterator<B> | undefined;
  try {
    if (loop.resume) {
      resumedFrom = (await trainer.restoreState(loop.resume.bytes, loop.resume.where)).step;
      logger.info('resumed from a checkpoint', { step: resumedFrom, of: parsed.steps, checkpoint: loop.resume.where });
    }
    iterator = loop.data(trainer.step)[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<B>> | undefined = trainer.step < parsed.steps ? iterator.next() : undefined;
    progress({ task: 'train', phase: 'start', completed: trainer.step, total: parsed.steps });
    while (pending !== undefined) {
      if (loop.signal?.aborted) {
        pending.catch(() => undefined);
        await checkpoint();
        logger.info('stopped on request after a checkpoint', { step: trainer.step });
        return result(steps, resumedFrom, true);
      }
      const waitStart = now();
      const next = await pending;
      const waitMs = now() - waitStart;
      if (next.done)
        throw new DataError('the data ended before the last step', {
          where: 'training data',
          expected: `${parsed.steps} steps`,
          actual: `${trainer.step} steps`,
        });
      pending = trainer.step + 1 < parsed.steps ? iterator.next() : undefined;
      const start = now();
      let record: StepRecord;
      try {
        record = trainer.runStep(next.value);
      } catch (error) {
        pending?.catch(() => undefined);
        if (error instanceof NumericalError) await checkpoint();
        throw error;
      } finally {
        loop.release?.(next.value);
      }
      const trained = { ...record, stepMs: now() - start, waitMs };
      steps.push(trained);
      progress({
        task: 'train',
        phase: 'advance',
        completed: trainer.step,
        total: parsed.steps,
        fields: { loss: record.loss, ...record.metrics, learningRate: record.learningRate, stepMs: trained.stepMs, waitMs },
      });
      if (parsed.checkpointEvery > 0 && trainer.step % parsed.checkpointEvery === 0 && trainer.step < parsed.steps) await checkpoint();
    }
    await checkpoint();
    progress({ task: 'train', phase: 'end', completed: trainer.step, total: parsed.steps });
    return result(steps, resumedFrom, false);
  } finally {
    await iterator?.return?.();
    trainer.dispose();
  }
}

function result(steps: TrainedStep[], resumedFrom: number | null, interrupted: boolean): TrainResult {
  const wait = steps.reduce((a, s) => a + s.waitMs, 0);
  const total = wait + steps.reduce((a, s) => a + s.stepMs, 0);
  return { steps, resumedFrom, interrupted, dataWaitShare: total > 0 ? wait / total : 0 };
}
