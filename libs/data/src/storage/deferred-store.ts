/**
 * A {@link BlobStore} whose implementation is made on its first request. `openStore`
 * returns one for `s3://` so the AWS SDK (about 0.2 s of CPU to import) is loaded
 * only when an S3 object is actually read or written, never by a run on local data
 * (docs/RESULTS.md, "Start-up").
 */
import type { BlobStore } from './blob-store';

export class DeferredStore implements BlobStore {
  private opened: Promise<BlobStore> | undefined;

  /**
   * @param location the store's location, as the real store would report it
   * @param describeKey the real store's {@link BlobStore.describe}, which must not need it opened
   * @param open makes the real store; called once, on the first request
   */
  constructor(
    readonly location: string,
    private readonly describeKey: (key: string) => string,
    private readonly open: () => Promise<BlobStore>,
  ) {}

  private store(): Promise<BlobStore> {
    this.opened ??= this.open();
    return this.opened;
  }

  describe(key: string): string {
    return this.describeKey(key);
  }

  async size(key: string): Promise<number> {
    return (await this.store()).size(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.store()).exists(key);
  }

  async read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    return (await this.store()).read(key, start, end, target);
  }

  async readAll(key: string): Promise<Uint8Array> {
    return (await this.store()).readAll(key);
  }

  async list(prefix?: string): Promise<string[]> {
    return (await this.store()).list(prefix);
  }

  async write(key: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ bytes: number }> {
    return (await this.store()).write(key, chunks);
  }

  async delete(key: string): Promise<void> {
    return (await this.store()).delete(key);
  }
}
