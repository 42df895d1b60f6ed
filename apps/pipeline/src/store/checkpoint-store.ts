/**
 * Checkpoints of a training stage, kept beside its artifact so that a killed
 * run (SIGKILL, a pod evicted, a node lost) resumes where it stopped.
 *
 * Where: `<out>/.ddinit-checkpoints/` for a local `--out`, `<out>/ddinit-checkpoints/`
 * on S3 — names the artifact store counts as ddinit's own, so they never make
 * `--out` look foreign (docs/artifacts.md).
 *
 * A checkpoint is two objects: `checkpoint-<step>.ddts` (the trainer's bytes),
 * then `checkpoint-<step>.json` (step, configuration hash, size, sha256), each
 * written atomically (a renamed temporary file; one S3 PUT). One counts only
 * when its JSON is there and the bytes match it, so a run killed while writing
 * leaves nothing that looks complete. The newest `keep` are kept; `latest()`
 * takes the newest complete one and says when it had to skip a damaged one.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ConfigError, silentLogger, type Logger } from '@ddinit/core';
import { isS3Uri, openStore, type BlobStore, type StoreOptions } from '@ddinit/data';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { z } from 'zod';

const RecordSchema = z.object({ step: z.int().min(0), configHash: z.string().min(1), bytes: z.int().min(0), sha256: z.string().length(64) }).strict();
type CheckpointRecord = z.infer<typeof RecordSchema>;

/** The folder of the checkpoints of the artifact at `out`. */
export function checkpointLocation(out: string): string {
  if (isS3Uri(out)) return `${out.replace(/\/+$/, '')}/ddinit-checkpoints`;
  return join(out.startsWith('file://') ? fileURLToPath(out) : out, '.ddinit-checkpoints');
}

const nameOf = (step: number): string => `checkpoint-${String(step).padStart(9, '0')}`;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface Checkpoint {
  step: number;
  bytes: Uint8Array;
  /** Where it was read from, for messages. */
  where: string;
}

export class CheckpointStore {
  private readonly store: BlobStore;
  private readonly logger: Logger;
  private readonly keep: number;

  constructor(
    readonly out: string,
    private readonly configHash: string,
    options: StoreOptions & { keep?: number } = {},
  ) {
    this.store = openStore(checkpointLocation(out), options);
    this.logger = options.logger ?? silentLogger;
    this.keep = options.keep ?? 2;
  }

  /** Stores the checkpoint of `step`, then removes all but the newest `keep`. */
  async save(step: number, bytes: Uint8Array): Promise<void> {
    const record: CheckpointRecord = { step, configHash: this.configHash, bytes: bytes.byteLength, sha256: sha256(bytes) };
    await this.store.write(`${nameOf(step)}.ddts`, [bytes]);
    await this.store.write(`${nameOf(step)}.json`, [new TextEncoder().encode(`${JSON.stringify(record)}\n`)]);
    const steps = await this.steps();
    for (const old of steps.slice(0, Math.max(0, steps.length - this.keep))) await this.remove(old);
  }

  /**
   * The newest complete checkpoint of this configuration, or null when there is none.
   * A damaged one (bytes missing or not matching its record) is skipped with a warning.
   * @throws ConfigError (exit 2) when the newest complete one was written by another configuration.
   */
  async latest(): Promise<Checkpoint | null> {
    for (const step of (await this.steps()).reverse()) {
      const where = this.store.describe(`${nameOf(step)}.ddts`);
      const record = await this.readRecord(step);
      if (record !== null && record.configHash !== this.configHash) {
        throw new ConfigError('the checkpoint in --out was written by another configuration; use another --out, or --force to start over', {
          where,
          expected: `configuration ${this.configHash.slice(0, 12)}`,
          actual: `configuration ${record.configHash.slice(0, 12)}`,
        });
      }
      const bytes = record === null ? null : await this.store.readAll(`${nameOf(step)}.ddts`).catch(() => null);
      if (record !== null && bytes !== null && bytes.byteLength === record.bytes && sha256(bytes) === record.sha256) return { step, bytes, where };
      this.logger.warn('a checkpoint is damaged or half-written; trying the previous one', { checkpoint: where });
    }
    return null;
  }

  /** Removes every checkpoint, and locally their folder (after the stage's artifact is published). */
  async clear(): Promise<void> {
    for (const key of await this.store.list()) await this.store.delete(key);
    if (!isS3Uri(this.out)) await rm(checkpointLocation(this.out), { recursive: true, force: true });
  }

  /** Steps that have a record, ascending. */
  private async steps(): Promise<number[]> {
    const keys = await this.store.list();
    const steps = keys.map((k) => /^checkpoint-(\d+)\.json$/.exec(k)?.[1]).filter((s): s is string => s !== undefined);
    return steps.map(Number).sort((a, b) => a - b);
  }

  private async readRecord(step: number): Promise<CheckpointRecord | null> {
    try {
      const parsed = RecordSchema.safeParse(JSON.parse(new TextDecoder().decode(await this.store.readAll(`${nameOf(step)}.json`))));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async remove(step: number): Promise<void> {
    await this.store.delete(`${nameOf(step)}.json`);
    await this.store.delete(`${nameOf(step)}.ddts`);
  }
}
