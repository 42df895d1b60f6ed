/**
 * Specs of `ddinit data convert` and `ddinit data inspect` through `main`, on
 * fixtures written here (IDX, CIFAR-10, an image folder) and on the embedded
 * Fashion-MNIST sample.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, defaultDatasetPath, encodePng, openDataset, type DatasetReport } from '@ddinit/data';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main';
import { parseByteSize, parseSize, registerDataCommand } from './data-command';

let dir: string;

interface Run {
  code: number;
  stdout: string;
  /** The command's stderr stream (progress bars, JSON progress of inspect, commander's errors). */
  stderr: string;
  /** What `main` printed for a thrown error. */
  error: string;
}

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

async function ddinit(args: string[]): Promise<Run> {
  const stdout = sink();
  const stderr = sink();
  let error = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    error += String(chunk);
    return true;
  });
  try {
    const code = await main(args, [(program) => registerDataCommand(program, { stdout, stderr })]);
    return { code, stdout: stdout.text, stderr: stderr.text, error };
  } finally {
    spy.mockRestore();
  }
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function inspectJson(location: string, verify = true): Promise<DatasetReport> {
  const run = await ddinit(['data', 'inspect', location, '--json', ...(verify ? ['--verify'] : [])]);
  expect(run.error).toBe('');
  expect(run.code).toBe(0);
  // One JSON object on stdout; progress (JSON lines, not a TTY) went to stderr.
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(run.stdout) as DatasetReport;
}

/** An unsigned-byte IDX array. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, data]);
}

/** A tiny MNIST-like set: `n` 6×5 images, label i mod 4; train gzipped, test raw. */
function writeIdxFixture(root: string, n: number): void {
  mkdirSync(root, { recursive: true });
  const images = Uint8Array.from({ length: n * 30 }, (_, i) => (i * 7) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 4);
  writeFileSync(join(root, 'train-images.gz'), gzipSync(idx([n, 6, 5], images)));
  writeFileSync(join(root, 'train-labels.gz'), gzipSync(idx([n], labels)));
  writeFileSync(join(root, 'test-images'), idx([4, 6, 5], images.subarray(0, 4 * 30)));
  writeFileSync(join(root, 'test-labels'), idx([4], labels.subarray(0, 4)));
}

function idxArgs(root: string): string[] {
  return [
    '--train-images',
    join(root, 'train-images.gz'),
    '--train-labels',
    join(root, 'train-labels.gz'),
    '--test-images',
    join(root, 'test-images'),
    '--test-labels',
    join(root, 'test-labels'),
  ];
}

/** CIFAR-10 binary files with 3 records per batch file; record r of file f has label (f + r) mod 10. */
function writeCifarFixture(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'batches.meta.txt'), `${['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'].join('\n')}\n\n`);
  const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  files.forEach((name, f) => {
    const bytes = new Uint8Array(3 * 3073);
    for (let r = 0; r < 3; r++) {
      bytes[r * 3073] = (f + r) % 10;
      for (let p = 1; p < 3073; p++) bytes[r * 3073 + p] = (p + r + f) % 256;
    }
    writeFileSync(join(root, name), bytes);
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-data-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ddinit data convert idx, then inspect', () => {
  it('converts gzipped and raw IDX files with per-class limits and class names; inspect --verify counts them', async () => {
    const source = join(dir, 'idx-src');
    writeIdxFixture(source, 20);
    const out = join(dir, 'idx-out');
    const run = await ddinit([
      'data',
      'convert',
      'idx',
      ...idxArgs(source),
      '--class-names',
      'zero,one,two,three',
      '--per-class-train',
      '4',
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    // stdout: the one result line; stderr: JSON log and progress lines only.
    const lines = jsonLines(run.stdout);
    expect(lines).toHaveLength(1);
    const logs = jsonLines(run.stderr);
    expect(logs.every((l) => l.type === 'log' || l.type === 'progress')).toBe(true);
    expect(logs.filter((l) => l.type === 'progress' && l.task === 'convert idx').map((l) => l.phase)).toEqual(['start', 'end']);
    expect(lines[0]).toEqual({
      type: 'result',
      format: 'idx',
      out: `file://${out}`,
      name: 'idx-out',
      examples: 20,
      splits: { train: { examples: 16, shards: 1 }, test: { examples: 4, shards: 1 } },
      classes: 4,
    });

    const report = await inspectJson(out);
    expect(report.verified).toBe(true);
    expect(report.features.classNames).toEqual(['zero', 'one', 'two', 'three']);
    expect(report.features.image).toMatchObject({ encoding: 'raw', height: 6, width: 5, channels: 1 });
    // Splits are listed in name order.
    expect(report.splits.map((s) => [s.name, s.examples, s.labelCounts])).toEqual([
      ['test', 4, [1, 1, 1, 1]],
      ['train', 16, [4, 4, 4, 4]],
    ]);
    // Pixels arrive as written: train example 5 is the sixth image of the file.
    const examples = [];
    for await (const e of (await openDataset(out)).examples('train', { shuffle: false })) examples.push(e);
    expect(Array.from(examples[5].image)).toEqual(Array.from({ length: 30 }, (_, j) => ((5 * 30 + j) * 7) % 256));

    const text = await ddinit(['data', 'inspect', out, '--verify', '--log-format', 'json']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`idx-out at file://${out}`);
    expect(text.stdout).toContain('6×5×1 raw; labels: class (4 classes)');
    expect(text.stdout).toContain('every shard verified');
    expect(text.stdout).toMatch(/train: 16 examples in 1 shard\(s\)/);
    expect(text.stdout).toContain('per class: zero=4, one=4, two=4, three=4');
    expect(jsonLines(text.stderr).some((l) => l.type === 'progress' && l.task === 'verify shards' && l.phase === 'end')).toBe(true);
  });

  it('refuses to overwrite a dataset without --overwrite (exit 2), replaces it with --overwrite and splits shards by --max-shard-bytes', async () => {
    const source = join(dir, 'idx-big');
    const n = 2400; // 72 000 pixel bytes in train: more than one 64 KiB shard
    writeIdxFixture(source, n);
    const out = join(dir, 'idx-big-out');
    const first = await ddinit(['data', 'convert', 'idx', ...idxArgs(source), '--class-names', 'a,b,c,d', '--out', out, '--log-format', 'json']);
    expect(first.code).toBe(0);
    const again = await ddinit(['data', 'convert', 'idx', ...idxArgs(source), '--class-names', 'a,b,c,d', '--out', out, '--log-format', 'json']);
    expect(again.code).toBe(2);
    expect(again.error).toContain(`${join(out, 'manifest.json')}: a dataset already exists at the output (--overwrite replaces it)`);
    const replaced = await ddinit([
      'data',
      'convert',
      'idx',
      ...idxArgs(source),
      '--class-names',
      'a,b,c,d',
      '--name',
      'big',
      '--max-shard-bytes',
      '64KiB',
      '--overwrite',
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    expect(replaced.error).toBe('');
    expect(replaced.code).toBe(0);
    const report = await inspectJson(out);
    expect(report.name).toBe('big');
    const train = report.splits.find((s) => s.name === 'train');
    expect(train?.examples).toBe(n);
    expect(train?.shards.length).toBeGreaterThan(1);
    for (const shard of train?.shards ?? []) expect(shard.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(train?.labelCounts).toEqual([600, 600, 600, 600]);
  });

  it('exits 2 naming the file for a truncated IDX file, a missing one, a label beyond the class names and half a split', async () => {
    const source = join(dir, 'idx-bad');
    writeIdxFixture(source, 8);
    const truncated = join(source, 'truncated-images');
    writeFileSync(truncated, idx([8, 6, 5], new Uint8Array(8 * 30)).subarray(0, 100));
    const out = join(dir, 'idx-bad-out');
    const convert = (...args: string[]) => ddinit(['data', 'convert', 'idx', '--out', out, '--log-format', 'json', ...args]);

    const bad = await convert('--train-images', truncated, '--train-labels', join(source, 'train-labels.gz'));
    expect(bad.code).toBe(2);
    expect(bad.error).toContain(`ddinit: ${truncated}: IDX data size does not match its header (truncated?)`);

    const missing = join(source, 'no-such-images.gz');
    const gone = await convert('--train-images', missing, '--train-labels', join(source, 'train-labels.gz'));
    expect(gone.code).toBe(2);
    expect(gone.error).toContain(`ddinit: ${missing}: input does not exist`);

    const labels = await convert('--train-images', join(source, 'train-images.gz'), '--train-labels', join(source, 'train-labels.gz'), '--class-names', 'a,b');
    expect(labels.code).toBe(2);
    expect(labels.error).toContain(`${join(source, 'train-images.gz')} example 2: label out of range (expected < 2, got 2)`);

    const half = await convert('--train-images', join(source, 'train-images.gz'));
    expect(half.code).toBe(2);
    expect(half.error).toContain('--train-labels: --train-images and --train-labels go together');

    const none = await convert();
    expect(none.code).toBe(2);
    expect(none.error).toContain('no IDX files given');
    // Nothing was published by the failed runs.
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });
});

describe('ddinit data convert: other formats', () => {
  it('converts CIFAR-10 binary batches (pretty output) and inspect counts the classes', async () => {
    const source = join(dir, 'cifar-10-batches-bin');
    writeCifarFixture(source);
    const out = join(dir, 'cifar-out');
    const run = await ddinit(['data', 'convert', 'cifar10', '--source', source, '--out', out, '--log-format', 'pretty']);
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`converted cifar10 → file://${out}: cifar10, 18 examples; test 3 (1 shard), train 15 (1 shard); 10 classes\n`);
    expect(run.stderr).toContain('convert cifar'); // the progress bar

    const report = await inspectJson(out);
    expect(report.features.image).toMatchObject({ encoding: 'raw', height: 32, width: 32, channels: 3 });
    expect(report.features.classNames.slice(0, 3)).toEqual(['airplane', 'automobile', 'bird']);
    const counts = (name: string) => report.splits.find((s) => s.name === name)?.labelCounts;
    // train: files f = 0..4, records r = 0..2, label f + r → labels 0..6 with counts 1,2,3,3,3,2,1.
    expect(counts('train')).toEqual([1, 2, 3, 3, 3, 2, 1, 0, 0, 0]);
    expect(counts('test')).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 0, 0]);
  });

  it('exits 2 naming the CIFAR file that is not a whole number of records, and a missing source directory', async () => {
    const source = join(dir, 'cifar-bad');
    writeCifarFixture(source);
    writeFileSync(join(source, 'data_batch_3.bin'), new Uint8Array(3073 + 10));
    const run = await ddinit(['data', 'convert', 'cifar10', '--source', source, '--out', join(dir, 'cifar-bad-out'), '--log-format', 'json']);
    expect(run.code).toBe(2);
    expect(run.error).toContain(`${join(source, 'data_batch_3.bin')}: file size is not a whole number of CIFAR records`);

    const missing = join(dir, 'no-cifar-here');
    const gone = await ddinit(['data', 'convert', 'cifar10', '--source', missing, '--out', join(dir, 'cifar-gone-out'), '--log-format', 'json']);
    expect(gone.code).toBe(2);
    expect(gone.error).toContain(`${join(missing, 'batches.meta.txt')}: input does not exist`);
  });

  it('converts an image folder resized to --size with 1 channel; a split with other classes is exit 2', async () => {
    const root = join(dir, 'shapes');
    for (const split of ['train', 'val']) {
      for (const [k, cls] of ['circle', 'square'].entries()) {
        mkdirSync(join(root, split, cls), { recursive: true });
        for (let i = 0; i < (split === 'train' ? 3 : 1); i++) {
          const data = new Uint8Array(10 * 12 * 3).fill(40 + 100 * k + i);
          writeFileSync(join(root, split, cls, `${i}.png`), await encodePng({ data, height: 10, width: 12, channels: 3 }));
        }
      }
    }
    const out = join(dir, 'shapes-out');
    const run = await ddinit([
      'data',
      'convert',
      'image-folder',
      '--split',
      `train=${join(root, 'train')}`,
      '--split',
      `val=${join(root, 'val')}`,
      '--size',
      '4x6',
      '--channels',
      '1',
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).at(-1)).toMatchObject({ type: 'result', name: 'shapes-out', examples: 8, classes: 2 });
    const report = await inspectJson(out);
    expect(report.features.image).toMatchObject({ encoding: 'raw', height: 4, width: 6, channels: 1 });
    expect(report.features.classNames).toEqual(['circle', 'square']);
    expect(report.splits.map((s) => [s.name, s.labelCounts])).toEqual([
      ['train', [3, 3]],
      ['val', [1, 1]],
    ]);

    mkdirSync(join(root, 'odd', 'triangle'), { recursive: true });
    const odd = await ddinit([
      'data',
      'convert',
      'image-folder',
      '--split',
      `train=${join(root, 'train')}`,
      '--split',
      `odd=${join(root, 'odd')}`,
      '--out',
      join(dir, 'odd-out'),
      '--log-format',
      'json',
    ]);
    expect(odd.code).toBe(2);
    expect(odd.error).toContain(`${join(root, 'odd')}: split 'odd' has other classes than split 'train'`);
  });

  it.skipIf(!existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')))(
    "converts Debian's Fashion-MNIST by default (first 2 + 1 per class)",
    async () => {
      const out = join(dir, 'fashion');
      const run = await ddinit(['data', 'convert', 'fashion-mnist', '--per-class-train', '2', '--per-class-test', '1', '--out', out, '--log-format', 'json']);
      expect(run.error).toBe('');
      expect(run.code).toBe(0);
      expect(jsonLines(run.stdout).at(-1)).toMatchObject({ name: 'fashion-mnist', examples: 30, splits: { train: { examples: 20 }, test: { examples: 10 } } });
      const report = await inspectJson(out);
      expect(report.features.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    },
  );

  it('exits 2 naming the file when the Fashion-MNIST source is missing', async () => {
    const source = join(dir, 'no-fashion');
    const run = await ddinit(['data', 'convert', 'fashion-mnist', '--source', source, '--out', join(dir, 'fashion-none'), '--log-format', 'json']);
    expect(run.code).toBe(2);
    expect(run.error).toContain(`${join(source, 'train-images-idx3-ubyte.gz')}: input does not exist`);
  });

  it('exits 2 naming the image set of a VOC root that lacks it', async () => {
    const root = join(dir, 'VOC2012');
    mkdirSync(join(root, 'ImageSets', 'Segmentation'), { recursive: true });
    const run = await ddinit([
      'data',
      'convert',
      'voc',
      '--root',
      root,
      '--task',
      'segmentation',
      '--splits',
      'train',
      '--out',
      join(dir, 'voc-out'),
      '--log-format',
      'json',
    ]);
    expect(run.code).toBe(2);
    expect(run.error).toContain(`${join(root, 'ImageSets', 'Segmentation', 'train.txt')}: input does not exist`);
  });
});

describe('ddinit data compose', () => {
  it('composes scenes from the embedded sample by default: multi-hot labels, masks and boxes, seed and flags in the manifest', async () => {
    const out = join(dir, 'composed');
    const args = ['data', 'compose', '--examples', 'train=24', '--examples', 'test=8', '--seed', '4', '--max-items', '2', '--log-format', 'json'];
    const run = await ddinit([...args, '--out', out]);
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).at(-1)).toMatchObject({ format: 'compose', name: 'composed-scenes', examples: 32, classes: 11 });
    // Progress per split on stderr (JSON lines: not a terminal).
    expect(jsonLines(run.stderr).filter((l) => l.type === 'progress' && l.phase === 'end' && l.task === 'compose train')).toHaveLength(1);
    const report = await inspectJson(out);
    expect(report.features).toMatchObject({ label: 'multi', mask: 'raw', boxes: 'xyxy', image: { height: 64, width: 64, channels: 1 } });
    expect(report.builder).toMatchObject({ name: 'composeScenes', seed: 4, parameters: { maxItems: 2, examples: { train: 24, test: 8 } } });
    const dataset = await openDataset(out);
    for await (const e of dataset.examples('test', { shuffle: false })) {
      expect(e.boxes?.length).toBeGreaterThanOrEqual(1);
      expect(e.boxes?.length).toBeLessThanOrEqual(2);
      expect(e.label).toEqual([...new Set(e.boxes?.map((b) => b.class))].sort((a, b) => a - b));
    }
    // Same flags, same bytes.
    const again = await ddinit([...args, '--out', join(dir, 'composed-again')]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'composed-again', 'train-00000.arrow')).equals(readFileSync(join(out, 'train-00000.arrow')))).toBe(true);
  });

  it('exits 2 for a missing source, a split the source lacks, bad ranges and an existing output, publishing nothing', async () => {
    const compose = (...args: string[]) => ddinit(['data', 'compose', '--log-format', 'json', ...args]);
    const missing = join(dir, 'no-items');
    const gone = await compose('--from', missing, '--out', join(dir, 'compose-none'));
    expect(gone.code).toBe(2);
    expect(gone.error).toContain(`${join(missing, 'manifest.json')}: input does not exist`);
    const val = await compose('--examples', 'val=3', '--out', join(dir, 'compose-none'));
    expect(val.code).toBe(2);
    expect(val.error).toContain("no split 'val'");
    const small = await compose('--size', '16x16', '--out', join(dir, 'compose-none'));
    expect(small.code).toBe(2);
    expect(small.error).toMatch(/scale: composed scenes: scale is out of range.*fit the 16×16 canvas/);
    expect((await compose('--scale', '1.3-0.7', '--out', join(dir, 'compose-none'))).stderr).toContain('0 < min ≤ max');
    expect((await compose('--examples', 'train=0', '--out', join(dir, 'compose-none'))).code).toBe(2);
    expect(existsSync(join(dir, 'compose-none'))).toBe(false);
    const out = join(dir, 'compose-twice');
    expect((await compose('--examples', 'test=2', '--out', out)).code).toBe(0);
    const twice = await compose('--examples', 'test=2', '--out', out);
    expect(twice.code).toBe(2);
    expect(twice.error).toContain('a dataset already exists at the output (--overwrite replaces it)');
  });
});

describe('ddinit data inspect', () => {
  it('reports the embedded Fashion-MNIST sample (by path and as "embedded")', async () => {
    const report = await inspectJson(defaultDatasetPath(), false);
    expect(report.features.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    expect(report.features.image).toMatchObject({ encoding: 'raw', height: 28, width: 28, channels: 1 });
    expect(report.splits.map((s) => [s.name, s.examples])).toEqual([
      ['test', 1000],
      ['train', 3000],
    ]);
    expect(report.verified).toBe(false);

    const verified = await inspectJson('embedded');
    expect(verified.verified).toBe(true);
    expect(verified.splits.find((s) => s.name === 'test')?.labelCounts).toEqual(new Array(10).fill(100));
  });

  it('exits 2 for a directory without a dataset and for a corrupt manifest, naming the file', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const run = await ddinit(['data', 'inspect', empty]);
    expect(run.code).toBe(2);
    expect(run.error).toContain(`${join(empty, 'manifest.json')}: no dataset here (manifest.json does not exist)`);

    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt, { recursive: true });
    writeFileSync(join(corrupt, 'manifest.json'), '{"format": "ddinit-dataset", ');
    const bad = await ddinit(['data', 'inspect', corrupt, '--json']);
    expect(bad.code).toBe(2);
    expect(bad.error).toContain(`${join(corrupt, 'manifest.json')}: manifest is not valid JSON`);
    expect(bad.stdout).toBe('');
  });

  it('exits 2 naming the shard when --verify finds a damaged shard', async () => {
    const source = join(dir, 'idx-damage');
    writeIdxFixture(source, 8);
    const out = join(dir, 'idx-damage-out');
    expect((await ddinit(['data', 'convert', 'idx', ...idxArgs(source), '--class-names', 'a,b,c,d', '--out', out, '--log-format', 'json'])).code).toBe(0);
    const shard = join(out, 'train-00000.arrow');
    const bytes = readFileSync(shard);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(shard, bytes);
    expect((await ddinit(['data', 'inspect', out])).code).toBe(0); // the manifest alone is fine
    const run = await ddinit(['data', 'inspect', out, '--verify', '--json']);
    expect(run.code).toBe(2);
    expect(run.error).toContain('train-00000.arrow');
  });
});

describe('ddinit data --help and flags', () => {
  it.each([
    [['data', '--help'], /convert .*\n.*inspect/s],
    [['data', 'convert', '--help'], /idx[\s\S]*fashion-mnist[\s\S]*cifar10[\s\S]*cifar100[\s\S]*image-folder[\s\S]*voc/],
    [['data', 'convert', 'idx', '--help'], /Example:\n {2}ddinit data convert idx --train-images/],
    [
      ['data', 'convert', 'fashion-mnist', '--help'],
      /--source <dir>[\s\S]*\/usr\/share\/datasets\/fashion-mnist[\s\S]*Example:\n {2}ddinit data convert fashion-mnist/,
    ],
    [['data', 'convert', 'cifar10', '--help'], /Example:\n {2}ddinit data convert cifar10 --source/],
    [['data', 'convert', 'cifar100', '--help'], /--label <label>[\s\S]*"fine", "coarse"[\s\S]*Example:\n {2}ddinit data convert cifar100/],
    [['data', 'convert', 'image-folder', '--help'], /--size <HxW>[\s\S]*Example:\n {2}ddinit data convert image-folder --split train=/],
    [['data', 'convert', 'voc', '--help'], /--task <task>[\s\S]*--no-include-difficult[\s\S]*Example:\n {2}ddinit data convert voc --root/],
    [['data', 'inspect', '--help'], /--verify[\s\S]*--json[\s\S]*Example:\n {2}ddinit data inspect/],
  ])('%j prints help with an example and exits 0', async (args, pattern) => {
    const run = await ddinit(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(pattern);
  });

  it('rejects bad flag values and unknown formats with exit 2', async () => {
    const imageFolder = ['data', 'convert', 'image-folder', '--split', `train=${dir}`, '--out', join(dir, 'x')];
    const size = await ddinit([...imageFolder, '--size', '64by64']);
    expect(size.code).toBe(2);
    expect(size.stderr).toContain("expected HxW (e.g. 64x64), got '64by64'");
    const shard = await ddinit([...imageFolder, '--max-shard-bytes', '1KiB']);
    expect(shard.code).toBe(2);
    expect(shard.stderr).toContain("at least 64KiB, got '1KiB'");
    expect((await ddinit(['data', 'convert', 'voc', '--root', dir, '--task', 'detection', '--out', join(dir, 'x')])).code).toBe(2);
    expect((await ddinit(['data', 'convert', 'cifar10', '--out', join(dir, 'x')])).stderr).toContain("required option '--source <dir>' not specified");
    const unknown = await ddinit(['data', 'convert', 'imagenet', '--out', join(dir, 'x')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'imagenet'");
  });

  it('parses sizes and byte counts', () => {
    expect(parseSize('227x227')).toEqual({ height: 227, width: 227 });
    expect(parseSize('32×48')).toEqual({ height: 32, width: 48 });
    expect(parseSize('64')).toEqual({ height: 64, width: 64 });
    expect(() => parseSize('0x4')).toThrow(/expected HxW/);
    expect(parseByteSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseByteSize('65536')).toBe(65536);
    expect(parseByteSize('1g')).toBe(1024 ** 3);
    expect(() => parseByteSize('64 parsecs')).toThrow(/expected bytes/);
  });
});
