/**
 * What a dataset's examples hold (the `features` of a manifest): image size and
 * encoding, label kind, mask, class names. Their Arrow schema is in
 * format/arrow-schema.ts, apart, so a manifest can be read without loading Arrow.
 */
import { z } from 'zod';
import { DataError } from '@ddinit/core/base';

/** Version written to `ddinit_format`; readers reject any other. */
export const SHARD_FORMAT_VERSION = '1';

export const imageFeatureSchema = z.discriminatedUnion('encoding', [
  z
    .object({
      encoding: z.literal('raw'),
      height: z.number().int().positive(),
      width: z.number().int().positive(),
      channels: z.number().int().min(1).max(4),
      layout: z.literal('HWC').default('HWC'),
    })
    .strict(),
  z
    .object({
      encoding: z.literal('encoded'),
      /** Channels after decoding (1 = grey, 3 = RGB); sizes vary per image. */
      channels: z.number().int().min(1).max(4),
      layout: z.literal('HWC').default('HWC'),
    })
    .strict(),
]);

export const featuresSchema = z
  .object({
    image: imageFeatureSchema,
    label: z.enum(['class', 'multi', 'none']),
    mask: z.enum(['none', 'raw', 'encoded']).default('none'),
    /** `xyxy`: each example lists its objects' boxes (class, x0, y0, x1, y1 in pixels, difficult). */
    boxes: z.enum(['none', 'xyxy']).default('none'),
    classNames: z.array(z.string()).default([]),
    source: z.string().default(''),
    license: z.string().default(''),
  })
  .strict();

/** Parsed (defaults applied) description of a dataset's examples. */
export type DatasetFeatures = z.output<typeof featuresSchema>;
/** What callers may pass: defaults may be left out. */
export type DatasetFeaturesInput = z.input<typeof featuresSchema>;
export type ImageFeature = DatasetFeatures['image'];
export type LabelKind = DatasetFeatures['label'];

/** Bytes of one raw image (H·W·C), or undefined for encoded images. */
export function rawImageBytes(features: DatasetFeatures): number | undefined {
  const image = features.image;
  return image.encoding === 'raw' ? image.height * image.width * image.channels : undefined;
}

/** Validates and fills defaults; a bad value throws a DataError naming `where`. */
export function parseFeatures(input: unknown, where: string): DatasetFeatures {
  const result = featuresSchema.safeParse(input);
  if (!result.success) {
    throw new DataError(`invalid dataset features: ${z.prettifyError(result.error)}`, { where });
  }
  const features = result.data;
  if (features.mask === 'raw' && features.image.encoding !== 'raw') {
    throw new DataError('a raw mask needs raw images of a fixed size', {
      where,
      expected: 'image.encoding raw',
      actual: features.image.encoding,
    });
  }
  return features;
}

/** A stable text form of features, for comparing the features of two shards. */
export function describeFeatures(features: DatasetFeatures): string {
  return JSON.stringify(features);
}
