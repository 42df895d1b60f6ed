/**
 * The reference architectures, built by name.
 *
 * | name             | input (default) | description |
 * |------------------|-----------------|-------------|
 * | `caffenet`       | 227×227×3       | BVLC CaffeNet, 1000 classes |
 * | `caffenet-small` | 28×28×1         | CaffeNet's layer sequence for 24–64 px, 10 classes |
 * | `vgg-plain-<N>`  | 32×32×3         | 11 ≤ N ≤ 1000 plain 3×3 convolutions, 10 classes |
 * | `resnet-small`   | 32×32×3         | CIFAR-style ResNet, with/without batch norm, 10 classes |
 *
 * Options are validated with each model's strict zod schema (unknown keys are
 * errors; every option has an explicit default). All models output logits.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '@ddinit/core';
import { buildCaffenet, buildCaffenetSmall, caffenetOptionsSchema, caffenetSmallOptionsSchema } from './caffenet';
import { buildResnetSmall, resnetSmallOptionsSchema } from './resnet-small';
import { buildVggPlain, vggPlainOptionsSchema, vggStageDepths, VGG_PLAIN_MAX_DEPTH, VGG_PLAIN_MIN_DEPTH } from './vgg-plain';

interface Entry<S extends z.ZodType> {
  schema: S;
  build(options: z.output<S>): tf.LayersModel;
}

function entry<S extends z.ZodType>(schema: S, build: (options: z.output<S>) => tf.LayersModel): Entry<S> {
  return { schema, build };
}

const FIXED = {
  caffenet: entry(caffenetOptionsSchema, buildCaffenet),
  'caffenet-small': entry(caffenetSmallOptionsSchema, buildCaffenetSmall),
  'resnet-small': entry(resnetSmallOptionsSchema, buildResnetSmall),
} as const;

type FixedName = keyof typeof FIXED;

/** The registered model names; `vgg-plain-<N>` accepts any 11 ≤ N ≤ 1000. */
export type ModelName = FixedName | `vgg-plain-${number}`;

/** The options (zod input: every key optional) a model name accepts. */
export type ModelOptions<N extends string> = N extends FixedName ? z.input<(typeof FIXED)[N]['schema']> : z.input<typeof vggPlainOptionsSchema>;

/** Depths listed by {@link modelNames} (any 11 ≤ N ≤ 1000 builds). */
const LISTED_VGG_DEPTHS = [11, 16, 19, 30];

const VGG_PATTERN = /^vgg-plain-(\d+)$/;

/**
 * The names {@link buildModel} knows: `caffenet`, `caffenet-small`,
 * `resnet-small` and `vgg-plain-<N>` for N = 11, 16, 19, 30 (any 11 ≤ N ≤ 1000 builds).
 */
export function modelNames(): string[] {
  return [...Object.keys(FIXED), ...LISTED_VGG_DEPTHS.map((n) => `vgg-plain-${n}`)].sort();
}

function lookup(name: string): Entry<z.ZodType> & { vggDepth?: number } {
  if (Object.hasOwn(FIXED, name)) return FIXED[name as FixedName] as unknown as Entry<z.ZodType>;
  const match = VGG_PATTERN.exec(name);
  if (match !== null) {
    const depth = Number(match[1]);
    vggStageDepths(depth); // a depth out of range is a ConfigError naming the range, before anything is built
    return { schema: vggPlainOptionsSchema, build: (o) => buildVggPlain(depth, o as z.output<typeof vggPlainOptionsSchema>), vggDepth: depth };
  }
  throw new ConfigError('unknown model', {
    where: 'model',
    expected: `one of ${Object.keys(FIXED).join(', ')}, vgg-plain-<N> with ${VGG_PLAIN_MIN_DEPTH} ≤ N ≤ ${VGG_PLAIN_MAX_DEPTH} (e.g. ${LISTED_VGG_DEPTHS.map((n) => `vgg-plain-${n}`).join(', ')})`,
    actual: name,
  });
}

/**
 * The strict zod schema of a model's options (for apps that validate a config file).
 *
 * @throws ConfigError for an unknown name, listing the valid ones.
 */
export function modelOptionsSchema(name: string): z.ZodType {
  return lookup(name).schema;
}

/**
 * Validates `options` for model `name` and fills in the defaults.
 *
 * @throws ConfigError for an unknown name, or with zod's pretty-printed issues
 *   for invalid options.
 */
export function parseModelOptions<N extends string>(name: N, options: unknown = {}): z.output<z.ZodType> {
  const result = lookup(name).schema.safeParse(options);
  if (!result.success) {
    throw new ConfigError(`invalid options\n${z.prettifyError(result.error)}`, { where: `model ${name}`, cause: result.error });
  }
  return result.data;
}

/**
 * Builds a reference architecture by name, with freshly drawn, seeded weights
 * (each layer's seed derives from `options.seed` and its name).
 *
 * @throws ConfigError for an unknown name (listing the valid ones), invalid
 *   options, or an input too small for the network.
 * @example
 * const model = buildModel('caffenet-small', { seed: 1 });          // 28×28×1 → 10 logits
 * const deep = buildModel('vgg-plain-30', { inputShape: [28, 28, 1] });
 */
export function buildModel<N extends ModelName>(name: N, options?: ModelOptions<N>): tf.LayersModel;
export function buildModel(name: string, options?: Record<string, unknown>): tf.LayersModel;
export function buildModel(name: string, options: unknown = {}): tf.LayersModel {
  const found = lookup(name);
  return found.build(parseModelOptions(name, options));
}
