import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from './step-torch';
import { parseTorchTrainOutput, runTorchTrain, TORCH_TRAIN_SCRIPT } from './train-torch';
import { TRAIN_WORKLOADS } from './train-workloads';

const LINE = { workload: 'rotation-caffenet-small', images: 2, inputs: 8, stepMs: 4.25, cpuMs: 4.1, threads: 1, torch: '1.13.0', params: 1000 };

describe('parseTorchTrainOutput', () => {
  it('reads one result per JSON line', () => {
    expect(parseTorchTrainOutput(`${JSON.stringify(LINE)}\n\n`)).toEqual([LINE]);
  });

  it('names the script, the line and the field that is wrong', () => {
    expect(() => parseTorchTrainOutput('Traceback (most recent call last):')).toThrow('PyTorch train.py output line 1 is not JSON: Traceback');
    const { inputs: _, ...noInputs } = LINE;
    expect(() => parseTorchTrainOutput(JSON.stringify(noInputs))).toThrow(
      'PyTorch train.py output line 1: field "inputs" must be a positive integer, got nothing',
    );
    expect(() => parseTorchTrainOutput(JSON.stringify({ ...LINE, stepMs: 0 }))).toThrow('field "stepMs" must be a positive finite number, got 0');
  });

  it('ships the script', () => {
    expect(existsSync(TORCH_TRAIN_SCRIPT)).toBe(true);
  });
});

const torch = findTorchPython();

describe('tools/bench/torch/train.py', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it.skipIf(!torch.found)('mirrors every workload: 4 inputs per image for rotation, the tfjs pretext model’s parameter count', () => {
    if (!torch.found) return;
    for (const workload of TRAIN_WORKLOADS) {
      const outcome = runTorchTrain(torch.python, workload.name, 2, { repeats: 1, warmup: 0, seed: 1 });
      expect(outcome.kind).toBe('measured');
      if (outcome.kind !== 'measured') return;
      expect(outcome.result).toMatchObject({ workload: workload.name, images: 2, inputs: 2 * workload.inputsPerImage, torch: torch.version });
      const built = workload.build(1);
      expect(outcome.result.params).toBe(built.model.countParams());
      built.dispose();
    }
    expect(tf.memory().numTensors).toBe(0);
  });

  it.skipIf(!torch.found)('answers a workload it has no mirror of with a note, not an error', () => {
    if (!torch.found) return;
    expect(runTorchTrain(torch.python, 'jigsaw-caffenet', 2, { repeats: 1, warmup: 0, seed: 1 })).toEqual({
      kind: 'unmirrored',
      message: expect.stringContaining('unknown workload jigsaw-caffenet'),
    });
  });
});
