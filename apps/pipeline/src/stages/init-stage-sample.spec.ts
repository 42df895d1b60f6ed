/**
 * End-to-end specs of the init sample through `ddinit init`: its size (derived from the
 * model, or set and checked), and the held-out check next to the in-sample statistics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticDataset } from '@ddinit/data/testing';
import { buildModel } from '@ddinit/models';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerInitCommand } from '../commands/init-command';
import { readModel } from '../model/load-model';
import { main } from '../main';
import { InitReportSchema, type InitReport } from '../report/report-schema';
import { STD_RATIO_LIMIT } from './held-out-check';
import { HELD_OUT_IMAGES, MIN_DEFAULT_SAMPLE, ROWS_PER_FILTER } from './sample-size';

let dir: string;

/** Runs `ddinit` in JSON mode; `stdout` holds the result, `logs` the log and progress lines, `stderr` the error message. */
async function ddinit(args: string[]): Promise<{ code: number; stdout: string; stderr: string; logs: string }> {
  let stdout = '';
  let stderr = '';
  let logs = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    const code = await main(
      [...args, '--log-format', 'json'],
      [
        (program) =>
          registerInitCommand(program, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (logs += text) }, env: {} }),
      ],
    );
    return { code, stdout, stderr, logs };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

const report = (out: string): InitReport => InitReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
const warnings = (logs: string): string[] =>
  logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; level?: string; message?: string })
    .filter((e) => e.type === 'log' && e.level === 'warn')
    .map((e) => e.message ?? '');

/** A narrow vgg-plain-11: conv5_* and fc1 have 32 filters at one position, so by default they grow to ROWS_PER_FILTER · 32 images. */
function smallVggConfig(extra: Record<string, unknown> = {}): string {
  const file = join(dir, `vgg-${Object.keys(extra).join('-') || 'default'}.json`);
  writeFileSync(
    file,
    JSON.stringify({ model: 'vgg-plain-11', modelOptions: { baseChannels: 4, headUnits: 32 }, calibrationBatch: 8, backend: 'wasm', ...extra }),
  );
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-sample-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the init sample of ddinit init', () => {
  it('defaults to the reference sample grown for the layers short of rows, and reports every layer on held-out images too', async () => {
    const out = join(dir, 'default');
    const run = await ddinit(['init', '--config', smallVggConfig(), '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = report(out);
    expect(r.data.sampleSize).toBe(MIN_DEFAULT_SAMPLE);
    expect(r.data.sampleRule).toBe(
      `from the model: ${MIN_DEFAULT_SAMPLE} images, grown to ${ROWS_PER_FILTER * 32} for ${ROWS_PER_FILTER} rows × 32 filters of conv5_1 at 1 position(s) per image`,
    );
    // One row per image at conv5_* and fc1: they draw from the grown images; conv1_1 has rows enough in the sample.
    for (const name of ['conv5_1', 'conv5_2', 'conv5_3', 'fc1']) {
      expect(
        r.layers.find((l) => l.name === name),
        name,
      ).toMatchObject({ fallback: null, rows: ROWS_PER_FILTER * 32, images: ROWS_PER_FILTER * 32 });
    }
    expect(r.layers.find((l) => l.name === 'conv1_1')).toMatchObject({ fallback: null, images: MIN_DEFAULT_SAMPLE });
    expect(r.heldOut).toMatchObject({ images: HELD_OUT_IMAGES, strayLayers: [] });
    // A fresh 10-class classifier: about ln 10 on images it has not seen.
    expect(r.heldOut?.loss).toBeGreaterThan(1.8);
    expect(r.heldOut?.loss).toBeLessThan(3.5);
    for (const l of r.layers) {
      expect(l.heldOutStrays, l.name).toBe(false);
      expect(Math.abs(Math.log((l.heldOutStd ?? Number.NaN) / (l.outStd ?? Number.NaN))), l.name).toBeLessThan(Math.log(STD_RATIO_LIMIT));
    }
    expect(warnings(run.logs).filter((m) => m.startsWith('held-out'))).toEqual([]);
  });

  it('a layer kept by a skip rule keeps the registry model’s seeded He-normal kernel (zeros are built only when every kernel is drawn anew)', async () => {
    const out = join(dir, 'skip');
    const config = smallVggConfig({ withinOptions: { layers: [{ match: 'conv1_1', skip: true }] }, init: 'ddinit-kmeans', seed: 3 });
    const run = await ddinit(['init', '--config', config, '--sample', '40', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const published = await readModel(join(out, 'model.json'));
    const shape = published.inputs[0].shape.slice(1) as [number, number, number];
    const classes = published.outputs[0].shape[1] as number;
    const built = buildModel('vgg-plain-11', { baseChannels: 4, headUnits: 32, seed: 3, inputShape: shape, numClasses: classes });
    const kernel = (m: typeof built, layer: string): number[] => Array.from(m.getLayer(layer).getWeights()[0].dataSync());
    expect(kernel(published, 'conv1_1')).toEqual(kernel(built, 'conv1_1'));
    expect(kernel(published, 'conv1_2').some((v) => v !== 0)).toBe(true);
    expect(kernel(published, 'conv1_2')).not.toEqual(kernel(built, 'conv1_2'));
    published.dispose();
    built.dispose();
  });

  it('warns, and flags the layers in report.json, when an explicit sample is too small for the model', async () => {
    const out = join(dir, 'small');
    const run = await ddinit(['init', '--config', smallVggConfig(), '--sample', '40', '--out', out]);
    expect(run.code).toBe(0);
    const r = report(out);
    expect(r.data).toMatchObject({ sampleSize: 40, sampleRule: 'set by sample (--sample)' });
    const stray = r.layers.filter((l) => l.heldOutStrays).map((l) => l.name);
    expect(stray.length).toBeGreaterThan(0);
    expect(r.heldOut?.strayLayers).toEqual(stray);
    expect(warnings(run.logs).find((m) => m.startsWith('held-out check'))).toMatch(
      /layer\(s\) behave differently on 256 images outside the sample: the sample is too small for them \(raise --sample\)/,
    );
  });

  it('bad sample sizes exit 2 naming the field; an unused calibration batch is not checked', async () => {
    const one = await ddinit(['init', '--sample', '1', '--out', join(dir, 'one')]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/must be at least 2 \(over one image every dense layer has std 0\)\n\s*→ at sample/);

    const noCalibrate = await ddinit(['init', '--config', smallVggConfig(), '--sample', '6', '--init', 'ddinit-orthogonal', '--out', join(dir, 'six')]);
    expect(noCalibrate.stderr).toBe('');
    expect(noCalibrate.code).toBe(0);
    expect(report(join(dir, 'six')).data.sampleSize).toBe(6);
  });

  it('a sample too large for the backend memory exits 2 with the size, before reading any image', async () => {
    const data = join(dir, 'large');
    await writeSyntheticDataset(data, { splits: { train: 10_500 }, height: 28, width: 28, channels: 1 });
    const run = await ddinit(['init', '--data', data, '--model', 'vgg-plain-11', '--backend', 'wasm', '--sample', '10000', '--out', join(dir, 'large-out')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /sample: a sample of 10000 images needs about \d+\.\d GiB of activations for model vgg-plain-11 \(\d+ KiB per image\), more than the 3\.0 GiB this backend can hold \(expected at most \d+ images, got 10000\)/,
    );
    expect(run.stdout).not.toMatch(/"task":"read sample"/);
    expect(existsSync(join(dir, 'large-out'))).toBe(false);
  });
});
