/**
 * The downstream heads by task: the finetune and evaluate stages pick one by the
 * task name. A task whose head is not in this version is refused with a
 * ConfigError naming the tasks that are; adding a head is one entry here.
 */
import { ConfigError } from '@ddinit/core';
import { classificationHead } from './classification-head';
import type { DownstreamHead, HeadOptions, HeadTask } from './downstream-head';

export type HeadFactory = (options: HeadOptions) => DownstreamHead;

/** The heads of this version, by task (a task absent here has no head yet). */
export const DOWNSTREAM_HEADS: Readonly<Partial<Record<HeadTask, HeadFactory>>> = {
  classify: classificationHead,
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
  const factory = DOWNSTREAM_HEADS[task];
  if (factory === undefined) {
    throw new ConfigError(`the ${task} head is not available in this version`, {
      where: 'task',
      expected: `one of ${availableHeadTasks().join(', ')}`,
      actual: task,
    });
  }
  return factory(options);
}
