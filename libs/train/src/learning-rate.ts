/**
 * The learning rate at a step (0-based) of a run of `steps` steps:
 *
 *   constant:  η_t = η
 *   step:      η_t = η · γ^⌊t / every⌋
 *   cosine:    η_t = η · (m + (1 − m) · (1 + cos(π·t / (steps − 1))) / 2),  m = minFactor
 *   warm-up:   η_t ← η_t · (t + 1) / warmupSteps  for t < warmupSteps
 *
 * @example learningRateAt(0, { learningRate: 0.1, schedule: { kind: 'cosine', minFactor: 0 }, warmupSteps: 0, steps: 11 }) // 0.1
 */
import type { Schedule } from './train-options';

export interface LearningRatePlan {
  learningRate: number;
  schedule: Schedule;
  warmupSteps: number;
  steps: number;
}

export function learningRateAt(step: number, plan: LearningRatePlan): number {
  const base = plan.learningRate;
  let rate: number;
  switch (plan.schedule.kind) {
    case 'constant':
      rate = base;
      break;
    case 'step':
      rate = base * plan.schedule.gamma ** Math.floor(step / plan.schedule.every);
      break;
    case 'cosine': {
      const progress = plan.steps > 1 ? Math.min(step, plan.steps - 1) / (plan.steps - 1) : 1;
      const m = plan.schedule.minFactor;
      rate = base * (m + ((1 - m) * (1 + Math.cos(Math.PI * progress))) / 2);
      break;
    }
  }
  return step < plan.warmupSteps ? (rate * (step + 1)) / plan.warmupSteps : rate;
}
