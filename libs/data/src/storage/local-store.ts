/**
 * A {@link BlobStore} over a local directory. Writes go to a temporary file in
 * the same directory (`.<name>.tmp-<pid>-<n>`), are flushed to disk and renamed
 * into place, so a reader never sees a partial file.
 */
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StorageError, isDdinitError } from '@ddinit/core/base';
import type { BlobStore, RangeHandle } from './blob-store';

let temporaryCounter = 0;

/** No such file, or a parent on the path is a file (ENOTDIR: the root itself is a file, say). */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class LocalStore implements BlobStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /** Absolute path of a key; rejects keys that would escape the root. */
  pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new StorageError('key escapes the dataset root', { where: key, expected: `a path under ${this.root}` });
    }
    return path;
  }

  describe(key: string): string {
    return this.pathOf(key);
  }

  async size(key: string): Promise<number> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (cause) {
      throw new StorageError(isMissing(cause) ? 'file does not exist' : 'cannot stat file', {
        where: this.describe(key),
        cause,
      });
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw new StorageError('cannot stat file', { where: this.describe(key), cause: error });
    }
  }

  async read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    const handle = await this.openRanges(key);
    try {
      return await handle.read(start, end, target);
    } finally {
      await handle.close();
    }
  }

  async openRanges(key: string): Promise<RangeHandle> {
    const where = this.describe(key);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (cause) {
      throw new StorageError(isMissing(cause) ? 'file does not exist' : 'cannot open file', { where, cause });
    }
    return {
      read: async (start, end, target) => {
        const length = end - start;
        if (!(start >= 0 && length >= 0)) throw new RangeError(`bad byte range [${start}, ${end})`);
        if (target !== undefined && target.byteLength !== length) {
          throw new RangeError(`target holds ${target.byteLength} bytes, range [${start}, ${end}) needs ${length}`);
        }
        const out = target ?? new Uint8Array(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(out, filled, length - filled, start + filled);
          if (bytesRead === 0) {
            throw new StorageError('file is shorter than the requested range', {
              where,
              expected: `bytes [${start}, ${end})`,
              actual: `end of file at ${start + filled}`,
            });
          }
          filled += bytesRead;
        }
        return out;
      },
      close: () => handle.close(),
    };
  }

  async readAll(key: string): Promise<Uint8Array> {
    return this.read(key, 0, await this.size(key));
  }

  async list(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw new StorageError('cannot list directory', { where: dir, cause: error });
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) keys.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(this.root);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async write(key: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ bytes: number }> {
    const path = this.pathOf(key);
    const temporary = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.tmp-${process.pid}-${temporaryCounter++}`);
    let bytes = 0;
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temporary, 'w');
      try {
        for await (const chunk of chunks) {
          let written = 0;
          while (written < chunk.byteLength) {
            const result = await handle.write(chunk, written, chunk.byteLength - written);
            written += result.bytesWritten;
          }
          bytes += chunk.byteLength;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (cause) {
      await rm(temporary, { force: true });
      if (isDdinitError(cause)) throw cause;
      throw new StorageError('writing file failed', { where: path, cause });
    }
    return { bytes };
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
