/**
 * `manifest.json`: the table of contents of a dataset, written last by a writer,
 * read first by a reader (see docs/shard-format.md).
 *
 * @example
 * {
 *   "format": "ddinit-dataset", "version": 1, "name": "fashion-mnist-sample",
 *   "features": { "image": { "encoding": "raw", "height": 28, "width": 28, "channels": 1, "layout": "HWC" },
 *                 "label": "class", "mask": "none", "classNames": ["T-shirt/top", …], "source": "…", "license": "MIT" },
 *   "splits": { "train": { "examples": 3000, "shards": [
 *     { "path": "train-00000.arrow", "bytes": 2409442, "examples": 3000, "sha256": "9f…" } ] } }
 * }
 */
import { z } from 'zod';
import { DataError } from '@ddinit/core/base';
import type { BlobStore } from '../storage/blob-store';
import { featuresSchema, parseFeatures, type DatasetFeatures } from './features';

/** The file name of the manifest inside a dataset directory or S3 prefix. */
export const MANIFEST_NAME = 'manifest.json';

const shardPath = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path of [A-Za-z0-9._-] segments')
  .refine((path) => !path.split('/').some((segment) => segment === '..' || segment === '.'), 'no . or .. segments');

export const shardEntrySchema = z
  .object({
    /** Path relative to the dataset root, `/`-separated. */
    path: shardPath,
    /** Exact size of the shard file in bytes. */
    bytes: z.number().int().positive(),
    /** Number of rows (examples) in the shard. */
    examples: z.number().int().nonnegative(),
    /** Lower-case hex SHA-256 of the whole shard file. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
  })
  .strict();

export const splitSchema = z
  .object({
    examples: z.number().int().nonnegative(),
    shards: z.array(shardEntrySchema),
  })
  .strict();

/**
 * How a generated dataset was made (e.g. `composeScenes`): the builder's name, its
 * seed and every parameter, so the same call rebuilds the same bytes.
 */
export const builderSchema = z
  .object({
    name: z.string().min(1),
    seed: z.number().int(),
    parameters: z.record(z.string(), z.json()),
  })
  .strict();

export const manifestSchema = z
  .object({
    format: z.literal('ddinit-dataset'),
    version: z.literal(1),
    name: z.string().min(1),
    features: featuresSchema,
    /** Present for generated datasets only. */
    builder: builderSchema.optional(),
    splits: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), splitSchema),
  })
  .strict();

export type ShardEntry = z.output<typeof shardEntrySchema>;
export type SplitEntry = z.output<typeof splitSchema>;
export type DatasetBuilder = z.output<typeof builderSchema>;
export interface DatasetManifest {
  format: 'ddinit-dataset';
  version: 1;
  name: string;
  features: DatasetFeatures;
  builder?: DatasetBuilder;
  splits: Record<string, SplitEntry>;
}

/**
 * Parses and validates manifest JSON. Besides the zod schema it checks that each
 * split's example count is the sum of its shards' and that no shard path repeats.
 *
 * @throws DataError naming `where` (the manifest's location) and the offending field.
 */
export function parseManifest(text: string, where: string): DatasetManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DataError('manifest is not valid JSON', { where, cause, actual: text.slice(0, 80) });
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    throw new DataError(`invalid manifest:\n${z.prettifyError(result.error)}`, { where });
  }
  const manifest = result.data;
  const seen = new Set<string>();
  for (const [name, split] of Object.entries(manifest.splits)) {
    const sum = split.shards.reduce((total, shard) => total + shard.examples, 0);
    if (sum !== split.examples) {
      throw new DataError(`split '${name}' example count is not the sum of its shards`, {
        where,
        expected: sum,
        actual: split.examples,
      });
    }
    for (const shard of split.shards) {
      if (seen.has(shard.path)) throw new DataError(`shard path '${shard.path}' appears twice`, { where });
      seen.add(shard.path);
    }
  }
  return { ...manifest, features: parseFeatures(manifest.features, `${where} features`) };
}

/**
 * Reads and parses the manifest of the dataset in `store`.
 * @throws StorageError when there is none; DataError when it is invalid.
 */
export async function readManifest(store: BlobStore): Promise<DatasetManifest> {
  const bytes = await store.readAll(MANIFEST_NAME);
  return parseManifest(new TextDecoder().decode(bytes), store.describe(MANIFEST_NAME));
}

/**
 * Stable, human-readable JSON (two-space indent, trailing newline). `features.boxes`
 * is left out when `none` (its default), so a dataset without boxes has the manifest
 * it had before boxes existed, and readers that predate them still read it.
 */
export function serializeManifest(manifest: DatasetManifest): string {
  const { boxes, ...features } = manifest.features;
  const written = boxes === 'none' ? { ...manifest, features } : manifest;
  return `${JSON.stringify(written, null, 2)}\n`;
}
