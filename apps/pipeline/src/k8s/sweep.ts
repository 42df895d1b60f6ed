/**
 * Sweeps as Kubernetes Indexed Jobs: completion index `i` (the pod's
 * `JOB_COMPLETION_INDEX`) selects configuration `i` of the Cartesian product of
 * the sweep axes, so every pod of the Job runs one configuration and the Job
 * runs them all.
 *
 * The mapping is mixed-radix with the first axis varying slowest, like nested
 * loops written in axis order. With axes `a_0 … a_{k-1}` of lengths `n_0 … n_{k-1}`
 * the sweep has `N = n_0 · … · n_{k-1}` configurations and
 *
 *   i = Σ_j  c_j · Π_{l>j} n_l,   0 ≤ c_j < n_j,
 *
 * where `c_j` is the position of axis `j`'s value. For `init: [he-normal, ddinit-pca, ddinit-zca]`
 * × `seed: [0, 1]`: index 0 → (he-normal, 0), 1 → (he-normal, 1), 2 → (ddinit-pca, 0), …,
 * 5 → (ddinit-zca, 1).
 *
 * All functions here are pure (the environment is an argument), so the runner in
 * the container and the renderer on a laptop agree by construction.
 */
import { ConfigError } from '@ddinit/core/base';
import { MAX_SWEEP_SIZE, kubernetesOptionsOf, type SweepOptions, type SweepValue } from './kubernetes-options';

/** The environment variable the Job controller sets in each pod of an Indexed Job. */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** One configuration of a sweep: config path → value, in axis order. */
export type SweepAssignment = Record<string, SweepValue>;

/** Number of configurations: the product of the axis lengths. Throws ConfigError past MAX_SWEEP_SIZE. */
export function sweepSize(axes: SweepOptions['axes']): number {
  const entries = Object.entries(axes);
  if (entries.length === 0) {
    throw new ConfigError('a sweep needs at least one axis', {
      where: 'kubernetes.sweep.axes',
      expected: 'e.g. { init: [ddinit-pca, ddinit-zca], seed: [0, 1] }',
      actual: '{}',
    });
  }
  let size = 1;
  for (const [axis, values] of entries) {
    if (values.length === 0) {
      throw new ConfigError('a sweep axis has no values', {
        where: `kubernetes.sweep.axes.${axis}`,
        expected: 'at least one value',
        actual: '[]',
      });
    }
    size *= values.length;
  }
  if (size > MAX_SWEEP_SIZE) {
    throw new ConfigError('the sweep is too large for one Indexed Job', {
      where: 'kubernetes.sweep.axes',
      expected: `at most ${MAX_SWEEP_SIZE} configurations`,
      actual: `${size} (${entries.map(([axis, values]) => `${axis}: ${values.length}`).join(' × ')})`,
    });
  }
  return size;
}

/**
 * The configuration at completion index `index` (see the module comment for the
 * formula). Throws ConfigError if `index` is not an integer in `[0, sweepSize)`.
 *
 * @example
 * sweepAssignmentAt({ init: ['he-normal', 'ddinit-pca', 'ddinit-zca'], seed: [0, 1] }, 3); // { init: 'ddinit-pca', seed: 1 }
 */
export function sweepAssignmentAt(axes: SweepOptions['axes'], index: number): SweepAssignment {
  const size = sweepSize(axes);
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new ConfigError('sweep index out of range', {
      where: COMPLETION_INDEX_ENV,
      expected: `an integer in [0, ${size - 1}]`,
      actual: index,
    });
  }
  const entries = Object.entries(axes);
  const assignment: SweepAssignment = {};
  let rest = index;
  // Peel digits from the last (fastest) axis, then write them back in axis order.
  const digits: number[] = new Array<number>(entries.length);
  for (let j = entries.length - 1; j >= 0; j--) {
    const radix = entries[j][1].length;
    digits[j] = rest % radix;
    rest = Math.floor(rest / radix);
  }
  entries.forEach(([axis, values], j) => {
    assignment[axis] = values[digits[j]];
  });
  return assignment;
}

/** Every configuration of the sweep, in index order. */
export function listSweepAssignments(axes: SweepOptions['axes']): SweepAssignment[] {
  const size = sweepSize(axes);
  return Array.from({ length: size }, (_, index) => sweepAssignmentAt(axes, index));
}

/**
 * The name of one configuration, used as its output folder: `axis=value` pairs
 * joined by `,` in axis order, e.g. `init=ddinit-pca,seed=1`. Unique within a sweep
 * because axis values contain none of `,` `=` `/` (the schema forbids them).
 */
export function sweepRunName(assignment: SweepAssignment): string {
  return Object.entries(assignment)
    .map(([axis, value]) => `${axis}=${String(value)}`)
    .join(',');
}

/**
 * Reads the completion index from an environment (`process.env` in a pod).
 * Throws ConfigError when the variable is missing or not a decimal integer.
 */
export function completionIndexFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[COMPLETION_INDEX_ENV];
  if (raw === undefined || raw === '') {
    throw new ConfigError('no completion index in the environment; sweeps run as Kubernetes Indexed Jobs', {
      where: COMPLETION_INDEX_ENV,
      expected: 'a decimal integer set by the Job controller',
      actual: 'unset',
    });
  }
  if (!/^(0|[1-9][0-9]*)$/.test(raw)) {
    throw new ConfigError('completion index is not a decimal integer', {
      where: COMPLETION_INDEX_ENV,
      expected: 'a decimal integer such as 0 or 17',
      actual: raw,
    });
  }
  return Number(raw);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a copy of `config` with `path` (dot-separated) set to `value`; intermediate objects are created. */
function setPath(config: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) return { ...config, [head]: value };
  const child = config[head];
  if (child !== undefined && !isPlainObject(child)) {
    throw new ConfigError('a sweep axis goes through a value that is not an object', {
      where: head,
      expected: 'an object (or nothing)',
      actual: typeof child,
    });
  }
  return { ...config, [head]: setPath(child ?? {}, rest.join('.'), value) };
}

function getPath(config: Record<string, unknown>, path: string): unknown {
  let current: unknown = config;
  for (const key of path.split('.')) {
    if (!isPlainObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Applies one configuration to a pipeline config (a plain object, as read from
 * the ConfigMap): sets every axis path to its value and moves the output location
 * at `outKey` one folder down, to `<out>/<run name>`, so configurations never
 * overwrite each other. The input is not modified.
 *
 * Throws ConfigError if `outKey` does not hold a non-empty string.
 *
 * @example
 * applySweepAssignment({ out: 's3://b/runs', init: 'he-normal' }, { init: 'ddinit-pca', seed: 1 }, 'out');
 * // { out: 's3://b/runs/init=ddinit-pca,seed=1', init: 'ddinit-pca', seed: 1 }
 */
export function applySweepAssignment(config: Readonly<Record<string, unknown>>, assignment: SweepAssignment, outKey: string): Record<string, unknown> {
  const out = getPath(config, outKey);
  if (typeof out !== 'string' || out.length === 0) {
    throw new ConfigError('a sweep needs an output location to put each configuration under', {
      where: outKey,
      expected: 'a directory or s3://bucket/prefix (set kubernetes.sweep.outKey if it lives elsewhere)',
      actual: out === undefined ? 'missing' : JSON.stringify(out),
    });
  }
  let result: Record<string, unknown> = { ...config };
  for (const [path, value] of Object.entries(assignment)) result = setPath(result, path, value);
  return setPath(result, outKey, `${out.replace(/\/+$/, '')}/${sweepRunName(assignment)}`);
}

/** What the sweep runner in a pod needs to run its one configuration. */
export interface SweepRun {
  /** The completion index, `0 … size-1`. */
  index: number;
  /** The number of configurations in the sweep. */
  size: number;
  /** The axis values of this configuration. */
  assignment: SweepAssignment;
  /** `init=ddinit-pca,seed=1`: the output sub-folder and a label for logs. */
  name: string;
  /** The pipeline config to run, with the axes applied and the output moved down. */
  config: Record<string, unknown>;
}

/**
 * Selects the configuration of this pod: parses the `kubernetes:` section of the
 * pipeline config (defaults included), reads `JOB_COMPLETION_INDEX` from `env`,
 * and applies the selected values. The caller then validates `run.config` with the
 * pipeline's own schema and runs the stage.
 *
 * Throws ConfigError (missing or bad index, missing output location) or ZodError
 * (a bad `kubernetes:` section).
 */
export function selectSweepRun(pipelineConfig: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): SweepRun {
  const options = kubernetesOptionsOf(pipelineConfig);
  const { axes, outKey } = options.sweep;
  const size = sweepSize(axes);
  const index = completionIndexFromEnv(env);
  const assignment = sweepAssignmentAt(axes, index);
  return {
    index,
    size,
    assignment,
    name: sweepRunName(assignment),
    config: applySweepAssignment(pipelineConfig, assignment, outKey),
  };
}
