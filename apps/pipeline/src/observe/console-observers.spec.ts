import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { boundedProgress, createConsoleObservers, createResultPrinter, createTerminalObservers, streamFormat } from './console-observers';

function terminal(): { stream: PassThrough; text: () => string } {
  const captured = capture();
  Object.assign(captured.stream, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return captured;
}

/** The bar lines as a person sees them: ANSI control sequences removed. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1B(?:\[[0-9;?]*[A-Za-z]|[78])/g, '');
}

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
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { time: '2026-01-01T00:00:00.000Z', type: 'log', level: 'warn', message: 'fell back', fields: { layer: 'fc8', rows: 160 } },
      { time: '2026-01-01T00:00:00.000Z', type: 'progress', task: 'within-layer', phase: 'advance', completed: 2, total: 8, item: 'conv2' },
    ]);
  });

  it('draws a progress bar per task and prints logs on a terminal', () => {
    const { stream, text } = terminal();
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

  it('shows a count without a total when the task does not know its length', () => {
    const { stream, text } = terminal();
    const observers = createTerminalObservers(stream, 'info');
    observers.progress({ task: 'kmeans', phase: 'start', completed: 0, item: 'conv2' });
    observers.progress({ task: 'kmeans', phase: 'advance', completed: 300, item: 'conv2' });
    observers.logger.info('flush');
    observers.close();
    const out = visible(text());
    expect(out).toMatch(/kmeans 300 conv2/);
    expect(out).not.toMatch(/300\/0/);
  });

  it('never draws more completed than total: an overrun total is dropped for a count', () => {
    const { stream, text } = terminal();
    const observers = createTerminalObservers(stream, 'info');
    observers.progress({ task: 'kmeans', phase: 'advance', completed: 99, total: 100, item: 'conv1' });
    observers.logger.info('first');
    observers.progress({ task: 'kmeans', phase: 'advance', completed: 320, total: 100, item: 'conv1' });
    observers.logger.info('second');
    observers.close();
    const out = visible(text());
    expect(out).toContain('99/100');
    expect(out).toMatch(/kmeans 320 conv1/);
    expect(out).not.toContain('320/100');
  });

  it('passes on a total in JSON progress only where it bounds completed', () => {
    expect(boundedProgress({ task: 't', phase: 'advance', completed: 3, total: 8 })).toEqual({ task: 't', phase: 'advance', completed: 3, total: 8 });
    expect(boundedProgress({ task: 't', phase: 'advance', completed: 320, total: 100 })).toEqual({ task: 't', phase: 'advance', completed: 320 });
    expect(boundedProgress({ task: 't', phase: 'end', completed: 300, total: 0 })).toEqual({ task: 't', phase: 'end', completed: 300 });
    const { stream, text } = capture();
    const observers = createConsoleObservers({ stream, format: 'json' });
    observers.progress({ task: 'kmeans', phase: 'advance', completed: 320, total: 100 });
    expect(JSON.parse(text())).not.toHaveProperty('total');
  });
});

describe('where output goes', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes logs and progress to stderr by default, never to stdout (stdout is for the result)', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const observers = createConsoleObservers({ format: 'json' });
    observers.logger.info('hello');
    observers.progress({ task: 'within-layer', phase: 'start', completed: 0, total: 8 });
    observers.close();
    expect(out).not.toHaveBeenCalled();
    expect(err.mock.calls.map(([line]) => JSON.parse(String(line)).type)).toEqual(['log', 'progress']);
  });

  it('decides pretty or JSON per stream: forced by the format, else by whether the stream is a terminal', () => {
    expect(streamFormat('auto', { isTTY: true })).toBe('pretty');
    expect(streamFormat('auto', {})).toBe('json');
    expect(streamFormat('json', { isTTY: true })).toBe('json');
    expect(streamFormat('pretty', {})).toBe('pretty');
  });

  it('prints the result as one JSON line for machines and as text for people', () => {
    const json = capture();
    createResultPrinter('auto', json.stream).print({ text: 'table\nrows\n', json: { out: 'file:///x' } });
    expect(json.text()).toBe('{"type":"result","out":"file:///x"}\n');
    const pretty = capture();
    Object.assign(pretty.stream, { isTTY: true });
    createResultPrinter('auto', pretty.stream).print({ text: 'table\nrows\n', json: { out: 'file:///x' } });
    expect(pretty.text()).toBe('table\nrows\n');
  });
});
