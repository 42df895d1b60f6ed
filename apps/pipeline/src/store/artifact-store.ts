/**
 * Artifacts (a model, its report, metrics) are published whole or not at all,
 * and ddinit replaces only what it wrote.
 *
 * An artifact is a set of files under one location — a local directory or an S3
 * prefix — plus `metadata.json`, written LAST, which lists every file with its size
 * and sha256 and records the config hash, seed, code version and backend. A
 * location without a valid `metadata.json` holds no artifact. The protocol of each
 * kind of location (how a publish stays atomic, what a killed publish leaves and
 * how the next run finishes or removes it) is in its class doc:
 * {@link LocalArtifactLocation}, {@link BlobArtifactLocation}; docs/cli.md
 * ("Artifacts") says it for users.
 */
import { createHash } from 'node:crypto';
import { StorageError } from '@ddinit/core/base';
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
    /**
     * Folder of the files relative to the location, when they are not beside
     * metadata.json: each S3 publish writes its files under its own
     * `ddinit-<id>/` so that the previous artifact stays whole until the pointer moves.
     */
    filesDir: z
      .string()
      .regex(/^ddinit-[0-9a-z-]+$/)
      .optional(),
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
  /**
   * One file of a complete artifact (checked against the metadata's sha256); `known`: the
   * metadata the caller already read, so reading many files costs one metadata read.
   */
  readFile(name: string, known?: ArtifactMetadata): Promise<Uint8Array>;
  /**
   * Run before any work: finishes or removes what a killed publish left there,
   * then checks that a publish can succeed — the location is writable and holds
   * nothing but a ddinit artifact, so nothing a user put there is replaced.
   * @throws ConfigError (exit 2) naming the location and what is in it when it
   *   holds files ddinit did not write; StorageError when it cannot be written.
   */
  prepare(): Promise<void>;
  /**
   * Publishes `files` and then their metadata, replacing the artifact already
   * there: the files its metadata lists are removed, nothing else.
   */
  publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void>;
}

/** Names a publish may use: plain, visible, never metadata.json itself. */
export function checkArtifactFileName(name: string, where: string): void {
  if (name === METADATA_FILE || name.length === 0 || /[/\\]/.test(name) || name.startsWith('.') || name.startsWith('ddinit-')) {
    throw new StorageError('artifact file names must be plain names other than metadata.json', {
      where,
      expected: 'a name without /, \\, a leading dot or the ddinit- prefix',
      actual: name,
    });
  }
}

export type UpToDate = { upToDate: true; metadata: ArtifactMetadata } | { upToDate: false; reason: string };

/**
 * Whether `location` holds a complete, intact artifact made from the same
 * configuration: the metadata's config hash matches and every file it lists is
 * there with its size and sha256 (a truncated or deleted file means redo).
 */
export async function checkUpToDate(location: ArtifactLocation, configHash: string): Promise<UpToDate> {
  const metadata = await location.readMetadata();
  if (metadata === null) return { upToDate: false, reason: 'no complete artifact' };
  if (metadata.configHash !== configHash) return { upToDate: false, reason: 'made from another configuration' };
  for (const entry of metadata.files) {
    try {
      const bytes = await location.readFile(entry.name, metadata);
      if (bytes.byteLength !== entry.bytes) return { upToDate: false, reason: `${entry.name} has ${bytes.byteLength} bytes, metadata lists ${entry.bytes}` };
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return { upToDate: false, reason: error.message };
    }
  }
  return { upToDate: true, metadata };
}

/** True when `location` holds a complete, intact artifact made from the same configuration. */
export async function isUpToDate(location: ArtifactLocation, configHash: string): Promise<boolean> {
  return (await checkUpToDate(location, configHash)).upToDate;
}

/** metadata.json's bytes as every location writes them. */
export function encodeMetadata(metadata: ArtifactMetadata): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(metadata, null, 2)}\n`);
}

/** Parses metadata.json's bytes; null when they are not a ddinit artifact's metadata. */
export function decodeMetadata(bytes: Uint8Array): ArtifactMetadata | null {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const parsed = ArtifactMetadataSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** Up to `limit` names for a message, with a count of the rest. */
export function listForMessage(names: readonly string[], limit = 5): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
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
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex');
}
