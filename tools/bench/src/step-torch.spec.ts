import { existsSync } from 'node:fs';
import { buildModel } from '@ddinit/models';
import { describe, expect, it } from 'vitest';
import { findTorchPython, parseTorchOutput, runTorchStep, TORCH_SCRIPT, torchPythonCandidates } from './step-torch';

const LINE = { network: 'caffenet-small', batch: 2, forwardMs: 1.5, stepMs: 4.25, threads: 2, torch: '1.13.0', params: 285322 };

describe('parseTorchOutput', () => {
  it('reads one result per JSON line, skipping blank lines', () => {
    const stdout = `${JSON.stringify(LINE)}\n\n${JSON.stringify({ ...LINE, network: 'vgg-plain-11', batch: 32 })}\n`;
    expect(parseTorchOutput(stdout)).toEqual([LINE, { ...LINE, network: 'vgg-plain-11', batch: 32 }]);
    expect(parseTorchOutput('')).toEqual([]);
  });

  it('names the line of output that is not JSON', () => {
    expect(() => parseTorchOutput(`${JSON.stringify(LINE)}\nTraceback (most recent call last):`)).toThrow(
      'PyTorch step.py output line 2 is not JSON: Traceback (most recent call last):',
    );
    expect(() => parseTorchOutput('[1, 2]')).toThrow('PyTorch step.py output line 1 is not a JSON object');
  });

  it('names the field that is missing or malformed', () => {
    const { stepMs: _, ...noStep } = LINE;
    expect(() => parseTorchOutput(JSON.stringify(noStep))).toThrow(
      'PyTorch step.py output line 1: field "stepMs" must be a positive finite number, got nothing',
    );
    expect(() => parseTorchOutput(JSON.stringify({ ...LINE, forwardMs: '12' }))).toThrow('field "forwardMs" must be a positive finite number, got "12"');
    expect(() => parseTorchOutput(JSON.stringify({ ...LINE, forwardMs: -1 }))).toThrow('field "forwardMs" must be a positive finite number, got -1');
    expect(() => parseTorchOutput(JSON.stringify({ ...LINE, batch: 2.5 }))).toThrow('field "batch" must be a positive integer, got 2.5');
    expect(() => parseTorchOutput(JSON.stringify({ ...LINE, network: '' }))).toThrow('field "network" must be a non-empty string, got ""');
  });
});

describe('finding PyTorch', () => {
  it('takes $DDINIT_TORCH_PYTHON alone when set, else /usr/bin/python3 then python3', () => {
    expect(torchPythonCandidates({ DDINIT_TORCH_PYTHON: '/opt/venv/bin/python' })).toEqual(['/opt/venv/bin/python']);
    expect(torchPythonCandidates({})).toEqual(['/usr/bin/python3', 'python3']);
    expect(torchPythonCandidates({ DDINIT_TORCH_PYTHON: '' })).toEqual(['/usr/bin/python3', 'python3']);
  });

  it('reports why a candidate does not do', () => {
    const found = findTorchPython(['/nonexistent/python3']);
    expect(found).toEqual({ found: false, reason: expect.stringContaining('/nonexistent/python3: ') });
  });

  it('ships the script', () => {
    expect(existsSync(TORCH_SCRIPT)).toBe(true);
  });
});

const torch = findTorchPython();

describe('tools/bench/torch/step.py', () => {
  it.skipIf(!torch.found)('times caffenet-small at batch 2, with the tfjs model’s parameter count', () => {
    if (!torch.found) return;
    const outcome = runTorchStep(torch.python, 'caffenet-small', 2, { repeats: 1, warmup: 0, seed: 1 });
    expect(outcome.kind).toBe('measured');
    if (outcome.kind !== 'measured') return;
    const { result } = outcome;
    expect(result).toMatchObject({ network: 'caffenet-small', batch: 2, torch: torch.version });
    for (const value of [result.forwardMs, result.stepMs, result.threads]) {
      expect(Number.isFinite(value) && value > 0).toBe(true);
    }
    const model = buildModel('caffenet-small');
    expect(result.params).toBe(model.countParams());
    model.dispose();
  });

  it.skipIf(!torch.found)('answers a network it has no mirror of with a note, not an error', () => {
    if (!torch.found) return;
    const outcome = runTorchStep(torch.python, 'resnet-small', 2, { repeats: 1, warmup: 0, seed: 1 });
    expect(outcome).toEqual({ kind: 'unmirrored', message: expect.stringContaining('unknown network resnet-small') });
  });
});
