/**
 * Data reading benchmark: throughput of reading a dataset into
 * Uint8 batches from local disk and from a loopback S3 server (s3rver), and
 * peak resident memory while streaming a 1×, 3× and 10× dataset (× = shards).
 *
 *   npx nx run bench:data                 # 64 MiB shards, 64×64×3 images, 3 runs each
 *   npx nx run bench:data -- --shard-mib 16 --reps 3
 *
 * Each measurement runs in its own child process (so its peak RSS is its
 * own) and reads two full epochs with shuffling, SHA-256 verification and
 * prefetch on, as training would: the first from a cold process, the second
 * warm. Prints one table; nothing is asserted.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset, writeDataset, type Example } from '@ddinit/data';
import { startS3rver, type S3rverHandle } from '@ddinit/data/testing';

const H = 64;
const W = 64;
const C = 3;

interface Measurement {
  location: string;
  verify: boolean;
  reuseBuffers: boolean;
  examples: number;
  bytes: number;
  /** Wall time of the first epoch (fresh process: buffers and JIT warming up), s. */
  seconds: number;
  /** Wall time of the second epoch (same process), s. */
  secondEpochSeconds: number;
  /** CPU time of the second epoch, whole process, s. */
  secondEpochCpuSeconds: number;
  /** CPU time of the first epoch, whole process (main thread, hash workers, I/O threads), s. */
  cpuSeconds: number;
  /** 1-minute load average of the machine when the run ended. */
  load: number;
  baselineRssMiB: number;
  peakRssMiB: number;
}

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Child: read one epoch of `location`, report throughput and peak RSS. */
async function measure(location: string, verify: boolean, reuseBuffers: boolean, endpoint: string | undefined): Promise<Measurement> {
  const store =
    endpoint === undefined ? {} : { store: { s3: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } } };
  const dataset = await openDataset(location, store);
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  let bytes = 0;
  let examples = 0;
  let checksum = 0;
  const epoch = async (index: number): Promise<number> => {
    const start = performance.now();
    for await (const batch of dataset.batches('train', { batchSize: 256, seed: 1, epoch: index, verify, reuseBuffers, ids: false })) {
      if (index === 0) {
        bytes += batch.images.byteLength;
        examples += batch.size;
      }
      checksum = (checksum + batch.images[batch.images.length - 1]) | 0; // touch the data
    }
    return (performance.now() - start) / 1000;
  };
  const cpuStart = process.cpuUsage();
  const seconds = await epoch(0);
  const cpu = process.cpuUsage(cpuStart);
  const cpuSecond = process.cpuUsage();
  const secondEpochSeconds = await epoch(1);
  const cpu2 = process.cpuUsage(cpuSecond);
  if (checksum === -1) process.stderr.write('unreachable\n');
  return {
    location,
    verify,
    reuseBuffers,
    examples,
    bytes,
    seconds,
    secondEpochSeconds,
    secondEpochCpuSeconds: (cpu2.user + cpu2.system) / 1e6,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    load: loadavg()[0],
    baselineRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function runChild(args: string[]): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], ['--child', ...args], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message) => resolve(message as Measurement));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`measurement ${args.join(' ')} exited with ${code}`))));
  });
}

function* examples(count: number): Generator<[string, Example]> {
  const image = new Uint8Array(H * W * C);
  for (let i = 0; i < count; i++) {
    // Varied content (not all zeros) so nothing along the way can shortcut.
    for (let j = 0; j < image.length; j += 61) image[j] = (i * 131 + j) & 255;
    yield ['train', { id: `img-${i}`, image: image.slice(), label: i % 10 }];
  }
}

async function write(location: string, shards: number, shardBytes: number, endpoint?: string): Promise<void> {
  const perShard = Math.floor((shardBytes * 0.97) / (H * W * C));
  await writeDataset(location, examples(perShard * shards), {
    name: `bench-${shards}x`,
    features: { image: { encoding: 'raw', height: H, width: W, channels: C }, label: 'class', classNames: Array.from({ length: 10 }, (_, k) => `c${k}`) },
    maxShardBytes: shardBytes,
    overwrite: true,
    ...(endpoint === undefined ? {} : { store: { s3: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } } }),
  });
}

const mb = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(0);

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const [location, verify, reuse, endpoint] = process.argv.slice(process.argv.indexOf('--child') + 1);
    const result = await measure(location, verify === 'verify', reuse === 'reuse', endpoint === '-' ? undefined : endpoint);
    if (process.send === undefined) throw new Error('--child runs under the benchmark (an IPC channel), not on its own');
    process.send(result, () => process.exit(0));
    return;
  }
  const shardMiB = argument('shard-mib', 64);
  const reps = argument('reps', 3);
  const shardBytes = shardMiB * 2 ** 20;
  const dir = await mkdtemp(join(tmpdir(), 'ddinit-bench-data-'));
  let s3: S3rverHandle | undefined;
  try {
    process.stdout.write(`writing datasets: 1× and 10× of ${shardMiB} MiB shards, ${H}×${W}×${C} images …\n`);
    await write(join(dir, 'x1'), 1, shardBytes);
    await write(join(dir, 'x3'), 3, shardBytes);
    await write(join(dir, 'x10'), 10, shardBytes);
    s3 = await startS3rver(['bench']);
    await write('s3://bench/x1', 1, shardBytes, s3.endpoint);
    await write('s3://bench/x3', 3, shardBytes, s3.endpoint);
    await write('s3://bench/x10', 10, shardBytes, s3.endpoint);

    const runs: [string, string, string, string, string][] = [
      ['local 10×', join(dir, 'x10'), 'verify', 'reuse', '-'],
      ['local 10×', join(dir, 'x10'), 'verify', 'fresh', '-'],
      ['local 10×', join(dir, 'x10'), 'noverify', 'reuse', '-'],
      ['s3 10×', 's3://bench/x10', 'verify', 'reuse', s3.endpoint],
      ['s3 10×', 's3://bench/x10', 'noverify', 'reuse', s3.endpoint],
      ['local 1×', join(dir, 'x1'), 'verify', 'reuse', '-'],
      ['local 3×', join(dir, 'x3'), 'verify', 'reuse', '-'],
      ['s3 1×', 's3://bench/x1', 'verify', 'reuse', s3.endpoint],
      ['s3 3×', 's3://bench/x3', 'verify', 'reuse', s3.endpoint],
    ];
    const lines = [
      '| dataset | verify | batch buffers | examples | GB per epoch | epoch 1 MB/s (each run) | best | epoch 2 MB/s (each run) | best | MB per CPU-s, epoch 1 / 2 | load avg | peak RSS MiB (baseline) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const [label, location, verify, reuse, endpoint] of runs) {
      const results: Measurement[] = [];
      for (let r = 0; r < reps; r++) results.push(await runChild([location, verify, reuse, endpoint]));
      const best = Math.max(...results.map((m) => m.bytes / 1e6 / m.seconds));
      const best2 = Math.max(...results.map((m) => m.bytes / 1e6 / m.secondEpochSeconds));
      const peak = Math.max(...results.map((m) => m.peakRssMiB));
      const baseline = Math.min(...results.map((m) => m.baselineRssMiB));
      const perCpu = results.map((m) => m.bytes / 1e6 / m.cpuSeconds);
      const perCpu2 = results.map((m) => m.bytes / 1e6 / m.secondEpochCpuSeconds);
      const loads = results.map((m) => m.load.toFixed(1)).join(', ');
      const line = `| ${label} | ${verify === 'verify' ? 'sha256' : 'off'} | ${reuse === 'reuse' ? 'reused' : 'fresh'} | ${results[0].examples} | ${(results[0].bytes / 1e9).toFixed(2)} | ${results.map((m) => mb(m.bytes, m.seconds)).join(', ')} | ${best.toFixed(0)} | ${results.map((m) => mb(m.bytes, m.secondEpochSeconds)).join(', ')} | ${best2.toFixed(0)} | ${Math.max(...perCpu).toFixed(0)} / ${Math.max(...perCpu2).toFixed(0)} | ${loads} | ${peak.toFixed(0)} (${baseline.toFixed(0)}) |`;
      lines.push(line);
      process.stdout.write(`${line}\n`);
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
