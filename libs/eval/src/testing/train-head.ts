/**
 * Trains a downstream head with its trunk on in-memory byte batches and evaluates
 * it, as the finetune stage does with a dataset, for the specs of the heads.
 */
import type * as tf from '@tensorflow/tfjs';
// eslint-disable-next-line @nx/enforce-module-boundaries -- spec data only (devDependency)
import type { UintBatch } from '@ddinit/data';
import { trainModel, type TrainOptionsInput } from '@ddinit/train';
import type { DownstreamHead, HeadMetrics } from '../heads/downstream-head';
import { disposeHeadBatch, headBatch } from './composed-scenes-sample';

/** Adam at 0.003: the short runs of the specs need a rate that moves a freshly initialized trunk within tens of steps. */
export const SPEC_TRAINING: Omit<TrainOptionsInput, 'steps'> = { optimizer: 'adam', learningRate: 0.003, weightDecay: 0 };

/** `steps` steps over `batches` in order (cycling), on `model` = `head.model(trunk)`. */
export async function trainHead(head: DownstreamHead, model: tf.LayersModel, batches: UintBatch[], options: TrainOptionsInput): Promise<number[]> {
  const result = await trainModel(model, head.objective, options, {
    data: async function* (from) {
      for (let step = from; ; step++) yield headBatch(batches[step % batches.length]);
    },
    release: disposeHeadBatch,
  });
  return result.steps.map((s) => s.loss);
}

/** The head's metrics of `model` over `batches`. */
export function evaluateHead(head: DownstreamHead, model: tf.LayersModel, batches: UintBatch[]): HeadMetrics {
  const evaluator = head.evaluator();
  for (const bytes of batches) {
    const batch = headBatch(bytes);
    try {
      evaluator.add(model, batch);
    } finally {
      disposeHeadBatch(batch);
    }
  }
  return evaluator.result();
}
