/**
 * The keys `init` replaced. `within` (a weight source) and `calibrate` (a boolean)
 * were two options for one choice; `init` names it once (config/initializations.ts).
 * A configuration that still uses them is refused with the equivalent name rather
 * than accepted as a second way to say the same thing.
 */
import { ConfigError } from '@ddinit/core/base';
import { WITHIN_METHODS } from '@ddinit/init-within-layer/options';
import { ddinitInitialization } from './initializations';

/** The removed top-level keys of a pipeline config, and their environment variables. */
export const REMOVED_KEYS = ['within', 'calibrate'] as const;
export const REMOVED_ENVIRONMENT = { DDINIT_WITHIN: 'within', DDINIT_CALIBRATE: 'calibrate' } as const;

/** The `init` name the removed pair meant (absent keys take their old defaults, kmeans and true). */
function equivalentInit(within: unknown, calibrate: unknown): string {
  const method = within === undefined ? 'kmeans' : within;
  // From the environment the value is text (DDINIT_CALIBRATE=no), parsed as the old variable was.
  const calibrated = calibrate !== false && !(typeof calibrate === 'string' && ['0', 'false', 'no', 'off', ''].includes(calibrate.trim().toLowerCase()));
  if (typeof method === 'string' && (WITHIN_METHODS as readonly string[]).includes(method)) {
    return ddinitInitialization(method as (typeof WITHIN_METHODS)[number], calibrated);
  }
  return `ddinit-<source>${calibrated ? '+calibration' : ''} (source one of ${WITHIN_METHODS.join(', ')})`;
}

/**
 * The error for a configuration using `within` or `calibrate`, or null when it uses neither.
 * @param sourceOf where a key came from, e.g. `config file run.yaml`.
 * @example
 * removedKeysError({ within: 'pca', calibrate: false }, () => 'config file run.yaml')?.message
 * // 'within, calibrate (config file run.yaml): within and calibrate were replaced by one key, init
 * //  (flag --init, variable DDINIT_INIT) (expected init: ddinit-pca, got within: pca, calibrate: false)'
 */
export function removedKeysError(document: Readonly<Record<string, unknown>>, sourceOf: (key: string) => string): ConfigError | null {
  const used = REMOVED_KEYS.filter((key) => document[key] !== undefined);
  if (used.length === 0) return null;
  const sources = [...new Set(used.map(sourceOf))];
  const where = sources.length === 1 ? `${used.join(', ')} (${sources[0]})` : used.map((key) => `${key} (${sourceOf(key)})`).join(', ');
  return new ConfigError('within and calibrate were replaced by one key, init (flag --init, variable DDINIT_INIT)', {
    where,
    expected: `init: ${equivalentInit(document.within, document.calibrate)}`,
    actual: used.map((key) => `${key}: ${String(document[key])}`).join(', '),
  });
}

/** Throws {@link removedKeysError} when `document` uses a removed key. */
export function rejectRemovedKeys(document: Readonly<Record<string, unknown>>, sourceOf: (key: string) => string): void {
  const error = removedKeysError(document, sourceOf);
  if (error !== null) throw error;
}
