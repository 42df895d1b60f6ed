/** Parsers of benchmark option values shared by the benches' option modules. */
import { ConfigError } from '@ddinit/core';

/** A comma list (`a, b,c` → [a, b, c]); `fallback` when the option is absent. */
export function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** An integer ≥ `min`; `fallback` when absent. @throws ConfigError naming `--name`. */
export function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError('invalid option', { where: `--${name}`, expected: `an integer ≥ ${min}`, actual: value });
  }
  return n;
}
