/** The exit codes of `ddinit` (docs/cli.md); a module of its own so main.ts stays light. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad configuration or input: the message names the field, file, shard or layer. */
export const EXIT_BAD_INPUT = 2;
/**
 * A numerical failure (a NumericalError: the loss or an update diverged, a matrix has no
 * usable factorization): a result of the configuration and the data, so the same run fails
 * the same way again.
 */
export const EXIT_NUMERICAL = 3;
/** The exit codes a retry cannot change: Jobs and Workflows fail at once instead of retrying. */
export const EXIT_CODES_NOT_RETRIED = [EXIT_BAD_INPUT, EXIT_NUMERICAL] as const;
