/**
 * Exit codes by cause: what a retry can change (1) against what it cannot (2: the input,
 * 3: a numerical failure the same configuration repeats). Jobs and Workflows rely on this
 * split (k8s/job-manifest.ts, k8s/workflow-manifest.ts).
 */
import { BackendError, ConfigError, DataError, NumericalError, ShapeError, StorageError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeError, exitCodeFor } from './exit-codes';
import { EXIT_BAD_INPUT, EXIT_CODES_NOT_RETRIED, EXIT_FAILURE, EXIT_NUMERICAL } from './exit-status';

describe('exitCodeFor', () => {
  it.each([
    ['ConfigError', new ConfigError('bad', { where: 'init.sample' }), EXIT_BAD_INPUT],
    ['DataError', new DataError('bad', { where: 'train-00000.arrow' }), EXIT_BAD_INPUT],
    ['ShapeError', new ShapeError('bad', { where: 'conv1' }), EXIT_BAD_INPUT],
    ['NumericalError', new NumericalError('the loss is not finite', { where: 'step 7' }), EXIT_NUMERICAL],
    ['StorageError', new StorageError('gone', { where: 's3://b/k' }), EXIT_FAILURE],
    ['BackendError', new BackendError('none', { where: 'wasm' }), EXIT_FAILURE],
    ['a plain Error', new Error('bug'), EXIT_FAILURE],
    ['a thrown string', 'bug', EXIT_FAILURE],
  ])('%s exits %i', (_name, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('a schema violation (ZodError) is bad input', () => {
    const parsed = z.object({ steps: z.number() }).safeParse({ steps: 'many' });
    expect(parsed.success).toBe(false);
    expect(exitCodeFor(parsed.error)).toBe(EXIT_BAD_INPUT);
  });

  it('the codes no scheduler retries are exactly bad input and numerical failures', () => {
    expect([...EXIT_CODES_NOT_RETRIED].sort()).toEqual([EXIT_BAD_INPUT, EXIT_NUMERICAL].sort());
    expect(EXIT_CODES_NOT_RETRIED).not.toContain(EXIT_FAILURE);
  });
});

describe('describeError', () => {
  it('says ddinit’s and plain errors as they are, and an unexpected class with a hint, or its stack under DDINIT_DEBUG=1', () => {
    const ours = new DataError('bad', { where: 'train-00000.arrow' });
    expect(describeError(ours, {})).toBe(ours.message);
    const bug = new RangeError('Set maximum size exceeded');
    expect(describeError(bug, {})).toBe('Set maximum size exceeded (DDINIT_DEBUG=1 prints where it was thrown)');
    expect(describeError(bug, { DDINIT_DEBUG: '1' })).toBe(bug.stack);
    expect(describeError(bug, { DDINIT_DEBUG: '1' })).toMatch(/^RangeError: Set maximum size exceeded\n\s+at /);
    expect(describeError(new Error('stopped on SIGTERM'), { DDINIT_DEBUG: '1' })).toBe('stopped on SIGTERM'); // thrown on purpose
    expect(describeError('bug', {})).toBe('bug');
  });
});
