import { describe, expect, it } from 'vitest';
import { parseStepOptions, type StepBenchOptions } from './step-options';
import { WASM_KERNEL_VARIANTS } from './step-variants';

function parse(argv: string[]): StepBenchOptions {
  const options = parseStepOptions(argv);
  if (options === 'help') throw new Error('unexpected help');
  return options;
}

describe('parseStepOptions', () => {
  it('defaults to every wasm kernel variant and PyTorch when found', () => {
    const options = parse([]);
    expect(options.kernels).toEqual(WASM_KERNEL_VARIANTS.map((v) => v.name));
    expect(options.torch).toBe('auto');
    expect(options.torchThreads).toBeUndefined();
    expect(options.batch).toEqual({ caffenet: 16, 'caffenet-small': 32 });
  });

  it('takes --kernels both, all or a list, in the variant list order', () => {
    expect(parse(['--kernels', 'both']).kernels).toEqual(['baseline', 'ddinit']);
    expect(parse(['--kernels', 'ddinit']).kernels).toEqual(['ddinit']);
    expect(parse(['--kernels', 'ddinit,baseline']).kernels).toEqual(['baseline', 'ddinit']);
    expect(() => parse(['--kernels', 'ddinit,fast'])).toThrow(
      '--kernels: unknown wasm kernel variant (expected all, both or a comma list of baseline, ddinit, native, got fast)',
    );
  });

  it('takes --torch auto|off and --torch-threads', () => {
    expect(parse(['--torch', 'off']).torch).toBe('off');
    expect(parse(['--torch', 'auto', '--torch-threads', '1']).torchThreads).toBe(1);
    expect(() => parse(['--torch', 'yes'])).toThrow('--torch: unknown PyTorch mode (expected auto or off, got yes)');
    expect(() => parse(['--torch-threads', '0'])).toThrow('--torch-threads');
  });
});
