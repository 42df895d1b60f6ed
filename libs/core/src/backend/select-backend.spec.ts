import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../logger';
import { selectBackend } from './select-backend';

describe('selectBackend', () => {
  it('auto skips the missing native backends with reasons and picks wasm', async () => {
    const logger = createMemoryLogger();
    const selection = await selectBackend('auto', { logger });
    expect(selection.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node']);
    expect(selection.skipped[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    const info = logger.records.find((r) => r.level === 'info');
    expect(info?.message).toBe('tfjs backend: wasm');
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
