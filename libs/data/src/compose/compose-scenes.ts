/**
 * A composed-scenes dataset: PASCAL VOC's three tasks (multi-label
 * classification, segmentation, detection) at small scale, built from a
 * classification dataset of single-channel items (the embedded Fashion-MNIST
 * sample by default, or the full set from `convertFashionMnist`). See
 * {@link composeScene} for what one scene holds.
 *
 * Scene i of split S is drawn from `Rng.fromSeed(seed).derive(S).derive('scene-i')`,
 * using only items of the source's split S (test scenes never show training
 * items); so the same seed, parameters and source give the same shard bytes.
 */
import { createHash } from 'node:crypto';
import { ConfigError, DataError, Rng, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { DatasetManifest } from '../format/manifest';
import { Dataset, openDataset } from '../read/dataset';
import type { BlobStore } from '../storage/blob-store';
import { createDatasetWriter, type DatasetWriter, type DatasetWriterOptions } from '../write/dataset-writer';
import { defaultDatasetPath } from '../embedded/default-dataset';
import { composeScene, type SceneItems, type SceneParameters } from './compose-scene';

export interface ComposeScenesOptions extends Observers {
  output: string | BlobStore;
  /** The items' dataset: raw single-channel images with class labels. Default the embedded Fashion-MNIST sample. */
  from?: string | BlobStore | Dataset;
  /** Scenes per split (each split must exist in the source). Default: as many as the source split has examples. */
  examples?: Record<string, number>;
  /** Root seed (integer). Default 1. */
  seed?: number;
  /** Canvas size. Default 64×64: the largest input `caffenet-small` takes, and 3 items of 20–36 px fit. */
  size?: { height: number; width: number };
  /** Items per scene: 1…maxItems. Default 3. */
  maxItems?: number;
  /** Item scale range (pasted side / source side). Default 0.7–1.3 (20–36 px for 28-px items). */
  scale?: { min: number; max: number };
  name?: string;
  writer?: Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'overwrite' | 'store'>;
}

/** Defaults of everything a scene depends on besides the items and the seed. */
export const COMPOSE_DEFAULTS = {
  seed: 1,
  size: { height: 64, width: 64 },
  maxItems: 3,
  scale: { min: 0.7, max: 1.3 },
  solidLevel: 32,
  gap: 1,
  placementTries: 50,
} as const;

function checkParameters(p: SceneParameters, seed: number, items: { height: number; width: number }): void {
  const fail = (where: string, expected: string, actual: unknown): never => {
    throw new ConfigError(`composed scenes: ${where} is out of range`, { where, expected, actual });
  };
  if (!Number.isInteger(seed)) fail('seed', 'an integer', seed);
  if (!Number.isInteger(p.height) || !Number.isInteger(p.width) || p.height < 8 || p.width < 8 || p.height > 1024 || p.width > 1024) {
    fail('size', 'integer sides in 8…1024', `${p.height}×${p.width}`);
  }
  if (!Number.isInteger(p.maxItems) || p.maxItems < 1 || p.maxItems > 64) fail('maxItems', 'an integer in 1…64', p.maxItems);
  const { min, max } = p.scale;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min > 0 && min <= max)) fail('scale', '0 < min ≤ max', `${min}–${max}`);
  if (Math.round(items.height * min) > p.height || Math.round(items.width * min) > p.width) {
    fail('scale', `items of ${items.height}×${items.width} at the smallest scale fit the ${p.height}×${p.width} canvas`, `min ${min}`);
  }
}

/** Every item of a split, in file order, as one byte array. */
async function loadItems(source: Dataset, split: string): Promise<SceneItems> {
  const f = source.features;
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for await (const example of source.examples(split, { shuffle: false })) {
    images.push(example.image);
    labels.push(example.label as number);
  }
  const height = f.image.encoding === 'raw' ? f.image.height : 0;
  const width = f.image.encoding === 'raw' ? f.image.width : 0;
  const all = new Uint8Array(images.length * height * width);
  images.forEach((image, i) => all.set(image, i * height * width));
  return { count: images.length, height, width, images: all, labels: Int32Array.from(labels) };
}

/** A DataError unless the source holds raw single-channel images with class labels (at most 254 classes, 255 being void). */
function checkSource(source: Dataset): { height: number; width: number } {
  const f = source.features;
  const where = `${source.location} (items for composed scenes)`;
  if (f.image.encoding !== 'raw' || f.image.channels !== 1 || f.label !== 'class' || f.classNames.length === 0 || f.classNames.length > 254) {
    throw new DataError('the source is not a dataset of single-channel items with class labels', {
      where,
      expected: 'raw 1-channel images, label kind class, 1…254 class names (e.g. Fashion-MNIST)',
      actual: `${f.image.encoding} ${f.image.channels}-channel images, label kind ${f.label}, ${f.classNames.length} class names`,
    });
  }
  return { height: f.image.height, width: f.image.width };
}

/** A digest of the source's shards (their SHA-256s by split), so the manifest names the exact items used. */
function sourceDigest(manifest: DatasetManifest): string {
  const hash = createHash('sha256');
  for (const [name, split] of Object.entries(manifest.splits).sort(([a], [b]) => a.localeCompare(b))) {
    for (const shard of split.shards) hash.update(`${name}/${shard.path}:${shard.sha256}\n`);
  }
  return hash.digest('hex');
}

/**
 * Builds the dataset: features multi-label (`['background', …source classes]`),
 * raw masks and boxes; the builder's seed and parameters go into the manifest.
 * @throws ConfigError for parameters out of range, DataError for an unsuitable source
 *   (nothing is published in either case).
 * @example
 * await composeScenes({ output: 'data/composed', seed: 1 }); // from the embedded sample: 3000 train, 1000 test scenes
 */
export async function composeScenes(options: ComposeScenesOptions): Promise<DatasetManifest> {
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const from = options.from ?? defaultDatasetPath();
  const source = from instanceof Dataset ? from : await openDataset(from, { logger });
  const itemSize = checkSource(source);
  const seed = options.seed ?? COMPOSE_DEFAULTS.seed;
  const size = options.size ?? COMPOSE_DEFAULTS.size;
  const params: SceneParameters = {
    ...size,
    maxItems: options.maxItems ?? COMPOSE_DEFAULTS.maxItems,
    scale: options.scale ?? COMPOSE_DEFAULTS.scale,
    solidLevel: COMPOSE_DEFAULTS.solidLevel,
    gap: COMPOSE_DEFAULTS.gap,
    placementTries: COMPOSE_DEFAULTS.placementTries,
  };
  checkParameters(params, seed, itemSize);
  const examples = options.examples ?? Object.fromEntries(source.splitNames.map((name) => [name, source.manifest.splits[name].examples]));
  for (const [split, count] of Object.entries(examples)) {
    source.split(split); // a DataError naming the source when it lacks the split
    if (!Number.isInteger(count) || count < 1)
      throw new ConfigError('composed scenes: scenes per split must be an integer ≥ 1', { where: `examples.${split}`, actual: count });
  }
  const writer = await createDatasetWriter(options.output, {
    ...options.writer,
    name: options.name ?? 'composed-scenes',
    features: {
      image: { encoding: 'raw', height: params.height, width: params.width, channels: 1 },
      label: 'multi',
      mask: 'raw',
      boxes: 'xyxy',
      classNames: ['background', ...source.features.classNames],
      source: `scenes composed by ddinit from ${source.manifest.name}: ${source.features.source}`,
      license: source.features.license,
    },
    builder: {
      name: 'composeScenes',
      seed,
      parameters: { ...params, scale: { ...params.scale }, examples, from: { name: source.manifest.name, shardsSha256: sourceDigest(source.manifest) } },
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    await writeScenes(writer, source, examples, params, Rng.fromSeed(seed), progress);
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  logger.info('composed scenes', { seed, examples: Object.values(examples).reduce((t, n) => t + n, 0) });
  return writer.close();
}

async function writeScenes(
  writer: DatasetWriter,
  source: Dataset,
  examples: Record<string, number>,
  params: SceneParameters,
  root: Rng,
  progress: NonNullable<Observers['progress']>,
): Promise<void> {
  for (const [split, count] of Object.entries(examples)) {
    const items = await loadItems(source, split);
    const task = `compose ${split}`;
    const digits = Math.max(5, String(count - 1).length);
    progress({ task, phase: 'start', completed: 0, total: count });
    const splitRng = root.derive(split);
    for (let i = 0; i < count; i++) {
      const scene = composeScene(items, params, splitRng.derive(`scene-${i}`));
      const id = `${split}-${String(i).padStart(digits, '0')}`;
      await writer.write(split, { id, image: scene.image, label: scene.label, mask: scene.mask, boxes: scene.boxes });
      progress({ task, phase: 'advance', completed: i + 1, total: count, item: id });
    }
    progress({ task, phase: 'end', completed: count, total: count });
  }
}
