import { DataError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { decodeTrainingState, encodeTrainingState, type TrainingState } from './training-state';

const state: TrainingState = {
  format: 'ddinit-training-state',
  version: 1,
  step: 42,
  cursor: { epoch: 1, offset: 17 },
  tensors: [
    { key: 'weight:0:conv/kernel', dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-30, -7) },
    { key: 'optimizer:0:iter', dtype: 'int32', shape: [], data: Int32Array.of(42) },
  ],
};

describe('training state bytes', () => {
  it('round-trips every value, key, shape and the cursor', () => {
    expect(decodeTrainingState(encodeTrainingState(state), 'ckpt')).toEqual(state);
  });

  it('refuses a truncated, padded or foreign file as DataError naming it', () => {
    const bytes = encodeTrainingState(state);
    for (const bad of [bytes.subarray(0, bytes.length - 4), Uint8Array.of(...bytes, 0), new TextEncoder().encode('{"not":"a checkpoint"}')]) {
      expect(() => decodeTrainingState(bad, 's3://b/run/checkpoint-42')).toThrow(DataError);
    }
    expect(() => decodeTrainingState(bytes.subarray(0, 30), 'ckpt')).toThrow(/^ckpt: not a complete training checkpoint/);
  });
});
