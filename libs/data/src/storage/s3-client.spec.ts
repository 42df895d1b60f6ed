/**
 * The S3 client factory on Node 20: the first client of a process is where the
 * SDK emits its Node-version notice, so this file makes its own first client
 * (vitest runs each spec file in a fresh module graph).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SDK_NODE_NOTICE_VARIABLE, createS3Client } from './s3-client';

describe('createS3Client', () => {
  afterEach(() => vi.restoreAllMocks());

  it('makes a client without the SDK printing a process warning (its Node-version notice is off), other warnings untouched', () => {
    const saved = process.env[SDK_NODE_NOTICE_VARIABLE];
    delete process.env[SDK_NODE_NOTICE_VARIABLE];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const client = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      client.destroy();
      expect(warn).not.toHaveBeenCalled();
      expect(process.env[SDK_NODE_NOTICE_VARIABLE]).toBe('true');
      process.emitWarning('still delivered');
      expect(warn).toHaveBeenCalledWith('still delivered');
    } finally {
      if (saved === undefined) delete process.env[SDK_NODE_NOTICE_VARIABLE];
      else process.env[SDK_NODE_NOTICE_VARIABLE] = saved;
    }
  });
});
