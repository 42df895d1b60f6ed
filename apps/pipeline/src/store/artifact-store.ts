/**
 * Artifacts (a model, its report, metrics) are published whole or not at all.
 *
 * An artifact is a set of files under one location — a local directory or an S3
 * prefix — plus `metadata.json`, written LAST, which lists every file with its size
 * and sha256 and records the config hash, seed, code version and backend. A
 * location without a valid `metadata.json` holds no artifact: a run killed
 * mid-way leaves nothing a reader would take for a result, and the rerun replaces
 * it. Locally the files are first written to a hidden sibling directory that is
 * renamed into place, so even the directory never appears half-filled.
 */
import { createHash } from 'node:crypto';
import { StorageError } from '@ddinit/core';
import { z } from 'zod';

export const ArtifactMetadataSchema = z
  .object({
    schemaVersion: z.literal(1),
    stage: z.string().min(1),
    configHash: z.string().min(1),
    seed: z.number().int(),
    codeVersion: z.string().min(1),
    backend: z.string().min(1),
    createdAt: z.string().min(1),
    files: z.array(z.object({ name: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().length(64) }).strict()),
  })
  .strict();

export type ArtifactMetadata = z.infer<typeof ArtifactMetadataSchema>;
export type ArtifactFiles = ReadonlyMap<string, Uint8Array>;
export const METADATA_FILE = 'metadata.json';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Metadata for `files`, with sizes and checksums filled in. */
export function describeArtifact(
  files: ArtifactFiles,
  info: Omit<ArtifactMetadata, 'schemaVersion' | 'files' | 'createdAt'> & { createdAt?: string },
): ArtifactMetadata {
  return {
    schemaVersion: 1,
    ...info,
    createdAt: info.createdAt ?? new Date().toISOString(),
    files: [...files.entries()].map(([name, bytes]) => ({ name, bytes: bytes.byteLength, sha256: sha256Hex(bytes) })),
  };
}

/**
 * Reads file `name` of a complete artifact through `read` and checks it against
 * the metadata's sha256 — the one read path of every location.
 * @throws StorageError when there is no complete artifact, no such file in it,
 *   or the bytes do not match.
 */
export async function readVerifiedFile(
  metadata: ArtifactMetadata | null,
  name: string,
  where: { artifact: string; file: string },
  read: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const entry = metadata?.files.find((f) => f.name === name);
  if (!metadata || !entry) {
    throw new StorageError('no such file in a complete artifact', {
      where: where.artifact,
      expected: name,
      actual: metadata?.files.map((f) => f.name) ?? 'no artifact',
    });
  }
  const bytes = await read();
  const sha = sha256Hex(bytes);
  if (sha !== entry.sha256) {
    throw new StorageError('artifact file is corrupt', { where: where.file, expected: `sha256 ${entry.sha256}`, actual: `sha256 ${sha}` });
  }
  return bytes;
}

/** Where one artifact lives. */
export interface ArtifactLocation {
  /** `file:///abs/dir` or `s3://bucket/prefix`, for messages and reports. */
  readonly url: string;
  /** The artifact's metadata, or null when no complete artifact is there. */
  readMetadata(): Promise<ArtifactMetadata | null>;
  /** One file of a complete artifact (checked against the metadata's sha256). */
  readFile(name: string): Promise<Uint8Array>;
  /** Publishes `files` and then their metadata, replacing any artifact already there. */
  publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void>;
}

/** True when `location` holds a complete artifact made from the same configuration. */
export async function isUpToDate(location: ArtifactLocation, configHash: string): Promise<boolean> {
  const metadata = await location.readMetadata();
  return metadata !== null && metadata.configHash === configHash;
}

/** A stable hash of a JSON-able configuration (object keys sorted). */
export function hashConfig(config: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value as object)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex');
}
