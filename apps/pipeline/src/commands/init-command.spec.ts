/**
 * End-to-end specs of `ddinit init` on small but real runs: the embedded
 * Fashion-MNIST sample, caffenet-small, k-means + calibration.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3RVER_CREDENTIALS, startS3rver, writeSyntheticDataset, type S3rverHandle } from '@ddinit/data/testing';
import { defaultDatasetPath, openStore } from '@ddinit/data';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main';
import { INITIALIZATIONS } from '../config/initializations';
import { InitReportSchema } from '../report/report-schema';
import { openArtifactLocation } from '../store/open-artifact-location';
import { runRecordingImports } from '../testing/record-imports';
import { registerInitCommand } from './init-command';

const BIN = resolve(import.meta.dirname, '../../bin/ddinit.js');
const SMALL = ['--sample', '48', '--calibration-batch', '8', '--log-format', 'json'];
let dir: string;

interface Run {
  code: number;
  /** The command's stdout: the result only. */
  stdout: string;
  /** The command's stderr: logs and progress. */
  logs: string;
  /** What `main` printed for a thrown error. */
  stderr: string;
}

/** Every line of `text` parsed as JSON (a line that is not JSON fails the spec). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function ddinit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let logs = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args, [
      (program) =>
        registerInitCommand(program, {
          stdout: { write: (text: string) => (stdout += text) },
          stderr: { write: (text: string) => (logs += text) },
          env: { ...env },
        }),
    ]);
    return { code, stdout, logs, stderr };
  } finally {
    err.mockRestore();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-e2e-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ddinit init', () => {
  it('initializes caffenet-small on the embedded data, writes model and reports, skips an up-to-date rerun', async () => {
    const out = join(dir, 'run');
    const run = await ddinit(['init', '--out', out, ...SMALL]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['metadata.json', 'model.json', 'report.html', 'report.json', 'weights.bin']);
    const report = InitReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    expect(report.model).toBe('caffenet-small');
    expect(report.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8']);
    for (const layer of report.layers) {
      expect(Math.abs((layer.outStd ?? Number.NaN) - 1), layer.name).toBeLessThanOrEqual(1e-2);
      expect(layer.worstStdDeviation ?? Number.NaN, layer.name).toBeLessThanOrEqual(1e-2);
      expect(Math.abs(layer.outMean ?? Number.NaN), layer.name).toBeLessThanOrEqual(1e-2);
    }
    // fc6/fc7 have 256 units but only 48 rows: the pipeline's configured fallback, recorded.
    expect(report.layers.find((l) => l.name === 'fc6')?.fallback).toMatch(/too few patch rows \(48 < 256/);
    expect(report.calibration?.converged).toBe(true);
    expect(report.calibration?.maxLogDeviation).toBeLessThanOrEqual(0.01);
    const rates = report.layers.map((l) => l.changeRateAfter ?? Number.NaN);
    for (const r of rates) expect(Math.abs(Math.log(r) / Math.log(rates[0]) - 1)).toBeLessThan(0.02);
    // Without a terminal: stdout is the one result line; stderr is nothing but JSON log and progress lines.
    expect(jsonLines(run.stdout)).toEqual([expect.objectContaining({ type: 'result', out: `file://${out}`, report: 'report.json' })]);
    const logs = jsonLines(run.logs);
    expect(new Set(logs.map((l) => l.type))).toEqual(new Set(['log', 'progress']));
    expect(logs.some((l) => l.type === 'progress' && l.task === 'within-layer' && l.phase === 'end')).toBe(true);
    for (const p of logs.filter((l) => l.type === 'progress' && l.total !== undefined)) expect(p.completed as number).toBeLessThanOrEqual(p.total as number);
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    // 'wasm + native BLAS/LAPACK (n threads)' where the OpenBLAS addon is built (as in CI), else 'wasm'.
    expect(metadata).toMatchObject({
      stage: 'init',
      seed: 0,
      backend: expect.stringMatching(/^wasm( \+ native BLAS\/LAPACK \(\d+ threads\))?$/),
      configHash: report.configHash,
    });
    expect(report.backend).toBe(metadata.backend);

    const again = await ddinit(['init', '--out', out, ...SMALL]);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout)).toEqual([{ type: 'result', out: `file://${out}`, skipped: true }]);

    // For people: the per-layer table (or the up-to-date sentence) on stdout, and no JSON on either stream.
    const pretty = await ddinit(['init', '--out', out, ...SMALL, '--log-format', 'pretty']);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toBe(`up to date: file://${out} (config ${report.configHash.slice(0, 12)}; --force to redo)\n`);
    for (const line of `${pretty.stdout}${pretty.logs}`.split('\n')) expect(line.trimStart().startsWith('{')).toBe(false);
  });

  it('decides that a run is up to date without loading tfjs, Arrow, sharp or the AWS SDK (the built CLI)', async () => {
    const out = join(dir, 'imports');
    const args = ['init', '--out', out, '--init', 'ddinit-gaussian', ...SMALL];
    expect((await ddinit(args)).code).toBe(0);
    const engines = (packages: string[]) => packages.filter((p) => /^(@tensorflow\/|@aws-sdk\/|apache-arrow$|sharp$)/.test(p));

    const upToDate = await runRecordingImports(args);
    expect(upToDate.code, upToDate.stderr).toBe(0);
    expect(jsonLines(upToDate.stdout)).toEqual([{ type: 'result', out: `file://${out}`, skipped: true }]);
    expect(engines(upToDate.packages)).toEqual([]);
    expect(upToDate.packages).toContain('zod'); // the recording saw the configuration being parsed

    // The same recording sees tfjs once there is work to do (here the stage finds no dataset, exit 2).
    const work = await runRecordingImports(['init', '--data', join(dir, 'no-such-dataset'), '--out', join(dir, 'imports-none'), ...SMALL]);
    expect(work.code, work.stderr).toBe(2);
    expect(engines(work.packages)).toContain('@tensorflow/tfjs');
  });

  it('initializes from S3 data into S3 and reads a user model.json', async () => {
    let s3: S3rverHandle | undefined;
    try {
      s3 = await startS3rver(['data']);
      const env = {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      };
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const store = openStore('s3://data/fashion-mnist');
        const source = defaultDatasetPath();
        for (const name of readdirSync(source).filter((n) => n !== 'manifest.json')) await store.write(name, [readFileSync(join(source, name))]);
        await store.write('manifest.json', [readFileSync(join(source, 'manifest.json'))]);
        const run = await ddinit(['init', '--data', 's3://data/fashion-mnist', '--out', 's3://data/runs/a', '--init', 'ddinit-pca+calibration', ...SMALL], env);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const out = openArtifactLocation('s3://data/runs/a');
        expect((await out.readMetadata())?.files.map((f) => f.name).sort()).toEqual(['model.json', 'report.html', 'report.json', 'weights.bin']);
        const report = JSON.parse(new TextDecoder().decode(await out.readFile('report.json')));
        expect(report.data.source).toBe('s3://data/fashion-mnist');
        expect(report.within.method).toBe('pca');
        // The initialized model, read back from S3 as a user model, initializes again.
        const rerun = await ddinit(
          [
            'init',
            '--data',
            's3://data/fashion-mnist',
            '--model',
            's3://data/runs/a/model.json',
            '--out',
            join(dir, 'from-s3'),
            '--init',
            'ddinit-gaussian+calibration',
            ...SMALL,
          ],
          env,
        );
        expect(rerun.stderr).toBe('');
        expect(rerun.code).toBe(0);
      } finally {
        for (const key of Object.keys(env)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    } finally {
      await s3?.stop();
    }
  });

  it("redoes the run when the dataset was re-converted in place or an artifact file was damaged, and never publishes over a user's files", async () => {
    const data = join(dir, 'reconverted');
    const out = join(dir, 'on-reconverted');
    const args = ['init', '--data', data, '--out', out, '--init', 'ddinit-gaussian+calibration', ...SMALL];
    await writeSyntheticDataset(data, { splits: { train: 64 }, height: 28, width: 28, channels: 1 });
    expect((await ddinit(args)).code).toBe(0);
    const first = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).configHash;
    expect(JSON.parse((await ddinit(args)).stdout.trim())).toMatchObject({ skipped: true });
    // Same location, other content: a stale model must not be returned.
    await writeSyntheticDataset(data, { splits: { train: 96 }, height: 28, width: 28, channels: 1, overwrite: true });
    const redone = await ddinit(args);
    expect(redone.code).toBe(0);
    expect(redone.stdout).not.toMatch(/"skipped":true/);
    expect(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).configHash).not.toBe(first);
    // A truncated weights.bin is not "up to date".
    truncateSync(join(out, 'weights.bin'), 10);
    const repaired = await ddinit(args);
    expect(repaired.stdout).not.toMatch(/"skipped":true/);
    expect(statSync(join(out, 'weights.bin')).size).toBeGreaterThan(10);
    // A directory of the user's: exit 2 naming it, nothing written or removed.
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'thesis.tex'), 'years of work');
    const refused = await ddinit(['init', '--data', data, '--out', mine, '--init', 'ddinit-gaussian+calibration', ...SMALL]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${mine}: the output directory holds files ddinit did not write`);
    expect(readdirSync(mine)).toEqual(['thesis.tex']);
  });

  it('leaves no partial artifact when killed mid-way, and the rerun completes', async () => {
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, 'init', '--out', out, ...SMALL], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolveKill, reject) => {
      const timer = setTimeout(() => reject(new Error('no within-layer progress within 120 s')), 120_000);
      let buffer = '';
      // Progress is on stderr; stdout waits for the result.
      child.stderr.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        if (/"task":"within-layer".*"item":"conv3"/.test(buffer)) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolveKill();
        }
      });
      child.on('exit', () => reject(new Error(`exited before it could be killed: ${buffer}`)));
    });
    await new Promise((r) => child.once('close', r));
    expect(existsSync(out)).toBe(false);
    const rerun = await ddinit(['init', '--out', out, ...SMALL]);
    expect(rerun.code).toBe(0);
    expect(existsSync(join(out, 'metadata.json'))).toBe(true);
  });

  it('exits 2 naming the problem for a missing dataset, a corrupt shard, an unknown model and bad YAML', async () => {
    const missing = await ddinit(['init', '--data', join(dir, 'no-such-dataset'), '--out', join(dir, 'x'), ...SMALL]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-dataset.*manifest\.json/);

    const corrupt = join(dir, 'corrupt');
    cpSync(defaultDatasetPath(), corrupt, { recursive: true });
    const shard = join(corrupt, 'train-00000.arrow');
    const bytes = readFileSync(shard);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(shard, bytes);
    const bad = await ddinit(['init', '--data', corrupt, '--out', join(dir, 'y'), ...SMALL]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/train-00000\.arrow/);

    const unknown = await ddinit(['init', '--model', 'alexnet', '--out', join(dir, 'z'), ...SMALL]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown model.*got alexnet/);

    const yaml = join(dir, 'bad.yaml');
    writeFileSync(yaml, 'model: [caffenet\n');
    const badYaml = await ddinit(['init', '--config', yaml]);
    expect(badYaml.code).toBe(2);
    expect(badYaml.stderr).toMatch(/bad\.yaml: the config file does not parse/);

    // An unknown name: exit 2 with the list of names.
    const badValue = await ddinit(['init', '--init', 'ddinit-kmeanz']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain(INITIALIZATIONS.join(', '));
    // The removed flags: exit 2 naming the equivalent --init.
    const removed = await ddinit(['init', '--within', 'pca', '--no-calibrate']);
    expect(removed.code).toBe(2);
    expect(removed.stderr).toMatch(
      /within, calibrate \(the command-line flags\): within and calibrate were replaced by one key, init .*expected init: ddinit-pca, got within: pca, calibrate: false/,
    );
    const removedEnv = await ddinit(['init'], { DDINIT_WITHIN: 'zca' });
    expect(removedEnv.code).toBe(2);
    expect(removedEnv.stderr).toMatch(/DDINIT_WITHIN.*expected init: ddinit-zca\+calibration/);
    const badNumber = await ddinit(['init', '--sample', 'abc']);
    expect(badNumber.code).toBe(2);
    for (const out of ['x', 'y', 'z']) expect(existsSync(join(dir, out))).toBe(false);
  });
});
