/**
 * How a dataset's features map onto the Arrow schema of a shard (see docs/shard-format.md).
 *
 * Columns, in this order:
 * - `image`: `FixedSizeList<Uint8>[H·W·C]` (encoding `raw`, HWC bytes) or `Binary`
 *   (encoding `encoded`, a PNG or JPEG file per row);
 * - `label`: `Int32` (kind `class`) or `List<Int32>` (kind `multi`); absent for kind `none`;
 * - `mask` (optional): `FixedSizeList<Uint8>[H·W]` (`raw`) or `Binary` PNG (`encoded`),
 *   one class index per pixel;
 * - `boxes` (optional, boxes `xyxy`): `List<Struct<class: Int32, x0, y0, x1, y1: Float32,
 *   difficult: Uint8>>`, the objects of the image in pixels (x0 ≤ x < x1, y0 ≤ y < y1);
 * - `id`: `Utf8`.
 *
 * Schema metadata (all values strings): `ddinit_format` (`"1"`), `height`, `width`,
 * `channels`, `layout` (`HWC`), `image_encoding`, `label_kind`, `mask_encoding`,
 * `class_names` (a JSON array), `source`, `license`; `box_encoding` only when the
 * shard has boxes (absent means none, so shards written before boxes existed read unchanged).
 */
import { Binary, Field, FixedSizeList, Float32, Int32, List, Schema, Struct, Uint8, Utf8, type DataType } from 'apache-arrow';
import { DataError } from '@ddinit/core/base';
import { SHARD_FORMAT_VERSION, parseFeatures, type DatasetFeatures } from './features';

/** The Arrow schema of every shard of a dataset with these features. */
export function featuresToSchema(features: DatasetFeatures): Schema {
  const fields: Field[] = [];
  const image = features.image;
  fields.push(
    new Field(
      'image',
      image.encoding === 'raw' ? new FixedSizeList(image.height * image.width * image.channels, new Field('pixel', new Uint8(), false)) : new Binary(),
      false,
    ),
  );
  if (features.label === 'class') fields.push(new Field('label', new Int32(), false));
  if (features.label === 'multi') fields.push(new Field('label', new List(new Field('item', new Int32(), false)), false));
  if (features.mask === 'raw' && image.encoding === 'raw') {
    fields.push(new Field('mask', new FixedSizeList(image.height * image.width, new Field('class', new Uint8(), false)), false));
  }
  if (features.mask === 'encoded') fields.push(new Field('mask', new Binary(), false));
  if (features.boxes === 'xyxy') fields.push(new Field('boxes', new List(new Field('box', boxStructType(), false)), false));
  fields.push(new Field('id', new Utf8(), false));

  const metadata = new Map<string, string>([
    ['ddinit_format', SHARD_FORMAT_VERSION],
    ['height', image.encoding === 'raw' ? String(image.height) : '0'],
    ['width', image.encoding === 'raw' ? String(image.width) : '0'],
    ['channels', String(image.channels)],
    ['layout', image.layout],
    ['image_encoding', image.encoding],
    ['label_kind', features.label],
    ['mask_encoding', features.mask],
    ['class_names', JSON.stringify(features.classNames)],
    ['source', features.source],
    ['license', features.license],
  ]);
  if (features.boxes !== 'none') metadata.set('box_encoding', features.boxes);
  return new Schema(fields, metadata);
}

/** The fields of one box, in column order: `BOX_FIELDS[k]` is child k of the struct. */
export const BOX_FIELDS = ['class', 'x0', 'y0', 'x1', 'y1', 'difficult'] as const;

/** `Struct<class: Int32, x0, y0, x1, y1: Float32, difficult: Uint8>`: one object's box. */
export function boxStructType(): Struct {
  return new Struct([
    new Field('class', new Int32(), false),
    ...(['x0', 'y0', 'x1', 'y1'] as const).map((name) => new Field(name, new Float32(), false)),
    new Field('difficult', new Uint8(), false),
  ]);
}

function requireKey(metadata: Map<string, string>, key: string, where: string): string {
  const value = metadata.get(key);
  if (value === undefined) {
    throw new DataError(`schema metadata lacks key '${key}'`, { where, expected: `a '${key}' entry`, actual: 'none' });
  }
  return value;
}

function parseIntKey(metadata: Map<string, string>, key: string, where: string): number {
  const text = requireKey(metadata, key, where);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new DataError(`schema metadata '${key}' is not a non-negative integer`, { where, actual: text });
  }
  return value;
}

/** Reads the features back from a shard's schema metadata (DataError if absent or malformed). */
export function schemaToFeatures(schema: Schema, where: string): DatasetFeatures {
  const metadata = schema.metadata;
  const version = requireKey(metadata, 'ddinit_format', where);
  if (version !== SHARD_FORMAT_VERSION) {
    throw new DataError('unsupported shard format version', { where, expected: SHARD_FORMAT_VERSION, actual: version });
  }
  const encoding = requireKey(metadata, 'image_encoding', where);
  let classNames: unknown;
  try {
    classNames = JSON.parse(requireKey(metadata, 'class_names', where));
  } catch (cause) {
    throw new DataError("schema metadata 'class_names' is not JSON", { where, cause });
  }
  const image =
    encoding === 'raw'
      ? {
          encoding,
          height: parseIntKey(metadata, 'height', where),
          width: parseIntKey(metadata, 'width', where),
          channels: parseIntKey(metadata, 'channels', where),
          layout: requireKey(metadata, 'layout', where),
        }
      : { encoding, channels: parseIntKey(metadata, 'channels', where), layout: requireKey(metadata, 'layout', where) };
  const features = parseFeatures(
    {
      image,
      label: requireKey(metadata, 'label_kind', where),
      mask: requireKey(metadata, 'mask_encoding', where),
      boxes: metadata.get('box_encoding') ?? 'none',
      classNames,
      source: metadata.get('source') ?? '',
      license: metadata.get('license') ?? '',
    },
    where,
  );
  checkSchemaFields(schema, features, where);
  return features;
}

function describeType(type: DataType): string {
  return String(type);
}

/** One line per column, `name: type`, for comparing and printing schemas. */
export function describeSchemaFields(schema: Schema): string {
  return schema.fields.map((field) => `${field.name}: ${describeType(field.type)}`).join('; ');
}

/** Throws a DataError unless the schema's columns are exactly those `features` imply. */
export function checkSchemaFields(schema: Schema, features: DatasetFeatures, where: string): void {
  const expected = describeSchemaFields(featuresToSchema(features));
  const actual = describeSchemaFields(schema);
  if (expected !== actual) {
    throw new DataError('shard columns do not match the dataset features', { where, expected, actual });
  }
}
