import { ConfigError, DataError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { topKAccuracy } from './top-k-accuracy';

describe('top-k accuracy', () => {
  it('counts an example as a hit when its true class is among the k highest scores', () => {
    const scores = [0.1, 0.7, 0.2, 0.5, 0.3, 0.2]; // example 0: truth 2 ranks second; example 1: truth 0 ranks first
    expect(topKAccuracy(scores, [2, 0], 3, 1)).toBeCloseTo(0.5, 12);
    expect(topKAccuracy(scores, [2, 0], 3, 2)).toBeCloseTo(1, 12);
    expect(topKAccuracy(scores, [2, 0], 3, 3)).toBe(1);
  });

  it('ranks tied scores by class index, the higher index first (as scikit-learn does)', () => {
    const scores = [0.5, 0.5, 0];
    expect(topKAccuracy(scores, [0], 3, 1)).toBe(0); // class 1 ties with class 0 and ranks before it
    expect(topKAccuracy(scores, [1], 3, 1)).toBe(1);
    expect(topKAccuracy(scores, [0], 3, 2)).toBe(1);
  });

  it('refuses a k outside 1…classes, scores of the wrong length and labels out of range', () => {
    expect(() => topKAccuracy([0, 1], [1], 2, 3)).toThrow(ConfigError);
    expect(() => topKAccuracy([0, 1, 2], [1], 2, 1)).toThrow(/scores \(n × classes\): the inputs disagree in length \(expected 2 values, got 3\)/);
    expect(() => topKAccuracy([0, 1], [2], 2, 1)).toThrow(/truth\[0\]: a class index is out of range \(expected an integer in \[0, 2\), got 2\)/);
    expect(() => topKAccuracy([0, Number.NaN], [1], 2, 1)).toThrow(DataError);
    expect(() => topKAccuracy([], [], 2, 1)).toThrow(DataError);
  });
});
