import { describe, expect, it } from 'vitest';
import { WITHIN_METHODS } from '@ddinit/init-within-layer/options';
import { DEFAULT_INITIALIZATION, INITIALIZATIONS, ddinitInitialization, initializationPlan } from './initializations';

describe('the one list of initializations', () => {
  it('names each initialization once: 4 data-free, lsuv, and every within-layer source with and without calibration', () => {
    expect(new Set(INITIALIZATIONS).size).toBe(INITIALIZATIONS.length);
    expect(INITIALIZATIONS).toHaveLength(4 + 1 + 2 * WITHIN_METHODS.length);
    expect(INITIALIZATIONS.slice(0, 5)).toEqual(['glorot-uniform', 'he-normal', 'gaussian-0.01', 'orthogonal', 'lsuv']);
  });

  it('maps every ddinit name to its plan and back', () => {
    for (const within of WITHIN_METHODS) {
      for (const calibrate of [false, true]) {
        const name = ddinitInitialization(within, calibrate);
        expect(INITIALIZATIONS).toContain(name);
        expect(initializationPlan(name)).toEqual({ kind: 'ddinit', within, calibrate });
      }
    }
    expect(initializationPlan('orthogonal')).toEqual({ kind: 'data-free', method: 'orthogonal' });
    expect(initializationPlan('lsuv')).toEqual({ kind: 'lsuv' });
    expect(initializationPlan(DEFAULT_INITIALIZATION)).toEqual({ kind: 'ddinit', within: 'kmeans', calibrate: true });
  });
});
