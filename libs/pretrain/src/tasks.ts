/**
 * The pretext tasks by name, for a stage that picks one from its configuration:
 * `createPretextTask({ name: 'context', options: { resampleShare: 0.5 } }, { imageShape: [32, 32, 3], seed: 1 })`.
 */
import { contextTask, type ContextOptionsInput } from './context-prediction';
import { jigsawTask, type JigsawOptionsInput } from './jigsaw';
import type { PretextSetup, PretextTask, PretextTaskName } from './pretext-task';
import { rotationTask } from './rotation';

export const PRETEXT_TASKS = {
  rotation: (setup: PretextSetup) => rotationTask(setup),
  context: (setup: PretextSetup, options?: ContextOptionsInput) => contextTask(setup, options),
  jigsaw: (setup: PretextSetup, options?: JigsawOptionsInput) => jigsawTask(setup, options),
} as const satisfies Record<PretextTaskName, (setup: PretextSetup, options?: never) => PretextTask>;

/** A task and its options, as a configuration names them. */
export type PretextTaskConfig = { name: 'rotation' } | { name: 'context'; options?: ContextOptionsInput } | { name: 'jigsaw'; options?: JigsawOptionsInput };

/** The task `config` names, set up for `setup`. */
export function createPretextTask(config: PretextTaskConfig, setup: PretextSetup): PretextTask {
  switch (config.name) {
    case 'rotation':
      return PRETEXT_TASKS.rotation(setup);
    case 'context':
      return PRETEXT_TASKS.context(setup, config.options);
    case 'jigsaw':
      return PRETEXT_TASKS.jigsaw(setup, config.options);
  }
}
