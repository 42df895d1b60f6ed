/** The exit codes of `ddinit` (docs/cli.md); a module of its own so main.ts stays light. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad configuration or input: the message names the field, file, shard or layer. */
export const EXIT_BAD_INPUT = 2;
