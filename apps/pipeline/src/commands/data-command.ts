/**
 * `ddinit data …`: datasets in the ddinit shard format (docs/shard-format.md).
 *
 *   ddinit data convert idx          --out <dir|s3://…> --train-images F --train-labels F [--test-images F --test-labels F]
 *                                    [--class-names 0,1,…] [--per-class-train N] [--per-class-test N]
 *   ddinit data convert fashion-mnist --out … [--source /usr/share/datasets/fashion-mnist] [--per-class-train N] [--per-class-test N]
 *   ddinit data convert cifar10      --out … --source <cifar-10-batches-bin>
 *   ddinit data convert cifar100     --out … --source <cifar-100-binary> [--label fine|coarse]
 *   ddinit data convert image-folder --out … --split train=<dir> [--split val=<dir>] [--size HxW] [--channels 1|3]
 *   ddinit data convert voc          --out … --root <VOCdevkit/VOC2012> --task classification|segmentation
 *                                    [--splits train,val] [--size HxW] [--no-include-difficult]
 *     every format: [--name] [--max-shard-bytes 64MiB] [--overwrite] [--log-format auto|pretty|json]
 *   ddinit data compose --out … [--from embedded|<dataset>] [--seed 1] [--size 64x64] [--max-items 3] [--scale 0.7-1.3]
 *                       [--examples train=N …] [--name] [--max-shard-bytes] [--overwrite] [--log-format]
 *   ddinit data inspect <dir|s3://…> [--verify] [--json]
 *
 * The converters and the report are @ddinit/data's; this file maps flags to
 * their options and shows their progress. A source that does not exist, a
 * malformed file, or an output that already holds a dataset (without
 * `--overwrite`) ends with exit code 2 and a message naming the file.
 */
import { resolve, sep } from 'node:path';
import { ConfigError, DataError, StorageError } from '@ddinit/core';
import {
  COMPOSE_DEFAULTS,
  DEBIAN_FASHION_MNIST_DIR,
  MANIFEST_NAME,
  composeScenes,
  convertCifar,
  convertFashionMnist,
  convertIdx,
  convertImageFolder,
  convertVoc,
  defaultDatasetPath,
  formatDatasetReport,
  inspectDataset,
  openStore,
  type BlobStore,
  type DatasetManifest,
  type IdxSplitFiles,
} from '@ddinit/data';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createConsoleObservers, createResultPrinter, type ConsoleObservers, type LogFormat } from '../observe/console-observers';

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** Where the commands write; tests pass their own streams. */
export interface DataCommandIo {
  /** The result only: the conversion summary, the dataset report. */
  stdout: Stream;
  /** Logs and progress: bars on a terminal, JSON lines otherwise. */
  stderr: Stream;
}

const processIo: DataCommandIo = { stdout: process.stdout, stderr: process.stderr };

interface CommonConvertFlags {
  out: string;
  name?: string;
  maxShardBytes?: number;
  overwrite?: boolean;
  logFormat: LogFormat;
}

interface IdxFlags extends CommonConvertFlags {
  trainImages?: string;
  trainLabels?: string;
  testImages?: string;
  testLabels?: string;
  classNames: string[];
  perClassTrain?: number;
  perClassTest?: number;
  citation?: string;
  license?: string;
}

interface FashionFlags extends CommonConvertFlags {
  source: string;
  perClassTrain?: number;
  perClassTest?: number;
}

interface CifarFlags extends CommonConvertFlags {
  source: string;
  label?: 'fine' | 'coarse';
}

interface ImageFolderFlags extends CommonConvertFlags {
  split: [string, string][];
  size?: { height: number; width: number };
  channels?: '1' | '3';
  citation?: string;
  license?: string;
}

interface VocFlags extends CommonConvertFlags {
  root: string;
  task: 'classification' | 'segmentation';
  splits?: string[];
  size?: { height: number; width: number };
  includeDifficult: boolean;
}

interface ComposeFlags extends CommonConvertFlags {
  from: string;
  seed: number;
  size: { height: number; width: number };
  maxItems: number;
  scale: { min: number; max: number };
  examples?: Record<string, number>;
}

interface InspectFlags {
  verify?: boolean;
  json?: boolean;
  logFormat: LogFormat;
}

// ---- flag parsers (an InvalidArgumentError becomes commander's error: exit 2 with the usage)

function positiveInteger(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got '${value}'`);
    return Number(value);
  };
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** `67108864`, `64MiB`, `64M`, `512KiB`: at least 64 KiB (the writer's lower bound). */
export function parseByteSize(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? BYTE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new InvalidArgumentError(`expected bytes like 67108864, 512KiB or 64MiB, got '${value}'`);
  const bytes = Number(match[1]) * unit;
  if (bytes < 64 * 1024) throw new InvalidArgumentError(`a shard must be allowed at least 64KiB, got '${value}'`);
  return bytes;
}

/** `HxW` (`227x227`, `32×48`) or a single side for a square. */
export function parseSize(value: string): { height: number; width: number } {
  const match = /^(\d+)(?:\s*[x×]\s*(\d+))?$/i.exec(value.trim());
  const height = match ? Number(match[1]) : 0;
  const width = match ? Number(match[2] ?? match[1]) : 0;
  if (!match || height < 1 || width < 1) throw new InvalidArgumentError(`expected HxW (e.g. 64x64), got '${value}'`);
  return { height, width };
}

function list(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list, got '${value}'`);
  return items;
}

function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be an integer ≥ 0, got '${value}'`);
    return Number(value);
  };
}

/** `0.7-1.3` (min-max) or a single scale. */
export function parseScaleRange(value: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?$/.exec(value.trim());
  const min = match ? Number(match[1]) : 0;
  const max = match ? Number(match[2] ?? match[1]) : 0;
  if (!match || min <= 0 || max < min) throw new InvalidArgumentError(`expected a scale range min-max with 0 < min ≤ max (e.g. 0.7-1.3), got '${value}'`);
  return { min, max };
}

/** `train=3000`, repeatable: scenes per split. */
function sceneCounts(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(value.trim());
  if (!match || Number(match[2]) < 1) throw new InvalidArgumentError(`expected <split>=<n> with n ≥ 1 (e.g. train=3000), got '${value}'`);
  if (match[1] in previous) throw new InvalidArgumentError(`split '${match[1]}' is given twice`);
  return { ...previous, [match[1]]: Number(match[2]) };
}

function splitAssignment(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=');
  const name = value.slice(0, at);
  const dir = value.slice(at + 1);
  if (at < 1 || dir === '' || !/^[A-Za-z0-9_-]+$/.test(name))
    throw new InvalidArgumentError(`expected <split>=<dir> (split of letters, digits, _ and -), got '${value}'`);
  if (previous.some(([n]) => n === name)) throw new InvalidArgumentError(`split '${name}' is given twice`);
  return [...previous, [name, dir]];
}

// ---- errors that are the user's input, said so

function errnoOf(error: StorageError): string | undefined {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

function isUnder(path: string, roots: string[]): boolean {
  const absolute = resolve(path);
  return roots.some((root) => {
    const r = resolve(root);
    return absolute === r || absolute.startsWith(r + sep);
  });
}

const MISSING_INPUT: Record<string, string> = {
  ENOENT: 'input does not exist',
  ENOTDIR: 'input path has a file where a directory is expected',
  EISDIR: 'input is a directory, a file is expected',
};

/**
 * The converters report an unreadable source file as a StorageError (an I/O
 * failure, exit 1); a file that is not there, under the sources the user named,
 * is bad input instead: a DataError naming the file (exit 2).
 */
function sourceErrorAsDataError(error: unknown, sources: string[]): unknown {
  if (!(error instanceof StorageError) || error.where === undefined) return error;
  const code = errnoOf(error);
  const message = code === undefined ? undefined : MISSING_INPUT[code];
  if (message === undefined || !isUnder(error.where, sources)) return error;
  return new DataError(message, { where: error.where, cause: error });
}

function isNotFound(error: StorageError): boolean {
  const cause = error.cause as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  return (
    cause?.code === 'ENOENT' ||
    cause?.code === 'ENOTDIR' ||
    cause?.name === 'NoSuchKey' ||
    cause?.name === 'NotFound' ||
    cause?.$metadata?.httpStatusCode === 404
  );
}

// ---- observers and output

function observersFor(format: LogFormat, io: DataCommandIo): ConsoleObservers {
  return createConsoleObservers({ format, stream: io.stderr });
}

function defaultName(out: string): string {
  const segments = out
    .replace(/^s3:\/\//, '')
    .split(/[\\/]/)
    .filter((s) => s !== '' && s !== '.');
  return segments.at(-1) ?? 'dataset';
}

/**
 * The fields of `fields` whose value is defined: a flag the user left out leaves
 * its option out, so the converter's own default applies.
 */
function definedOnly<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function writerOptions(flags: CommonConvertFlags): { maxShardBytes?: number; overwrite?: boolean } {
  return definedOnly({ maxShardBytes: flags.maxShardBytes, overwrite: flags.overwrite ? true : undefined });
}

/** What every converter takes from the common flags and the console: shard writing, logs and progress. */
function converterIo(flags: CommonConvertFlags, observers: ConsoleObservers) {
  return { writer: writerOptions(flags), logger: observers.logger, progress: observers.progress };
}

/** `--citation` and `--license`, for the converters of user data (the others know their source). */
function provenance(flags: { citation?: string; license?: string }): { source?: string; license?: string } {
  return definedOnly({ source: flags.citation, license: flags.license });
}

interface ConvertContext {
  output: BlobStore;
  observers: ConsoleObservers;
}

/**
 * Runs one converter: checks the output first (an existing dataset without
 * `--overwrite` is a configuration error, before any work), shows progress,
 * prints the summary.
 */
async function runConvert(
  format: string,
  flags: CommonConvertFlags,
  sources: string[],
  io: DataCommandIo,
  convert: (context: ConvertContext) => Promise<DatasetManifest>,
  /** The summary's first words. */
  done = `converted ${format}`,
): Promise<void> {
  const output = openStore(flags.out);
  if (!flags.overwrite && (await output.exists(MANIFEST_NAME))) {
    throw new ConfigError('a dataset already exists at the output (--overwrite replaces it)', { where: output.describe(MANIFEST_NAME) });
  }
  const observers = observersFor(flags.logFormat, io);
  let manifest: DatasetManifest;
  try {
    manifest = await convert({ output, observers });
  } catch (error) {
    throw sourceErrorAsDataError(error, sources);
  } finally {
    observers.close();
  }
  const splits = Object.fromEntries(Object.entries(manifest.splits).map(([name, s]) => [name, { examples: s.examples, shards: s.shards.length }]));
  const examples = Object.values(manifest.splits).reduce((t, s) => t + s.examples, 0);
  const perSplit = Object.entries(splits)
    .map(([name, s]) => `${name} ${s.examples} (${s.shards} shard${s.shards === 1 ? '' : 's'})`)
    .join(', ');
  createResultPrinter(flags.logFormat, io.stdout).print({
    text: `${done} → ${output.location}: ${manifest.name}, ${examples} examples; ${perSplit}; ${manifest.features.classNames.length} classes`,
    json: { format, out: output.location, name: manifest.name, examples, splits, classes: manifest.features.classNames.length },
  });
}

// ---- the commands

const LOG_FORMAT = () =>
  new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto');

function addCommonConvertFlags(command: Command, example: string): Command {
  return command
    .requiredOption('--out <location>', 'output directory or s3://bucket/prefix')
    .option(
      '--name <name>',
      "dataset name in manifest.json (default: the converter's, e.g. cifar10 or voc-segmentation; for idx and image-folder the last segment of --out)",
    )
    .option('--max-shard-bytes <bytes>', 'upper bound of one shard file, e.g. 64MiB (default 64MiB)', parseByteSize)
    .option('--overwrite', 'replace a dataset that exists at --out')
    .addOption(LOG_FORMAT())
    .addHelpText('after', `\nExample:\n  ${example}\n`);
}

function idxSplit(split: string, images: string | undefined, labels: string | undefined, perClass: number | undefined): IdxSplitFiles | undefined {
  if (images === undefined && labels === undefined) return undefined;
  if (images === undefined || labels === undefined) {
    throw new ConfigError(`--${split}-images and --${split}-labels go together`, {
      where: `--${split}-${images === undefined ? 'images' : 'labels'}`,
      expected: 'a file',
      actual: 'missing',
    });
  }
  return { images, labels, ...definedOnly({ perClass }) };
}

function registerIdx(convert: Command, io: DataCommandIo): void {
  addCommonConvertFlags(
    convert.command('idx').description('MNIST-style IDX files (gzipped or raw): images [N,H,W] and labels [N] per split, train and/or test'),
    'ddinit data convert idx --train-images train-images-idx3-ubyte.gz --train-labels train-labels-idx1-ubyte.gz --test-images t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-ubyte.gz --out data/mnist',
  )
    .option('--train-images <file>', 'IDX images of the train split')
    .option('--train-labels <file>', 'IDX labels of the train split')
    .option('--test-images <file>', 'IDX images of the test split')
    .option('--test-labels <file>', 'IDX labels of the test split')
    .option('--class-names <names>', 'comma-separated class names, label k = k-th name', list, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    .option('--per-class-train <n>', 'keep the first n examples of each class of train', positiveInteger('--per-class-train'))
    .option('--per-class-test <n>', 'keep the first n examples of each class of test', positiveInteger('--per-class-test'))
    .option('--citation <text>', "where the data comes from (manifest 'source')")
    .option('--license <text>', 'license of the data (manifest)')
    .action(async (flags: IdxFlags) => {
      const splits: Record<string, IdxSplitFiles> = {};
      const train = idxSplit('train', flags.trainImages, flags.trainLabels, flags.perClassTrain);
      const test = idxSplit('test', flags.testImages, flags.testLabels, flags.perClassTest);
      if (train) splits.train = train;
      if (test) splits.test = test;
      if (!train && !test)
        throw new ConfigError('no IDX files given', {
          where: 'ddinit data convert idx',
          expected: '--train-images/--train-labels and/or --test-images/--test-labels',
        });
      const sources = Object.values(splits).flatMap((s) => [s.images, s.labels]);
      await runConvert('idx', flags, sources, io, ({ output, observers }) =>
        convertIdx({
          splits,
          output,
          name: flags.name ?? defaultName(flags.out),
          classNames: flags.classNames,
          ...provenance(flags),
          ...converterIo(flags, observers),
        }),
      );
    });
}

function registerFashionMnist(convert: Command, io: DataCommandIo): void {
  addCommonConvertFlags(
    convert
      .command('fashion-mnist')
      .description(`Fashion-MNIST (train and t10k IDX files; default Debian's dataset-fashion-mnist in ${DEBIAN_FASHION_MNIST_DIR})`),
    'ddinit data convert fashion-mnist --out s3://datasets/fashion-mnist',
  )
    .option('--source <dir>', 'directory with the four *-idx?-ubyte.gz files', DEBIAN_FASHION_MNIST_DIR)
    .option('--per-class-train <n>', 'keep the first n training examples of each class', positiveInteger('--per-class-train'))
    .option('--per-class-test <n>', 'keep the first n test examples of each class', positiveInteger('--per-class-test'))
    .action(async (flags: FashionFlags) => {
      const perClass = definedOnly({ train: flags.perClassTrain, test: flags.perClassTest });
      await runConvert('fashion-mnist', flags, [flags.source], io, ({ output, observers }) =>
        convertFashionMnist({ output, sourceDir: flags.source, perClass, ...definedOnly({ name: flags.name }), ...converterIo(flags, observers) }),
      );
    });
}

const CIFAR_HELP = {
  cifar10: {
    description: 'CIFAR-10, binary version: data_batch_1..5.bin, test_batch.bin and batches.meta.txt (32×32×3, 10 classes)',
    example: 'ddinit data convert cifar10 --source cifar-10-batches-bin --out data/cifar10',
    source: 'the extracted cifar-10-batches-bin directory',
  },
  cifar100: {
    description: 'CIFAR-100, binary version: train.bin, test.bin and fine/coarse_label_names.txt (32×32×3, 100 or 20 classes)',
    example: 'ddinit data convert cifar100 --source cifar-100-binary --label coarse --out data/cifar100-coarse',
    source: 'the extracted cifar-100-binary directory',
  },
} as const;

/** `cifar10` and `cifar100` (only the latter has `--label`). */
function registerCifar(convert: Command, variant: keyof typeof CIFAR_HELP, io: DataCommandIo): void {
  const help = CIFAR_HELP[variant];
  const command = addCommonConvertFlags(convert.command(variant).description(help.description), help.example).requiredOption('--source <dir>', help.source);
  if (variant === 'cifar100') command.addOption(new Option('--label <label>', 'which label to keep').choices(['fine', 'coarse']).default('fine'));
  command.action(async (flags: CifarFlags) => {
    await runConvert(variant, flags, [flags.source], io, ({ output, observers }) =>
      convertCifar({ sourceDir: flags.source, variant, output, ...definedOnly({ label: flags.label, name: flags.name }), ...converterIo(flags, observers) }),
    );
  });
}

function registerImageFolder(convert: Command, io: DataCommandIo): void {
  addCommonConvertFlags(
    convert
      .command('image-folder')
      .description('a folder of class subfolders of PNG/JPEG images per split (<dir>/<class>/<image>); classes are the sorted subfolder names'),
    'ddinit data convert image-folder --split train=flowers/train --split val=flowers/val --size 64x64 --out data/flowers64',
  )
    .requiredOption('--split <name=dir>', 'a split and its folder; repeat for more splits', splitAssignment)
    .option('--size <HxW>', 'decode and resize to HxW, store raw pixels (default: keep the encoded files)', parseSize)
    .addOption(new Option('--channels <n>', 'channels after decoding').choices(['1', '3']).default('3'))
    .option('--citation <text>', "where the data comes from (manifest 'source')")
    .option('--license <text>', 'license of the data (manifest)')
    .action(async (flags: ImageFolderFlags) => {
      const splits = Object.fromEntries(flags.split);
      await runConvert('image-folder', flags, Object.values(splits), io, ({ output, observers }) =>
        convertImageFolder({
          splits,
          output,
          name: flags.name ?? defaultName(flags.out),
          ...definedOnly({ size: flags.size }),
          channels: flags.channels === '1' ? 1 : 3,
          ...provenance(flags),
          ...converterIo(flags, observers),
        }),
      );
    });
}

function registerVoc(convert: Command, io: DataCommandIo): void {
  addCommonConvertFlags(
    convert
      .command('voc')
      .description('PASCAL VOC (VOCdevkit/VOC2007 or VOC2012): multi-label classification from Annotations, or segmentation masks from SegmentationClass'),
    'ddinit data convert voc --root VOCdevkit/VOC2012 --task segmentation --splits train,val --size 227x227 --out s3://datasets/voc2012-seg',
  )
    .requiredOption('--root <dir>', 'the year folder, e.g. VOCdevkit/VOC2012')
    .addOption(
      new Option('--task <task>', 'classification (multi-label) or segmentation (masks)').choices(['classification', 'segmentation']).makeOptionMandatory(),
    )
    .option('--splits <names>', 'comma-separated image sets of ImageSets/Main or ImageSets/Segmentation (default train,val)', list)
    .option('--size <HxW>', 'resize images (bilinear) and masks (nearest) to HxW, store raw (default: keep the JPEG/PNG files)', parseSize)
    .option('--no-include-difficult', 'classification: leave objects marked difficult out of the labels')
    .action(async (flags: VocFlags) => {
      await runConvert('voc', flags, [flags.root], io, ({ output, observers }) =>
        convertVoc({
          root: flags.root,
          task: flags.task,
          includeDifficult: flags.includeDifficult,
          output,
          ...definedOnly({ splits: flags.splits, size: flags.size, name: flags.name }),
          ...converterIo(flags, observers),
        }),
      );
    });
}

/** `ddinit data convert <format>`: one subcommand per converter, each with the common flags. */
function registerConvert(data: Command, io: DataCommandIo): void {
  const convert = data
    .command('convert')
    .description('convert a dataset into ddinit shards (Arrow IPC + manifest.json) in a directory or S3 prefix')
    .addHelpText('after', '\nExample:\n  ddinit data convert fashion-mnist --out s3://datasets/fashion-mnist\n');
  registerIdx(convert, io);
  registerFashionMnist(convert, io);
  registerCifar(convert, 'cifar10', io);
  registerCifar(convert, 'cifar100', io);
  registerImageFolder(convert, io);
  registerVoc(convert, io);
}

function registerCompose(data: Command, io: DataCommandIo): void {
  addCommonConvertFlags(
    data
      .command('compose')
      .description(
        "composed scenes for VOC's three tasks at small scale: Fashion-MNIST items on a textured background, with multi-hot labels, masks (255 on blended borders) and boxes",
      ),
    'ddinit data compose --from data/fashion-mnist --examples train=20000 --examples test=2000 --seed 3 --out data/composed',
  )
    .option('--from <dataset>', "dataset of single-channel items with class labels ('embedded': the Fashion-MNIST sample)", 'embedded')
    .option('--seed <n>', 'root seed: the same seed and flags give the same bytes', nonNegativeInteger('--seed'), COMPOSE_DEFAULTS.seed)
    .addOption(
      new Option('--size <HxW>', 'canvas size (caffenet-small takes up to 64x64)')
        .argParser(parseSize)
        .default({ ...COMPOSE_DEFAULTS.size }, `${COMPOSE_DEFAULTS.size.height}x${COMPOSE_DEFAULTS.size.width}`),
    )
    .option('--max-items <n>', 'items per scene: 1…n', positiveInteger('--max-items'), COMPOSE_DEFAULTS.maxItems)
    .addOption(
      new Option('--scale <min-max>', 'item scale range (pasted side / item side)')
        .argParser(parseScaleRange)
        .default({ ...COMPOSE_DEFAULTS.scale }, `${COMPOSE_DEFAULTS.scale.min}-${COMPOSE_DEFAULTS.scale.max}`),
    )
    .option('--examples <split=n>', 'scenes of a split (repeat per split; default: as many as the source split has items)', sceneCounts)
    .action(async (flags: ComposeFlags) => {
      const from = flags.from === 'embedded' ? defaultDatasetPath() : flags.from;
      const examples = flags.examples;
      await runConvert(
        'compose',
        flags,
        [from],
        io,
        ({ output, observers }) =>
          composeScenes({
            from,
            output,
            seed: flags.seed,
            size: flags.size,
            maxItems: flags.maxItems,
            scale: flags.scale,
            ...definedOnly({ examples, name: flags.name }),
            ...converterIo(flags, observers),
          }),
        'composed scenes',
      );
    });
}

async function runInspect(location: string, flags: InspectFlags, io: DataCommandIo): Promise<void> {
  const observers = observersFor(flags.logFormat, io);
  let report;
  try {
    report = await inspectDataset(location, { verify: flags.verify === true, logger: observers.logger, progress: observers.progress });
  } catch (error) {
    if (error instanceof StorageError && error.where?.endsWith(MANIFEST_NAME) && isNotFound(error)) {
      throw new DataError('no dataset here (manifest.json does not exist)', { where: error.where, cause: error });
    }
    throw error;
  } finally {
    observers.close();
  }
  // A report to read unless --json: --log-format is about the logs and progress on stderr.
  io.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatDatasetReport(report)}\n`);
}

export function registerDataCommand(program: Command, io: DataCommandIo = processIo): void {
  const data = program
    .command('data')
    .description('convert datasets into ddinit shards and inspect them')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  registerConvert(data, io);
  registerCompose(data, io);

  data
    .command('inspect')
    .description('splits, examples, classes, image shape and shards of a dataset; --verify reads every shard and checks it')
    .argument('<location>', "dataset directory, file:// URL or s3://bucket/prefix ('embedded' for the sample that ships with ddinit)")
    .option('--verify', 'read every shard in full: size, magic, schema, rows and SHA-256; counts examples per class')
    .option('--json', 'print the report as one JSON object')
    .addOption(LOG_FORMAT())
    .addHelpText('after', '\nExample:\n  ddinit data inspect s3://datasets/fashion-mnist --verify\n')
    .action(async (location: string, flags: InspectFlags) => {
      await runInspect(location === 'embedded' ? defaultDatasetPath() : location, flags, io);
    });
}
