import { describe, expect, it } from 'vitest';
import { formatJsonLines, formatLegend, formatRatio, formatRatios, formatStepTable, formatTorchNote, type StepRow } from './step-report';
import { WASM_KERNEL_VARIANTS } from './step-variants';

function row(backend: string, overrides: Partial<StepRow> = {}): StepRow {
  return {
    model: 'caffenet-small',
    batch: 32,
    backend,
    forwardMs: 40,
    stepMs: 120,
    tensorsBefore: 19,
    tensorsAfter: 19,
    torchForwardMs: 20,
    torchStepMs: 60,
    ...overrides,
  };
}

describe('formatRatio', () => {
  it('divides to two decimals with a × sign', () => {
    expect(formatRatio(120, 60)).toBe('2.00×');
    expect(formatRatio(1, 3)).toBe('0.33×');
    expect(formatRatio(2675.4, 1000)).toBe('2.68×');
  });

  it('prints a dash when there is nothing to divide by', () => {
    expect(formatRatio(120, null)).toBe('—');
  });
});

describe('formatJsonLines', () => {
  it('prints one JSON object per row with exactly the documented keys, in order', () => {
    const lines = formatJsonLines([row('wasm-baseline', { stepMs: 300 }), row('wasm')]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('{"network":"caffenet-small","backend":"wasm-baseline","batch":32,"forwardMs":40,"stepMs":300,"torchForwardMs":20,"torchStepMs":60}');
    expect(Object.keys(JSON.parse(lines[1]))).toEqual(['network', 'backend', 'batch', 'forwardMs', 'stepMs', 'torchForwardMs', 'torchStepMs']);
  });

  it('rounds milliseconds to 0.001 and keeps absent PyTorch figures as null', () => {
    const [line] = formatJsonLines([row('cpu', { forwardMs: 1200.0424999, stepMs: 55813.3591, torchForwardMs: null, torchStepMs: null })]);
    expect(JSON.parse(line)).toEqual({
      network: 'caffenet-small',
      backend: 'cpu',
      batch: 32,
      forwardMs: 1200.042,
      stepMs: 55813.359,
      torchForwardMs: null,
      torchStepMs: null,
    });
  });
});

describe('formatStepTable', () => {
  it('shows the PyTorch columns and the ratios to them, dashes when PyTorch is absent', () => {
    const text = formatStepTable([row('wasm'), row('cpu', { torchForwardMs: null, torchStepMs: null })]);
    const [header, , wasm, cpu] = text.split('\n');
    for (const column of ['torch forward ms', 'torch step ms', 'forward ÷ torch forward', 'step ÷ torch step']) expect(header).toContain(column);
    expect(wasm.split(/\s{2,}/)).toEqual(['caffenet-small', '32', 'wasm', '40', '120', '3.00×', '20', '60', '2.00×', '2.00×', '19→19']);
    expect(cpu.split(/\s{2,}/)).toEqual(['caffenet-small', '32', 'cpu', '40', '120', '3.00×', '—', '—', '—', '—', '19→19']);
  });
});

describe('formatTorchNote and formatLegend', () => {
  it('says PyTorch was not found, why, and how to install it', () => {
    const note = formatTorchNote({ mode: 'missing', reason: "/usr/bin/python3: ModuleNotFoundError: No module named 'torch'" });
    expect(note).toContain('PyTorch was not found');
    expect(note).toContain("No module named 'torch'");
    expect(note).toContain('apt-get install python3-torch');
    expect(note).toContain('DDINIT_TORCH_PYTHON');
  });

  it('names the torch version, the Python and the thread count when found, one line per note', () => {
    const note = formatTorchNote({ mode: 'found', python: '/usr/bin/python3', version: '1.13.0', threads: [2, 2], notes: ['resnet-small: no mirror'] });
    expect(note.split('\n')).toEqual([
      expect.stringMatching(/^torch: PyTorch 1\.13\.0 \(\/usr\/bin\/python3 .*\), 2 thread\(s\)/),
      'torch: resnet-small: no mirror',
    ]);
    expect(formatTorchNote({ mode: 'off' })).toBe('torch: not run (--torch off)');
  });

  it('explains every backend label present, from the variant list', () => {
    const lines = formatLegend([row('wasm'), row('cpu')], { mode: 'off' });
    const wasm = WASM_KERNEL_VARIANTS.find((v) => v.backend === 'wasm');
    expect(lines).toEqual([`wasm: ${wasm?.description}`, 'cpu: the tfjs cpu backend (plain JavaScript)', 'torch: not run (--torch off)']);
  });
});

describe('formatRatios', () => {
  it('compares each wasm kernel variant and cpu with the reference wasm row', () => {
    const lines = formatRatios([row('wasm-baseline', { forwardMs: 40, stepMs: 360 }), row('wasm'), row('cpu', { forwardMs: 4000, stepMs: 36000 })]);
    expect(lines).toEqual([
      'caffenet-small: training step wasm-baseline / wasm = 3.00× (step/forward 9.00× → 3.00×)',
      'caffenet-small: cpu / wasm = 100.0× forward, 300.0× training step',
    ]);
  });
});
