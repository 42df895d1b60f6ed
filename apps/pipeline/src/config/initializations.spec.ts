import { describe, expect, it } from 'vitest';
import { BASELINE_METHODS, WITHIN_METHODS } from '@ddinit/init-within-layer/options';
import {
  DATA_FREE_INITIALIZATIONS,
  DEFAULT_INITIALIZATION,
  INITIALIZATIONS,
  ddinitInitialization,
  initializationPlan,
  usesCalibrationBatch,
} from './initializations';

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

  it('the data-free names are the within-layer library baselines, so init and pretrain --baseline draw the same weights', () => {
    expect(DATA_FREE_INITIALIZATIONS).toEqual(BASELINE_METHODS);
    expect(DATA_FREE_INITIALIZATIONS).toEqual(['glorot-uniform', 'he-normal', 'gaussian-0.01', 'orthogonal']);
  });

  it('only lsuv and the calibrated ddinit names use the calibration batch', () => {
    expect(INITIALIZATIONS.filter((name) => usesCalibrationBatch(initializationPlan(name)))).toEqual([
      'lsuv',
      ...INITIALIZATIONS.filter((name) => name.endsWith('+calibration')),
    ]);
  });
});
