import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ddinit/core';
import { nameMatcher } from './resolve-layer-plans';
import { parseWithinLayerOptions } from './within-layer-options';

describe('withinLayerOptionsSchema', () => {
  it('fills in explicit defaults', () => {
    expect(parseWithinLayerOptions({})).toEqual({
      method: 'kmeans',
      beta: 0,
      seed: 0,
      layers: [],
      initializeFrom: null,
      fallback: { onTooFewRows: 'error', onDegenerate: 'error' },
      deadChannels: { policy: 'error', maxRedraws: 3, tolerance: 1e-5 },
      epsilon: 1e-3,
      minEigenvalue: 1e-6,
      maxPatchBytes: 32 * 1024 * 1024,
      maxPatchRows: 4096,
      kmeans: { algorithm: 'auto', maxIterations: 15, batchSize: 2048 },
      eigen: { method: 'auto', tolerance: 1e-2, maxIterations: 200, oversampling: null },
      residualRescale: false,
      batchNorm: 'calibrate',
    });
  });

  it('keeps a configured 0 and rejects unknown keys, nested too', () => {
    expect(parseWithinLayerOptions({ beta: 0, epsilon: 0 }).epsilon).toBe(0);
    expect(() => parseWithinLayerOptions({ fallback: { onTooFew: 'gaussian' } })).toThrow(ConfigError);
    expect(() => parseWithinLayerOptions({ fallback: { onTooFewRows: 'pca' } })).toThrow(/invalid within-layer options/);
  });

  it('matches layer names exactly, by glob or by /regex/', () => {
    expect(['conv1', 'conv10', 'fc6'].filter(nameMatcher('conv1'))).toEqual(['conv1']);
    expect(['conv1', 'conv10', 'fc6', 'block/conv'].filter(nameMatcher('conv*'))).toEqual(['conv1', 'conv10']);
    expect(['conv1', 'conv3', 'conv5'].filter(nameMatcher('/^conv[3-5]$/'))).toEqual(['conv3', 'conv5']);
    expect(() => nameMatcher('/(/')).toThrow(ConfigError);
  });
});
