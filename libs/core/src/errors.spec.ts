import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, DdinitError, NumericalError, ShapeError, StorageError, isDdinitError } from './errors';

describe('error hierarchy', () => {
  it('names where, what was expected and what arrived', () => {
    const error = new ShapeError('kernel shape does not match the layer', {
      where: 'layer conv2',
      expected: [5, 5, 48, 256],
      actual: [5, 5, 96, 256],
    });
    expect(error.message).toBe('layer conv2: kernel shape does not match the layer (expected [5,5,48,256], got [5,5,96,256])');
    expect(error.kind).toBe('shape');
    expect(error.where).toBe('layer conv2');
    expect(error.expected).toEqual([5, 5, 48, 256]);
    expect(error).toBeInstanceOf(DdinitError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ShapeError');
  });

  it('keeps a cause and omits absent parts', () => {
    const cause = new Error('ENOENT');
    const error = new StorageError('cannot read object', { where: 's3://b/k', cause });
    expect(error.message).toBe('s3://b/k: cannot read object');
    expect(error.cause).toBe(cause);
  });

  it('distinguishes every kind', () => {
    const kinds = [new ConfigError('x'), new DataError('x'), new ShapeError('x'), new NumericalError('x'), new StorageError('x')].map((e) => e.kind);
    expect(kinds).toEqual(['config', 'data', 'shape', 'numerical', 'storage']);
    expect(isDdinitError(new DataError('x'))).toBe(true);
    expect(isDdinitError(new Error('x'))).toBe(false);
  });

  it('reports an expected value of undefined explicitly', () => {
    expect(new ConfigError('missing', { where: 'field seed', expected: 'an integer', actual: undefined }).message).toBe(
      'field seed: missing (expected an integer, got undefined)',
    );
  });
});
