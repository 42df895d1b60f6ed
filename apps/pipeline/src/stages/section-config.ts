/**
 * The configuration of a stage after init (pretrain, finetune, evaluate): its section
 * of the pipeline config file (`pretrain:`, `finetune:`, …) over what it inherits from
 * the file's top level (the init stage's data, split, seed, force), then the
 * command-line flags; a flag not given (undefined) does not hide the section's value.
 */
import type { z } from 'zod';

export function sectionConfig<C>(
  schema: z.ZodType<C>,
  section: string,
  inherited: Readonly<Record<string, unknown>>,
  document: Readonly<Record<string, unknown>>,
  flags: Readonly<Record<string, unknown>>,
): C {
  const value = document[section];
  const keys = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return schema.parse({ ...inherited, ...keys, ...given });
}

/** The result-defining part of a stage's configuration: all but where it reads and writes and `force` (an input artifact counts by its hash). */
export function withoutLocations<C extends { out: string; force: boolean; from?: string }>(config: C): Omit<C, 'out' | 'force' | 'from'> {
  const { out: _out, force: _force, from: _from, ...rest } = config;
  return rest;
}
