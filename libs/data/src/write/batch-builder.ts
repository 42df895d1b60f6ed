/**
 * Collects examples and turns them into one Arrow record batch with the
 * dataset's schema, checking each example against the features on the way in.
 */
import { Binary, FixedSizeList, Float32, Int32, List, RecordBatch, Struct, Uint8, Utf8, makeData, type Data, type Schema } from 'apache-arrow';
import { DataError } from '@ddinit/core';
import { checkBoxes } from '../format/boxes';
import type { Box, Example } from '../format/example';
import { rawImageBytes, type DatasetFeatures } from '../format/features';

const encoder = new TextEncoder();

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function offsetsOf(parts: { byteLength: number }[]): Int32Array {
  const offsets = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].byteLength;
  return offsets;
}

export class BatchBuilder {
  private readonly imageBytes: number | undefined;
  private readonly maskBytes: number | undefined;
  private images: Uint8Array[] = [];
  private labels: number[] = [];
  private multiLabels: number[][] = [];
  private masks: Uint8Array[] = [];
  private boxes: (readonly Box[])[] = [];
  private ids: Uint8Array[] = [];
  private bytes = 0;

  constructor(
    private readonly schema: Schema,
    private readonly features: DatasetFeatures,
    /** For messages: the split and dataset the examples go to. */
    private readonly where: string,
  ) {
    this.imageBytes = rawImageBytes(features);
    const image = features.image;
    this.maskBytes = features.mask === 'raw' && image.encoding === 'raw' ? image.height * image.width : undefined;
  }

  get rows(): number {
    return this.ids.length;
  }

  /** Upper bound of the serialized body size of the batch so far, bytes (buffers padded to 8). */
  get estimatedBytes(): number {
    return this.bytes + 8 * 8 + 512;
  }

  /** Bytes `example` adds to the batch (before padding). */
  sizeOf(example: Example): number {
    const label = this.features.label === 'multi' ? 4 * (1 + ((example.label as number[] | undefined)?.length ?? 0)) : 4;
    const variable = this.features.image.encoding === 'encoded' ? 4 : 0;
    const mask = example.mask === undefined ? 0 : example.mask.byteLength + (this.features.mask === 'encoded' ? 4 : 0);
    const boxes = this.features.boxes === 'none' ? 0 : 4 + 21 * (Array.isArray(example.boxes) ? example.boxes.length : 0);
    return example.image.byteLength + variable + label + mask + boxes + 4 + 3 * example.id.length;
  }

  /** Checks and appends one example. @throws DataError naming the example id and the field. */
  add(example: Example): void {
    const where = `${this.where} example '${example.id}'`;
    if (typeof example.id !== 'string' || example.id.length === 0) {
      throw new DataError('example id must be a non-empty string', { where: this.where, actual: example.id });
    }
    if (!(example.image instanceof Uint8Array)) throw new DataError('image must be a Uint8Array', { where });
    if (this.imageBytes !== undefined && example.image.byteLength !== this.imageBytes) {
      const image = this.features.image;
      throw new DataError('image has the wrong number of bytes', {
        where,
        expected: `${this.imageBytes} (${image.encoding === 'raw' ? `${image.height}×${image.width}×${image.channels}` : ''} HWC)`,
        actual: example.image.byteLength,
      });
    }
    if (this.imageBytes === undefined && example.image.byteLength === 0) {
      throw new DataError('encoded image is empty', { where });
    }
    this.checkLabel(example, where);
    if (this.features.mask === 'none') {
      if (example.mask !== undefined) throw new DataError('example has a mask but the dataset has none', { where });
    } else {
      if (!(example.mask instanceof Uint8Array)) throw new DataError('mask is missing', { where, expected: 'a Uint8Array' });
      if (this.maskBytes !== undefined && example.mask.byteLength !== this.maskBytes) {
        throw new DataError('mask has the wrong number of bytes', { where, expected: this.maskBytes, actual: example.mask.byteLength });
      }
      this.masks.push(example.mask);
    }
    this.addBoxes(example, where);
    this.bytes += this.sizeOf(example);
    this.images.push(example.image);
    this.ids.push(encoder.encode(example.id));
  }

  private checkLabel(example: Example, where: string): void {
    const classes = this.features.classNames.length;
    const checkIndex = (value: unknown): number => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
        throw new DataError('label is not a non-negative integer', { where, actual: value });
      }
      if (classes > 0 && value >= classes) {
        throw new DataError('label is out of range of the class names', { where, expected: `0…${classes - 1}`, actual: value });
      }
      return value;
    };
    switch (this.features.label) {
      case 'none':
        if (example.label !== undefined) throw new DataError('example has a label but the dataset is unlabelled', { where });
        return;
      case 'class':
        if (typeof example.label !== 'number') {
          throw new DataError('label must be one class index', { where, actual: example.label });
        }
        this.labels.push(checkIndex(example.label));
        return;
      case 'multi':
        if (!Array.isArray(example.label)) {
          throw new DataError('label must be a list of class indices', { where, actual: example.label });
        }
        this.multiLabels.push(example.label.map(checkIndex));
        return;
    }
  }

  /**
   * Boxes: a list (possibly empty) exactly when the dataset has boxes; each box's
   * class a class index, its corners finite with x0 < x1 and y0 < y1, inside a raw
   * image (0 ≤ x0, x1 ≤ width; likewise y).
   */
  private addBoxes(example: Example, where: string): void {
    if (this.features.boxes === 'none') {
      if (example.boxes !== undefined) throw new DataError('example has boxes but the dataset has none', { where });
      return;
    }
    if (!Array.isArray(example.boxes))
      throw new DataError('boxes are missing', {
        where,
        expected: 'a list of boxes (possibly empty)',
        actual: example.boxes === undefined ? 'none' : typeof example.boxes,
      });
    checkBoxes(example.boxes, this.features, where);
    this.boxes.push(example.boxes);
  }

  /** The boxes column: a list per row of `Struct<class, x0, y0, x1, y1, difficult>`. */
  private boxesColumn(type: List<Struct>, length: number): Data {
    const all = this.boxes.flat();
    const n = all.length;
    const floats = (key: 'x0' | 'y0' | 'x1' | 'y1') => makeData({ type: new Float32(), length: n, nullCount: 0, data: Float32Array.from(all, (b) => b[key]) });
    const struct = makeData({
      type: type.children[0].type,
      length: n,
      nullCount: 0,
      children: [
        makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(all, (b) => b.class) }),
        floats('x0'),
        floats('y0'),
        floats('x1'),
        floats('y1'),
        makeData({ type: new Uint8(), length: n, nullCount: 0, data: Uint8Array.from(all, (b) => (b.difficult ? 1 : 0)) }),
      ],
    });
    const valueOffsets = offsetsOf(this.boxes.map((l) => ({ byteLength: l.length })));
    return makeData({ type, length, nullCount: 0, valueOffsets, child: struct });
  }

  /** The batch of everything added since the last call; the builder is then empty. */
  build(): RecordBatch {
    const length = this.ids.length;
    const children: Data[] = [];
    const fields = this.schema.fields;
    const field = (name: string) => {
      const found = fields.find((f) => f.name === name);
      if (found === undefined) throw new Error(`batch builder: the schema it built has no '${name}' field`);
      return found;
    };
    const imageType = field('image').type;
    children.push(this.bytesColumn(imageType, this.images, length));
    if (this.features.label === 'class') {
      children.push(makeData({ type: new Int32(), length, nullCount: 0, data: Int32Array.from(this.labels) }));
    } else if (this.features.label === 'multi') {
      const values = Int32Array.from(this.multiLabels.flat());
      const valueOffsets = offsetsOf(this.multiLabels.map((l) => ({ byteLength: l.length })));
      const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
      children.push(makeData({ type: field('label').type as List<Int32>, length, nullCount: 0, valueOffsets, child }));
    }
    if (this.features.mask !== 'none') children.push(this.bytesColumn(field('mask').type, this.masks, length));
    if (this.features.boxes !== 'none') children.push(this.boxesColumn(field('boxes').type as List<Struct>, length));
    const idBytes = concat(
      this.ids,
      this.ids.reduce((t, b) => t + b.byteLength, 0),
    );
    children.push(makeData({ type: new Utf8(), length, nullCount: 0, data: idBytes, valueOffsets: offsetsOf(this.ids) }));

    const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children });
    const batch = new RecordBatch(this.schema, struct);
    this.images = [];
    this.labels = [];
    this.multiLabels = [];
    this.masks = [];
    this.boxes = [];
    this.ids = [];
    this.bytes = 0;
    return batch;
  }

  private bytesColumn(type: unknown, parts: Uint8Array[], length: number): Data {
    const total = parts.reduce((t, b) => t + b.byteLength, 0);
    const values = concat(parts, total);
    if (type instanceof FixedSizeList) {
      const child = makeData({ type: new Uint8(), length: total, nullCount: 0, data: values });
      return makeData({ type, length, nullCount: 0, child });
    }
    if (type instanceof Binary) {
      return makeData({ type, length, nullCount: 0, data: values, valueOffsets: offsetsOf(parts) });
    }
    throw new DataError('unexpected column type', { where: this.where, actual: String(type) });
  }
}
