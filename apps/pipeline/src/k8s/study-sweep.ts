/**
 * A comparison study as Kubernetes Indexed Jobs, for clusters without Argo
 * Workflows: completion index `i` runs cell group `i` (`ddinit compare --indexed`),
 * then a merge Job writes the comparison report (`ddinit compare --merge`).
 *
 * A group is every cell that reads the same init run, in plan order. Cells of one
 * group share stage runs (the init run; a pretrain run shared across label counts),
 * and two pods writing one output at once would race; cells of different groups
 * share nothing, so the pods never touch each other's outputs. Without shared runs
 * (one pretrain setting and one label count) a group is one cell.
 */
import { ConfigError } from '@ddinit/core/base';
import type { StudyPlan } from '../study/cells';

/** The cell groups of `plan`: 0-based cell positions, one list per init run, in plan order. */
export function cellGroups(plan: StudyPlan): number[][] {
  const groups = new Map<string, number[]>();
  plan.cells.forEach((cell, index) => {
    const init = cell.chain[0];
    groups.set(init, [...(groups.get(init) ?? []), index]);
  });
  return [...groups.values()];
}

/**
 * The cells of group `index`.
 * @throws ConfigError when `index` is not a group of the study (`where` names the flag or variable it came from).
 */
export function cellsOfGroup(plan: StudyPlan, index: number, where: string): number[] {
  const groups = cellGroups(plan);
  if (!Number.isInteger(index) || index < 0 || index >= groups.length) {
    throw new ConfigError('no such cell group in the study', { where, expected: `an integer in [0, ${groups.length - 1}]`, actual: index });
  }
  return groups[index];
}
