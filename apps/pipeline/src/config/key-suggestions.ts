/**
 * "Did you mean" for misspelt config keys. The schemas are strict, so a typo such as
 * `sampel:` or `withinOptions.betta` is a zod `unrecognized_keys` issue; this rewrites
 * each such issue to name where the key came from and the known key closest to it
 * (edit distance, ignoring case), or, when none is close, the keys that exist there.
 */
import { ZodError, type z } from 'zod';

/**
 * Optimal-string-alignment distance, case-insensitive: insertions, deletions,
 * substitutions and swaps of two neighbouring letters each cost 1.
 * @example editDistance('sampel', 'sample') // 1
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/** The known key closest to `key`, if it is close: at most 2 edits and fewer than half of `key`'s letters. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  return best !== undefined && best.distance <= 2 && best.distance < key.length / 2 ? best.key : undefined;
}

/** The wrappers zod puts around an object schema (optional, default, prefault, nullable, pipe…), removed. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if (def.innerType !== undefined) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in !== undefined) return unwrap(def.in);
  return schema;
}

/** The keys the object schema at `path` of `schema` accepts (empty when the path leads elsewhere). */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let here = unwrap(schema);
  for (const segment of path) {
    const def = here._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; valueType?: z.core.$ZodType };
    const next = def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
    if (next === undefined) return [];
    here = unwrap(next);
  }
  const def = here._zod.def as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/**
 * The same error with every unrecognized-key issue explained: where the key came
 * from (`sourceOf(topLevelKey)`, e.g. `config file run.yaml`) and the known key it
 * probably meant. Other issues are kept as they are.
 * @example
 * // ✖ Unrecognized key "sampel" in config file run.yaml: did you mean "sample"?
 */
export function explainUnknownKeys(error: ZodError, schema: z.core.$ZodType, sourceOf: (topLevelKey: string) => string): ZodError {
  const issues = error.issues.flatMap((issue): z.core.$ZodIssue[] => {
    if (issue.code !== 'unrecognized_keys') return [issue];
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const source = sourceOf(String(issue.path[0] ?? key));
      const guess = closestKey(key, known);
      const hint = guess !== undefined ? `did you mean "${guess}"?` : known.length > 0 ? `known keys here: ${known.join(', ')}` : 'no keys are known here';
      return { ...issue, keys: [key], message: `Unrecognized key "${key}" in ${source}: ${hint}` };
    });
  });
  return new ZodError(issues);
}
