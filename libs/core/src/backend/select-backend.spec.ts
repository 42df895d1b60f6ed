import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../logger';
import { selectBackend } from './select-backend';
import { nativeBlasForSpecs } from '../testing/backend-comparison';

const nativeBuilt = nativeBlasForSpecs() !== undefined;

describe('selectBackend', () => {
  it('auto skips the missing native backends with reasons and picks wasm', async () => {
    const logger = createMemoryLogger();
    const selection = await selectBackend('auto', { logger });
    expect(selection.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node']);
    expect(selection.skipped[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    const info = logger.records.find((r) => r.level === 'info');
    if (nativeBuilt) {
      expect(selection.nativeBlas).toMatchObject({ active: true, config: expect.stringMatching(/^OpenBLAS/) });
      expect(selection.registeredKernels).toContain('Conv2D');
      expect(info?.message).toMatch(/^tfjs backend: wasm \+ native BLAS \(\d+ threads\)$/);
    } else {
      expect(selection.nativeBlas).toMatchObject({ active: false, reason: expect.stringMatching(/not built/) });
      expect(info?.message).toBe('tfjs backend: wasm');
    }
  });

  it('keeps the portable wasm kernels when told to, saying why', async () => {
    const logger = createMemoryLogger();
    const selection = await selectBackend('wasm', { logger, nativeBlas: false });
    expect(selection.nativeBlas).toEqual({ active: false, reason: 'turned off by the nativeBlas option' });
    expect(selection.registeredKernels).not.toContain('Conv2D');
    expect(logger.records.find((r) => r.level === 'debug' && r.message === 'tfjs backend details')?.fields).toMatchObject({
      nativeBlas: 'off: turned off by the nativeBlas option',
    });
  });

  it('says which backend in one short info record and keeps the details (skipped, kernels, BLAS build) at debug', async () => {
    const logger = createMemoryLogger();
    const selection = await selectBackend('auto', { logger });
    const info = logger.records.filter((r) => r.level === 'info');
    expect(info).toHaveLength(1);
    // The whole record as a log line would carry it: one screen line, not the ~600 characters it once was.
    expect(JSON.stringify(info[0]).length).toBeLessThanOrEqual(120);
    expect(info[0].fields).toEqual({ backend: 'wasm', ...(nativeBuilt ? { blasThreads: expect.any(Number) } : {}) });
    const details = logger.records.find((r) => r.level === 'debug' && r.message === 'tfjs backend details');
    expect(details?.fields).toMatchObject({
      skipped: [expect.stringMatching(/^node-gpu: /), expect.stringMatching(/^node: /)],
      registeredKernels: selection.registeredKernels,
    });
  });

  it('selects cpu by name', async () => {
    const selection = await selectBackend('cpu');
    expect(selection).toMatchObject({ name: 'cpu', tfBackend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('fails clearly when an explicitly requested backend is missing', async () => {
    await expect(selectBackend('node')).rejects.toThrow(
      /backend: requested backend is not available \(expected node, got node: @tensorflow\/tfjs-node is not installed\)/,
    );
  });

  it('rejects an unknown name, listing the valid ones', async () => {
    await expect(selectBackend('webgpu' as never)).rejects.toThrow(/expected one of auto, node-gpu, node, wasm, cpu/);
  });
});
