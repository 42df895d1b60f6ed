/**
 * The downstream heads by task: the finetune and evaluate stages pick one by the
 * task name. Every task of `HEAD_TASKS` has one (a missing entry fails typecheck);
 * `createHead` still refuses a name from outside, e.g. a config read as a string.
 */
import { ConfigError } from '@ddinit/core';
import { classificationHead } from './classification-head';
import { detectionHead } from './detection-head';
import type { DownstreamHead, HeadOptions, HeadTask } from './downstream-head';
import { multilabelHead } from './multilabel-head';
import { segmentationHead } from './segmentation-head';

export type HeadFactory = (options: HeadOptions) => DownstreamHead;

/** The head of every task, with its defaults (the head's own options beyond `HeadOptions`). */
export const DOWNSTREAM_HEADS: Readonly<Record<HeadTask, HeadFactory>> = {
  classify: classificationHead,
  multilabel: multilabelHead,
  segment: segmentationHead,
  detect: detectionHead,
};

/** The tasks that have a head in this version. */
export function availableHeadTasks(): HeadTask[] {
  return Object.keys(DOWNSTREAM_HEADS) as HeadTask[];
}

/**
 * The head of `task`, built from `options`.
 * @throws ConfigError when this version has no head for `task` (naming the tasks it has).
 */
export function createHead(task: HeadTask, options: HeadOptions): DownstreamHead {
  const factory = (DOWNSTREAM_HEADS as Partial<Record<string, HeadFactory>>)[task];
  if (factory === undefined) {
    throw new ConfigError(`the ${task} head is not available in this version`, {
      where: 'task',
      expected: `one of ${availableHeadTasks().join(', ')}`,
      actual: task,
    });
  }
  return factory(options);
}
