import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConsoleObservers, createTerminalObservers } from './console-observers';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('console observers', () => {
  it('writes JSON lines when the stream is not a TTY', () => {
    const { stream, text } = capture();
    const observers = createConsoleObservers({ stream, now: () => new Date('2026-01-01T00:00:00Z') });
    expect(observers.format).toBe('json');
    observers.logger.debug('hidden');
    observers.logger.warn('fell back', { layer: 'fc8', rows: 160 });
    observers.progress({ task: 'within-layer', phase: 'advance', completed: 2, total: 8, item: 'conv2' });
    observers.close();
    const lines = text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { time: '2026-01-01T00:00:00.000Z', type: 'log', level: 'warn', message: 'fell back', fields: { layer: 'fc8', rows: 160 } },
      { time: '2026-01-01T00:00:00.000Z', type: 'progress', task: 'within-layer', phase: 'advance', completed: 2, total: 8, item: 'conv2' },
    ]);
  });

  it('draws a progress bar per task and prints logs on a terminal', () => {
    const { stream, text } = capture();
    Object.assign(stream, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const observers = createTerminalObservers(stream, 'info');
    observers.progress({ task: 'within-layer', phase: 'start', completed: 0, total: 4 });
    observers.progress({ task: 'within-layer', phase: 'advance', completed: 4, total: 4, item: 'fc8' });
    observers.logger.info('done', { seconds: 1.5 });
    observers.close();
    const out = text();
    expect(out).toContain('within-layer');
    expect(out).toContain('4/4');
    expect(out).toContain('done  seconds=1.5');
  });
});
